import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler } from 'express';
import { verifyAccessToken } from './access-tokens';
import { AppError, forbidden } from './errors';
import type { CurrentUser, TokenClaims } from './request-context';

/**
 * Looks up the caller's current state; given to requireAuth by the app (app.ts passes the sessions
 * module's resolveCurrentUser: http/ imports no module). A cached answer may come back as is, a
 * looked-up one as a promise.
 */
type CurrentUserResolver = (claims: TokenClaims) => CurrentUser | null | Promise<CurrentUser | null>;

// The scheme is case-insensitive (RFC 7235); the token is a JWT (base64url parts).
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i;

function claimsFrom(req: IncomingMessage): TokenClaims {
  const match = BEARER.exec(req.headers.authorization ?? '');
  if (!match?.[1]) throw new AppError('UNAUTHORIZED');
  const result = verifyAccessToken(match[1]);
  if (result === 'expired') throw new AppError('UNAUTHORIZED', { messageKey: 'TOKEN_EXPIRED' });
  if (result === 'invalid') throw new AppError('UNAUTHORIZED', { messageKey: 'TOKEN_INVALID' });
  return result;
}

/**
 * Verifies the Bearer token only, without touching the database: for the health routes, which
 * must answer while the pool is exhausted.
 */
export const requireToken: RequestHandler = (req, _res, next) => {
  req.claims = claimsFrom(req);
  next();
};

/**
 * Express middleware: verifies the token before anything touches the pool, then loads the caller's
 * current state (active, role) through `resolve` — a deactivated or deleted user is refused — and sets
 * req.claims and req.user. Synchronous when that state is cached (no promise on the path nearly every
 * authenticated request takes); Express 5 passes a throw or a rejected promise to the error handler.
 */
export function requireAuth(resolve: CurrentUserResolver): RequestHandler {
  const admit = (req: Request, claims: TokenClaims, user: CurrentUser | null, next: NextFunction): void => {
    if (!user) throw new AppError('UNAUTHORIZED', { messageKey: 'TOKEN_INVALID' });
    req.claims = claims;
    req.user = user;
    next();
  };
  return (req, _res, next) => {
    const claims = claimsFrom(req);
    const found = resolve(claims);
    if (found instanceof Promise) return found.then((user) => admit(req, claims, user, next));
    admit(req, claims, found, next);
  };
}

/** Lets only the given roles through (after requireAuth). */
export function requireRole(...roles: CurrentUser['role'][]): RequestHandler {
  return (req, _res, next) => {
    if (!req.user || !roles.includes(req.user.role)) throw forbidden();
    next();
  };
}
