import { getConfig } from '../../config/config';
import type { CurrentUser, TokenClaims } from '../../http/request-context';
import { setBounded } from '../../lib/bounded-map';
import { findSessionUser } from './sessions-repository';

interface Entry {
  user: CurrentUser | null;
  userId: number;
  expiresAt: number;
}

// Bounded: a flood of tokens for many sessions cannot grow it without limit.
const MAX_ENTRIES = 10_000;
const cache = new Map<string, Entry>();

/**
 * The caller's current state (active, role) and that the token's session has not ended, trusted for
 * AUTH_CACHE_TTL_MS: a deactivated user or an ended session is refused on every instance within that
 * time, without every request paying a query. Null when refused. A cached answer is returned as is,
 * not as a promise: nearly every authenticated request takes that path.
 */
export function resolveCurrentUser(claims: TokenClaims): CurrentUser | null | Promise<CurrentUser | null> {
  const now = Date.now();
  const hit = cache.get(claims.sessionId);
  if (hit && hit.expiresAt > now && hit.userId === claims.userId) return hit.user;
  return findSessionUser(claims.sessionId, claims.userId).then((user) => {
    setBounded(cache, claims.sessionId, { user, userId: claims.userId, expiresAt: now + getConfig().auth.cacheTtlMs }, MAX_ENTRIES);
    return user;
  });
}

/** Drops this instance's copies for the user at once (the user was changed or deleted here). */
export function forgetCurrentUser(userId: number): void {
  for (const [sessionId, entry] of cache) if (entry.userId === userId) cache.delete(sessionId);
}

/** Drops this instance's copy of one session (it was ended here). */
export function forgetSession(sessionId: string): void {
  cache.delete(sessionId);
}
