import type { Request } from 'express';
import type { Options, Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import { getConfig } from '../config/config';
import { getLogger } from '../logging/logger';
import { getMetrics } from '../metrics/metrics';
import { AppError } from './errors';

/**
 * What the rate limits share (the login limits, docs/api.md §3; the per-key limit, §9): one Redis
 * connection per process when REDIS_URL is set (every instance then shares the counts), the 429 answer,
 * and failing open when Redis is away.
 */

const WARN_EVERY_MS = 10_000;

/** 429 TOO_MANY_REQUESTS with Retry-After: the seconds until the window resets. */
function tooManyRequests(windowMs: number): Options['handler'] {
  return (req: Request, _res, next) => {
    const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
    const seconds = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : windowMs / 1000;
    next(new AppError('TOO_MANY_REQUESTS', { retryAfterSeconds: seconds }));
  };
}

type RedisClient = ReturnType<typeof createClient>;
let redis: RedisClient | undefined;
let connecting: Promise<unknown> | undefined;
let lastWarning = 0;

/**
 * Redis unreachable: logins go on without the shared limit (fail open), said at warn at most every
 * 10 s, and counted in rate_limit_store_errors_total. Locking every user out because the limiter's
 * store is down would be worse than a few minutes without a limit.
 */
function storeFailed(err: unknown, requestLetThrough = false): void {
  if (requestLetThrough && getConfig().metrics.enabled) getMetrics().rateLimitStoreErrors.inc();
  if (Date.now() - lastWarning < WARN_EVERY_MS) return;
  lastWarning = Date.now();
  getLogger().warn({ reason: err instanceof Error ? err.message : String(err) }, 'rate limit store (Redis) unavailable: logins and API keys are not rate limited until it is back');
}

/** express-rate-limit's logger: its store errors are ours to report (above); its warnings go to the log. */
const limiterLogger = {
  error: (err: unknown) => storeFailed(err, true),
  warn: (err: unknown) => getLogger().warn({ err }, 'express-rate-limit'),
};

/** One Redis connection per process, shared by the limiters; it reconnects by itself. Commands fail at once while it is down. */
function redisClient(url: string): RedisClient {
  if (!redis) {
    redis = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000) } });
    redis.on('error', (err: unknown) => storeFailed(err));
    connecting = redis.connect().catch((err: unknown) => storeFailed(err));
  }
  return redis;
}

/** rate-limit-redis, which keeps a failed script load forever: after an error it loads its scripts again. */
class RecoveringRedisStore extends RedisStore {
  override async increment(key: string) {
    try {
      return await super.increment(key);
    } catch (err) {
      for (const load of ['incrementScriptSha', 'getScriptSha'] as const) {
        const sha = load === 'incrementScriptSha' ? this.loadIncrementScript() : this.loadGetScript();
        sha.catch(() => undefined); // awaited (and reported) by the next increment
        this[load] = sha;
      }
      throw err;
    }
  }
}

/** The shared store (REDIS_URL set) for one limiter (`login:ip`), or undefined for express-rate-limit's per-process memory. */
function storeFor(name: string): Store | undefined {
  const url = getConfig().redisUrl;
  if (!url) return undefined;
  const client = redisClient(url);
  return new RecoveringRedisStore({ prefix: `${getConfig().redisKeyPrefix}${name}:`, sendCommand: (...args: string[]) => client.sendCommand(args) });
}

/** express-rate-limit's options every limit here shares; `name` keys its store, `limit` and `keyGenerator` are the caller's. */
export function limitOptions(name: string, windowMs: number): Partial<Options> {
  return {
    windowMs,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: tooManyRequests(windowMs),
    passOnStoreError: true,
    logger: limiterLogger,
    store: storeFor(name),
  };
}

/**
 * With REDIS_URL, the connection to wait for before the app is built (the limiters load their scripts
 * then). The caller bounds the wait; a client that is not connected yet keeps trying by itself.
 */
export function connectRateLimitStore(): Promise<unknown> {
  const url = getConfig().redisUrl;
  if (!url) return Promise.resolve();
  redisClient(url);
  return connecting ?? Promise.resolve();
}
