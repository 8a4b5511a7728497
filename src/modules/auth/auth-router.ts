import type { Router } from 'express';
import { getConfig } from '../../config/config';
import { requireAuth } from '../../http/authenticate';
import { AppError, notFound } from '../../http/errors';
import { actorOf } from '../../http/request-context';
import { createRouter } from '../../http/router';
import { signAccessToken } from '../../http/access-tokens';
import { findPasswordHash, findUserById, findUserCredentialsByEmail, resolveCurrentUser, setPassword, verifyAgainstDummy, verifyPassword } from '../users';
import { ChangePasswordBodySchema, LoginBodySchema } from './auth-schemas';
import { loginRateLimits } from './login-rate-limit';

/** docs/api.md §3: login (public, rate limited), me and change-password (authenticated). */
export function authRouter(): Router {
  const router = createRouter();

  router.post('/login', ...loginRateLimits(), async (req, res) => {
    const { email, password } = LoginBodySchema.parse(req.body);
    const user = await findUserCredentialsByEmail(email);
    // Unknown email, wrong password and deactivated user: the same answer after the same work.
    const valid = user ? await verifyPassword(password, user.password_hash) : await verifyAgainstDummy(password);
    if (!user || !valid || !user.is_active) throw new AppError('INVALID_CREDENTIALS');
    res.json({
      token: signAccessToken(user),
      token_type: 'Bearer',
      expires_in: getConfig().jwt.expiresInSeconds,
      user: { id: user.id, email: user.email, name: user.name, role: user.role },
    });
  });

  router.get('/me', requireAuth(resolveCurrentUser), async (req, res) => {
    const user = await findUserById(req.user!.id);
    if (!user) throw notFound();
    res.json(user);
  });

  router.post('/change-password', requireAuth(resolveCurrentUser), async (req, res) => {
    const body = ChangePasswordBodySchema.parse(req.body);
    const userId = req.user!.id;
    const stored = await findPasswordHash(userId);
    if (!stored || !(await verifyPassword(body.current_password, stored))) {
      throw new AppError('VALIDATION_ERROR', { messageKey: 'WRONG_PASSWORD', details: [{ path: 'current_password', message: 'is wrong' }] });
    }
    await setPassword(userId, body.new_password, actorOf(req));
    res.status(204).end();
  });

  return router;
}
