import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { verifyAccessToken } from './access-tokens';
import { AppError, forbidden } from './errors';
import type { CurrentUser, TokenClaims } from './request-context';

/** Looks up the caller's current state; registered by the auth module (avoids an import cycle). */
export type CurrentUserResolver = (claims: TokenClaims) => Promise<CurrentUser | null>;

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
 * Verifies the token before anything touches the pool, then loads the caller's current state
 * (active, role) through `resolve`: a deactivated or deleted user is refused.
 */
export async function authenticate(req: IncomingMessage, resolve: CurrentUserResolver): Promise<{ claims: TokenClaims; user: CurrentUser }> {
  const claims = claimsFrom(req);
  const user = await resolve(claims);
  if (!user) throw new AppError('UNAUTHORIZED', { messageKey: 'TOKEN_INVALID' });
  return { claims, user };
}

/** authenticate() as Express middleware: sets req.claims and req.user. */
export function requireAuth(resolve: CurrentUserResolver): RequestHandler {
  return async (req, _res, next) => {
    const { claims, user } = await authenticate(req, resolve);
    req.claims = claims;
    req.user = user;
    next();
  };
}

/** Lets only the given roles through (after requireAuth). */
export function requireRole(...roles: CurrentUser['role'][]): RequestHandler {
  return (req, _res, next) => {
    if (!req.user || !roles.includes(req.user.role)) throw forbidden();
    next();
  };
}
