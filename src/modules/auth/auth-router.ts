import { Router } from 'express';
import { requireAuth } from '../../http/authenticate';
import { resolveKey } from '../keys';
import { AppError, notFound, validationError } from '../../http/errors';
import { detail } from '../../http/messages';
import { actorOf } from '../../http/request-context';
import { REFRESH_TOKEN, endSession, listSessions, openSession, refreshSession, resolveCurrentUser } from '../sessions';
import { findPasswordHash, findUserById, findUserCredentialsByEmail, needsRehash, setPassword, upgradePasswordHash, verifyAgainstDummy, verifyPassword } from '../users';
import { ChangePasswordBodySchema, LoginBodySchema, RefreshBodySchema, SessionIdParamsSchema } from './auth-schemas';
import { clearRefreshCookie, refreshTokenCookie, requireTrustedCookieOrigin, sendSessionTokens } from './auth-session-answer';
import { loginRateLimits } from './login-rate-limit';

const refreshRefused = () => new AppError('UNAUTHORIZED', { messageKey: 'REFRESH_TOKEN_INVALID' });

/** docs/api.md §3: login and refresh (public), me, change-password, logout and sessions (authenticated). */
export function authRouter(): Router {
  const router = Router();
  // A key may call none of these (scopeOf: no scope): they are a person's session and password.
  const authenticated = requireAuth(resolveCurrentUser, { resolveKey, scopeOf: () => undefined });
  // The routes the refresh cookie authenticates: a request carrying it must come from a trusted origin (CSRF).
  const trustedCookieOrigin = requireTrustedCookieOrigin();

  router.post('/login', ...loginRateLimits(), async (req, res) => {
    const { email, password, refresh_token_in: refreshTokenIn } = LoginBodySchema.parse(req.body);
    const user = await findUserCredentialsByEmail(email);
    // Unknown email, wrong password, deactivated user and a service account (it has no password): the
    // same answer after the same work.
    const valid = user?.kind === 'person' ? await verifyPassword(password, user.password_hash) : await verifyAgainstDummy(password);
    if (!user || !valid || !user.is_active) throw new AppError('INVALID_CREDENTIALS');
    // A hash made with older parameters is replaced now that the password is known.
    if (needsRehash(user.password_hash)) await upgradePasswordHash(user.id, password, { userId: user.id, requestId: req.id });
    sendSessionTokens(req, res, user, await openSession(user.id, req.get('user-agent')), refreshTokenIn);
  });

  // One use per refresh token; the answer carries the next pair, the way the token came (body or cookie).
  router.post('/refresh', trustedCookieOrigin, async (req, res) => {
    const fromBody = RefreshBodySchema.parse(req.body)?.refresh_token;
    const token = fromBody ?? refreshTokenCookie(req);
    if (token === undefined) throw new AppError('UNAUTHORIZED', { messageKey: 'REFRESH_TOKEN_MISSING' });
    const refreshTokenIn = fromBody === undefined ? 'cookie' : 'body';
    const outcome = REFRESH_TOKEN.test(token) ? await refreshSession(token) : 'unknown';
    if (typeof outcome === 'string') {
      if (refreshTokenIn === 'cookie') clearRefreshCookie(req, res);
      throw refreshRefused();
    }
    const user = await findUserById(outcome.userId);
    if (!user?.is_active) throw refreshRefused();
    sendSessionTokens(req, res, user, outcome, refreshTokenIn);
  });

  router.get('/me', authenticated, async (req, res) => {
    const user = await findUserById(req.user!.id);
    if (!user) throw notFound();
    res.json(user);
  });

  // The user's other sessions end (a suspected theft is why people change passwords); this one goes on.
  router.post('/change-password', authenticated, async (req, res) => {
    const body = ChangePasswordBodySchema.parse(req.body);
    const userId = req.user!.id;
    const stored = await findPasswordHash(userId);
    if (!stored || !(await verifyPassword(body.current_password, stored))) {
      throw validationError([{ path: 'current_password', message: detail('WRONG') }], 'WRONG_PASSWORD');
    }
    await setPassword(userId, body.new_password, actorOf(req), req.claims!.sessionId);
    res.status(204).end();
  });

  // Ends this session: its refresh token at once, its access tokens through the per-request check.
  router.post('/logout', trustedCookieOrigin, authenticated, async (req, res) => {
    await endSession(req.claims!.sessionId, req.user!.id, 'logout');
    clearRefreshCookie(req, res);
    res.status(204).end();
  });

  router.get('/sessions', authenticated, async (req, res) => {
    const sessions = await listSessions(req.user!.id);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ data: sessions.map((s) => ({ ...s, current: s.id === req.claims!.sessionId })) });
  });

  router.delete('/sessions/:id', authenticated, async (req, res) => {
    const { id } = SessionIdParamsSchema.parse(req.params);
    if (!(await endSession(id, req.user!.id, 'ended from the sessions list'))) throw notFound();
    res.status(204).end();
  });

  return router;
}
