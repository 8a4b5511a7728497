import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { getConfig } from '../../config/config';
import { AppError } from '../../http/errors';
import { limitOptions } from '../../http/rate-limit-store';

const WINDOW_MS = 60_000;

/**
 * Per key (docs/api.md §9): API_KEY_RATE_LIMIT_PER_MINUTE requests a minute (0: no limit), then 429 with
 * Retry-After, and the draft-7 `RateLimit` headers on every answer. Applied after the key is admitted: a
 * refused key costs no count, a token none at all.
 * - With REDIS_URL every instance shares the count: express-rate-limit with the Redis store (a round
 *   trip to Redis per request, as the login limits).
 * - Without it, each process counts alone, in one fixed window for every key, synchronously: on the path
 *   of every request made with a key, express-rate-limit's middleware (four awaits, its memory store)
 *   cost 15–20 % of a read by id (`npm run bench -- --framework`: 0.76–0.80× the token's req/s with it,
 *   0.95× with no limit).
 */
export function keyRateLimit(): RequestHandler {
  const limit = getConfig().auth.apiKeyRateLimitPerMinute;
  if (limit === 0) return (_req, _res, next) => next();
  if (getConfig().redisUrl !== undefined) {
    // No validations: start-up checks of the options, but singleCount keeps every request in a WeakMap.
    return rateLimit({ ...limitOptions('key', WINDOW_MS), limit, keyGenerator: (req) => req.apiKey?.id ?? '', validate: false });
  }
  const policy = `${limit};w=${WINDOW_MS / 1000}`;
  let resetAt = 0;
  const used = new Map<string, number>();
  return (req, res, next) => {
    const now = Date.now();
    if (now >= resetAt) {
      used.clear();
      resetAt = now + WINDOW_MS;
    }
    const id = req.apiKey?.id ?? '';
    const hits = (used.get(id) ?? 0) + 1;
    used.set(id, hits);
    const reset = Math.max(1, Math.ceil((resetAt - now) / 1000));
    res.setHeader('RateLimit-Policy', policy);
    res.setHeader('RateLimit', `limit=${limit}, remaining=${Math.max(0, limit - hits)}, reset=${reset}`);
    if (hits > limit) throw new AppError('TOO_MANY_REQUESTS', { retryAfterSeconds: reset });
    next();
  };
}
