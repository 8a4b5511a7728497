import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { getConfig } from '../../config/config';
import { limitOptions } from '../../http/rate-limit-store';

const WINDOW_MS = 60_000;

/**
 * Per key (docs/api.md §9): API_KEY_RATE_LIMIT_PER_MINUTE requests a minute (0: no limit), then 429 with
 * Retry-After. With REDIS_URL every instance shares the count; without it, each process counts alone.
 * Applied after the key is admitted: a refused key costs no count, a token none at all.
 */
export function keyRateLimit(): RequestHandler {
  const limit = getConfig().auth.apiKeyRateLimitPerMinute;
  if (limit === 0) return (_req, _res, next) => next();
  return rateLimit({ ...limitOptions('key', WINDOW_MS), limit, keyGenerator: (req) => req.apiKey?.id ?? '' });
}
