import { api, expectApiError } from '../../helpers/api';
import { executeWrite } from '../../../src/db';
import { createAdmin } from '../../helpers/factories';

// Each test starts with no users, so that its admins are the only ones.
beforeEach(() => executeWrite('DELETE FROM users'));

describe('the last active admin', () => {
  test('cannot be demoted or deactivated', async () => {
    const admin = await createAdmin();
    const path = `/api/users/${admin.user.id}`;
    expectApiError(await api().patch(path).set('Authorization', admin.auth).send({ role: 'user' }), 409, 'CONFLICT');
    expectApiError(await api().patch(path).set('Authorization', admin.auth).send({ is_active: false }), 409, 'CONFLICT');
    expect((await api().get(path).set('Authorization', admin.auth)).body).toMatchObject({ role: 'admin', is_active: true });
  });

  test('cannot be deleted', async () => {
    const admin = await createAdmin();
    expectApiError(await api().delete(`/api/users/${admin.user.id}`).set('Authorization', admin.auth), 409, 'CONFLICT');
  });

  test('a service account with the admin role does not count: the last person who is one stays one (a service account cannot log in)', async () => {
    const admin = await createAdmin();
    const service = await api().post('/api/users').set('Authorization', admin.auth).send({ email: 'robot@example.com', name: 'Robot', kind: 'service', role: 'admin' });
    expect(service.status).toBe(201);
    expectApiError(await api().patch(`/api/users/${admin.user.id}`).set('Authorization', admin.auth).send({ role: 'user' }), 409, 'CONFLICT');
    expectApiError(await api().delete(`/api/users/${admin.user.id}`).set('Authorization', admin.auth), 409, 'CONFLICT');
    // The service account itself may go.
    expect((await api().delete(`/api/users/${service.body.id}`).set('Authorization', admin.auth)).status).toBe(204);
  });

  test('two concurrent demotions of the last two admins leave one admin', async () => {
    const a = await createAdmin();
    const b = await createAdmin();
    const [ra, rb] = await Promise.all([
      api().patch(`/api/users/${a.user.id}`).set('Authorization', a.auth).send({ role: 'user' }),
      api().patch(`/api/users/${b.user.id}`).set('Authorization', b.auth).send({ role: 'user' }),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([200, 409]);
  });
});
