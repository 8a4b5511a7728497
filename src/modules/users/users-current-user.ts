import { getConfig } from '../../config/config';
import type { CurrentUser, TokenClaims } from '../../http/request-context';
import { findActiveUser } from './users-repository';

interface Entry {
  user: CurrentUser | null;
  expiresAt: number;
}

// Bounded: a flood of tokens for many users cannot grow it without limit.
const MAX_ENTRIES = 10_000;
const cache = new Map<number, Entry>();

/**
 * The caller's current state (active, role), trusted for AUTH_CACHE_TTL_MS: a deactivated user is
 * refused without every request paying a query. Null when deleted or deactivated.
 */
export async function resolveCurrentUser(claims: TokenClaims): Promise<CurrentUser | null> {
  const now = Date.now();
  const hit = cache.get(claims.userId);
  if (hit && hit.expiresAt > now) return hit.user;
  const user = await findActiveUser(claims.userId);
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(claims.userId, { user, expiresAt: now + getConfig().auth.cacheTtlMs });
  return user;
}

/** Drops this instance's copy at once (the user was changed or deleted here). */
export function forgetCurrentUser(userId: number): void {
  cache.delete(userId);
}
