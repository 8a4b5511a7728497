import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { limitOptions } from '../../http/rate-limit-store';

const WINDOW_MS = 15 * 60 * 1000;

function emailKey(req: Request): string {
  const email: unknown = (req.body as { email?: unknown } | undefined)?.email;
  return `email:${typeof email === 'string' ? email.trim().toLowerCase() : ''}`;
}

/**
 * Login limits (docs/api.md §3): per email, 5 failures in 15 minutes lock it (the right password too)
 * until the window passes; per client address, 50 attempts in 15 minutes. With REDIS_URL the counts
 * live in Redis and every instance shares them; without it, each process counts alone.
 */
export function loginRateLimits(): RequestHandler[] {
  return [
    rateLimit({ ...limitOptions('login:ip', WINDOW_MS), limit: 50, keyGenerator: (req) => `ip:${ipKeyGenerator(req.ip ?? '')}` }),
    rateLimit({ ...limitOptions('login:email', WINDOW_MS), limit: 5, skipSuccessfulRequests: true, keyGenerator: emailKey }),
  ];
}
