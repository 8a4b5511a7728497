import { api, expectApiError } from '../../helpers/api';
import { createUser } from '../../helpers/factories';

describe('POST /api/auth/change-password', () => {
  test('answers 204; the new password logs in and the old one no longer does', async () => {
    const { user, password, auth } = await createUser();
    const res = await api().post('/api/auth/change-password').set('Authorization', auth).send({ current_password: password, new_password: 'a-brand-new-password' });
    expect(res.status).toBe(204);
    expect((await api().post('/api/auth/login').send({ email: user.email, password: 'a-brand-new-password' })).status).toBe(200);
    expectApiError(await api().post('/api/auth/login').send({ email: user.email, password }), 401, 'INVALID_CREDENTIALS');
  });

  test('a wrong current password answers 400 and changes nothing', async () => {
    const { user, password, auth } = await createUser();
    const res = await api().post('/api/auth/change-password').set('Authorization', auth).send({ current_password: 'not-it-at-all', new_password: 'a-brand-new-password' });
    expectApiError(res, 400, 'VALIDATION_ERROR');
    expect(res.body.error.details).toEqual([{ path: 'current_password', message: expect.any(String) }]);
    expect((await api().post('/api/auth/login').send({ email: user.email, password })).status).toBe(200);
  });

  test.each([
    ['too short', 'short'],
    ['too long', 'x'.repeat(257)],
    ['with a NUL byte', 'abcd\u0000efgh'],
  ])('a new password %s answers 400', async (_case, newPassword) => {
    const { password, auth } = await createUser();
    const res = await api().post('/api/auth/change-password').set('Authorization', auth).send({ current_password: password, new_password: newPassword });
    expectApiError(res, 400, 'VALIDATION_ERROR');
    expect(res.body.error.details[0].path).toBe('new_password');
  });

  test('requires a token', async () => {
    expectApiError(await api().post('/api/auth/change-password').send({ current_password: 'a', new_password: 'bbbbbbbb' }), 401, 'UNAUTHORIZED');
  });
});
