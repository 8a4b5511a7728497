import { api, expectApiError } from '../../helpers/api';
import { bearer, tokenFor } from '../../helpers/auth';
import { createAdmin, createUser } from '../../helpers/factories';

describe('GET /api/auth/me', () => {
  test('answers the current user without secrets', async () => {
    const { user, auth } = await createUser();
    const res = await api().get('/api/auth/me').set('Authorization', auth);
    expect(res).toMatchObject({ status: 200, body: { id: user.id, email: user.email, role: 'user', is_active: true } });
    expect(Object.keys(res.body).sort()).toEqual(['created_at', 'email', 'id', 'is_active', 'kind', 'name', 'role', 'updated_at']);
  });

  test("a deactivated user's token stops working at once on this instance", async () => {
    const admin = await createAdmin();
    const { user, auth } = await createUser();
    expect((await api().get('/api/auth/me').set('Authorization', auth)).status).toBe(200);
    expect((await api().patch(`/api/users/${user.id}`).set('Authorization', admin.auth).send({ is_active: false })).status).toBe(200);
    expectApiError(await api().get('/api/auth/me').set('Authorization', auth), 401, 'UNAUTHORIZED');
  });

  test("a deleted user's token stops working at once on this instance", async () => {
    const admin = await createAdmin();
    const { user, auth } = await createUser();
    expect((await api().get('/api/auth/me').set('Authorization', auth)).status).toBe(200);
    expect((await api().delete(`/api/users/${user.id}`).set('Authorization', admin.auth)).status).toBe(204);
    expectApiError(await api().get('/api/auth/me').set('Authorization', auth), 401, 'UNAUTHORIZED');
  });

  test('the role in effect is the one in the database, not the one frozen in the token', async () => {
    const { user, sessionId } = await createUser();
    const forged = bearer(tokenFor({ id: user.id, role: 'admin', sid: sessionId }));
    expectApiError(await api().get('/api/users').set('Authorization', forged), 403, 'FORBIDDEN');
  });

  test('a token for a user id that does not exist is refused', async () => {
    expectApiError(await api().get('/api/auth/me').set('Authorization', bearer(tokenFor({ id: 999_999, role: 'admin' }))), 401, 'UNAUTHORIZED');
  });
});
