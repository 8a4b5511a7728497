import { getConfig } from '../../config/config';
import type { ResolvedKey } from '../../http/authenticate';
import type { CallerKey } from '../../http/request-context';
import { setBounded } from '../../lib/bounded-map';
import { sameSecret } from '../../lib/same-secret';
import { getLogger } from '../../logging/logger';
import { parseKey, secretMatches } from './keys-format';
import { findKeyForAuth, touchKey, type KeyForAuth } from './keys-repository';

interface Entry {
  /** Null: no key has this public id. */
  key: KeyForAuth | null;
  fetchedAt: number;
  /** The key as requests carry it (req.apiKey), made once per lookup. */
  caller?: CallerKey;
  /** The secret last found to hash to the stored hash: the same secret again is compared, not hashed. */
  verified?: string;
}

// Bounded, as the session cache: a flood of made-up ids cannot grow it without limit. Ids no key has
// are kept apart (well-formed keys are easy to make: the checksum is public), so that such a flood
// cannot push the real keys out and make their requests look up again.
const MAX_ENTRIES = 10_000;
const cache = new Map<string, Entry>();
const unknown = new Map<string, Entry>();
/**
 * Bumped by every forget: a lookup that started before a key was revoked (or its owner changed) here
 * answers its own request, but does not put the row it read into the cache.
 */
let generation = 0;
/** When this instance last recorded each key's use. */
const touched = new Map<string, number>();
const TOUCH_EVERY_MS = 60_000;

/** Writes in flight (settleKeyUses). */
const pending = new Set<Promise<void>>();

function recordUse(publicId: string, from: string | undefined): void {
  const now = Date.now();
  const last = touched.get(publicId);
  if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
  setBounded(touched, publicId, now, MAX_ENTRIES);
  // Never on the request's path: a failed write (the primary is away) only loses one timestamp.
  const write = touchKey(publicId, from)
    .catch((err: unknown) => getLogger().warn({ err, keyId: publicId }, "could not record an API key's use"))
    .finally(() => pending.delete(write));
  pending.add(write);
}

/** Resolves once the uses being written are written (or failed): before the pool closes. */
export async function settleKeyUses(): Promise<void> {
  await Promise.allSettled([...pending]);
}

function admit(entry: Entry, secret: string, from: string | undefined, now: number): ResolvedKey | null {
  const key = entry.key;
  if (!key || key.revoked || !key.owner || key.expiresAt.getTime() <= now) return null;
  if (entry.verified === undefined || !sameSecret(secret, entry.verified)) {
    if (!secretMatches(secret, key.secretHash)) return null;
    entry.verified = secret;
  }
  entry.caller ??= { id: key.publicId, name: key.name, ownerId: key.ownerId, scopes: key.scopes };
  const publicId = key.publicId;
  return { key: entry.caller, owner: key.owner, recordUse: () => recordUse(publicId, from) };
}

/**
 * The key's owner now and the key, or null when refused: malformed or with a wrong checksum (no lookup),
 * unknown, wrong secret, revoked, expired, or its owner inactive. The key's row and its owner's state
 * are trusted for AUTH_CACHE_TTL_MS, as a token's session is (a revocation elsewhere is seen within
 * that time; here at once: forgetKey). Expiry is checked on every request. A cached answer comes back
 * as is, not as a promise.
 */
export function resolveKey(presented: string, from: string | undefined): ResolvedKey | null | Promise<ResolvedKey | null> {
  const parsed = parseKey(presented);
  if (!parsed) return null;
  const now = Date.now();
  const hit = cache.get(parsed.publicId) ?? unknown.get(parsed.publicId);
  if (hit && hit.fetchedAt + getConfig().auth.cacheTtlMs > now) return admit(hit, parsed.secret, from, now);
  const started = generation;
  return findKeyForAuth(parsed.publicId).then((key) => {
    const entry: Entry = { key, fetchedAt: now };
    if (started === generation) {
      setBounded(key === null ? unknown : cache, parsed.publicId, entry, MAX_ENTRIES);
    }
    return admit(entry, parsed.secret, from, Date.now());
  });
}

/** Drops this instance's copy of one key (revoked here). */
export function forgetKey(publicId: string): void {
  generation += 1;
  cache.delete(publicId);
}

/** Drops this instance's copies of a user's keys (the user was changed or deleted here). */
export function forgetKeysOf(userId: number): void {
  generation += 1;
  for (const [id, entry] of cache) if (entry.key?.ownerId === userId) cache.delete(id);
}
