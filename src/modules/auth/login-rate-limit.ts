import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import { AppError } from '../../http/errors';

const WINDOW_MS = 15 * 60 * 1000;

function tooManyRequests(req: Request, _res: unknown, next: (err: unknown) => void): void {
  const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
  const seconds = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;
  next(new AppError('TOO_MANY_REQUESTS', { retryAfterSeconds: seconds }));
}

const common: Partial<Options> = {
  windowMs: WINDOW_MS,
  standardHeaders: 'draft-7',
  legacyHeaders: false,
  handler: tooManyRequests,
};

function emailKey(req: Request): string {
  const email: unknown = (req.body as { email?: unknown } | undefined)?.email;
  return `email:${typeof email === 'string' ? email.trim().toLowerCase() : ''}`;
}

/**
 * Login limits (API.md §3): per email, 5 failures in 15 minutes lock it (the right password too)
 * until the window passes; per client address, 50 attempts in 15 minutes. One store per app.
 */
export function loginRateLimits(): RequestHandler[] {
  return [
    rateLimit({ ...common, limit: 50, keyGenerator: (req) => `ip:${ipKeyGenerator(req.ip ?? '')}` }),
    rateLimit({ ...common, limit: 5, skipSuccessfulRequests: true, keyGenerator: emailKey }),
  ];
}
