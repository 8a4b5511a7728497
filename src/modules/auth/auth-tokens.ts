import type { Request, Response } from 'express';
import { getConfig } from '../../config/config';
import { signAccessToken } from '../../http/access-tokens';
import type { IssuedSession } from '../sessions';
import type { RefreshTokenIn } from './auth-schemas';

/** The refresh token's cookie: HttpOnly, SameSite=Strict, sent only to /api/auth. */
export const REFRESH_COOKIE = 'refresh_token';
const COOKIE_PATH = '/api/auth';

/**
 * The cookie's attributes, the same to set and to clear it: Secure always in production (TLS ends at a
 * proxy there); in development and tests only over HTTPS, so that plain-HTTP localhost works.
 */
const cookieOptions = (req: Request) => ({ httpOnly: true, sameSite: 'strict' as const, secure: getConfig().isProduction || req.secure, path: COOKIE_PATH });

/** The refresh token in the request's Cookie header, if any. */
export function refreshTokenCookie(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === REFRESH_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function clearRefreshCookie(req: Request, res: Response): void {
  res.clearCookie(REFRESH_COOKIE, cookieOptions(req));
}

/**
 * Answers a login or a refresh: a new access token for the session, and its refresh token in the body or
 * (refresh_token_in=cookie) only in the cookie.
 */
export function sendSessionTokens(
  req: Request,
  res: Response,
  user: { id: number; email: string; name: string; role: 'admin' | 'user' },
  session: IssuedSession,
  refreshTokenIn: RefreshTokenIn,
): void {
  const refreshExpiresIn = Math.max(0, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000));
  if (refreshTokenIn === 'cookie') {
    res.cookie(REFRESH_COOKIE, session.refreshToken, { ...cookieOptions(req), maxAge: refreshExpiresIn * 1000 });
  }
  // Tokens are never cached by anything between.
  res.setHeader('Cache-Control', 'no-store');
  res.json({
    token: signAccessToken(user, session.id),
    token_type: 'Bearer',
    expires_in: getConfig().jwt.expiresInSeconds,
    ...(refreshTokenIn === 'body' ? { refresh_token: session.refreshToken } : {}),
    refresh_expires_in: refreshExpiresIn,
    session_id: session.id,
    user: { id: user.id, email: user.email, name: user.name, role: user.role },
  });
}
