import type { Request, RequestHandler, Response } from 'express';
import { getConfig } from '../../config/config';
import { signAccessToken } from '../../http/access-tokens';
import { isTrustedOrigin } from '../../http/cors';
import { AppError } from '../../http/errors';
import type { CurrentUser } from '../../http/request-context';
import type { IssuedSession } from '../sessions';
import type { RefreshTokenIn } from './auth-schemas';

/** The refresh token's cookie: HttpOnly, SameSite=Strict (or None: REFRESH_COOKIE_SAMESITE), sent only to /api/auth. */
const REFRESH_COOKIE = 'refresh_token';
const COOKIE_PATH = '/api/auth';

/**
 * The cookie's attributes, the same to set and to clear it. Secure always in production (TLS ends at a
 * proxy there) and always with SameSite=None (browsers drop a SameSite=None cookie that is not Secure;
 * they keep a Secure one from http://localhost and http://127.0.0.1, which they count as secure); else
 * only over HTTPS, so that plain-HTTP development works.
 */
function cookieOptions(req: Request) {
  const { isProduction, sessions } = getConfig();
  const sameSite = sessions.refreshCookieSameSite;
  return { httpOnly: true, sameSite, secure: isProduction || sameSite === 'none' || req.secure, path: COOKIE_PATH };
}

/** The refresh token in the request's Cookie header, if any. */
export function refreshTokenCookie(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === REFRESH_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The CSRF check of the routes the refresh cookie authenticates (refresh, logout): a request that
 * carries the cookie must come from the API's own origin or one of CORS_ORIGINS — whatever SameSite
 * says (Strict still lets a sibling subdomain or another port of the same site send it; None lets every
 * site). No Origin at all is refused too: browsers send one with every POST. A request without the
 * cookie (a token in the body) is not checked.
 */
export function requireTrustedCookieOrigin(): RequestHandler {
  const origins = getConfig().http.corsOrigins;
  return (req, _res, next) => {
    if (refreshTokenCookie(req) === undefined || isTrustedOrigin(req, origins)) next();
    else next(new AppError('ORIGIN_NOT_ALLOWED'));
  };
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
  user: CurrentUser,
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
