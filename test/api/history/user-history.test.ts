import { executeQuery } from '../../../src/db';
import { api, expectApiError } from '../../helpers/api';
import { createAdmin, createUser, unique, type TestUser } from '../../helpers/factories';
import { expectNoClientInUse } from '../../helpers/pool';

let admin: TestUser;
beforeAll(async () => {
  admin = await createAdmin();
});
afterEach(() => expectNoClientInUse());

const historyOf = (id: number, auth = admin.auth) => api().get(`/api/users/${id}/history`).set('Authorization', auth);

describe('GET /api/users/:id/history', () => {
  test('creation, a role change, deactivation and a new password, each with its actor; never a hash', async () => {
    const created = await api().post('/api/users').set('Authorization', admin.auth).set('X-Request-Id', 'user-create').send({ email: `h-${unique()}@example.com`, name: 'Hist User', password: 'first-password' });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    expect((await api().patch(`/api/users/${id}`).set('Authorization', admin.auth).set('X-Request-Id', 'user-role').send({ role: 'admin' })).status).toBe(200);
    expect((await api().patch(`/api/users/${id}`).set('Authorization', admin.auth).set('X-Request-Id', 'user-pw').send({ password: 'second-password', name: 'Renamed' })).status).toBe(200);
    expect((await api().patch(`/api/users/${id}`).set('Authorization', admin.auth).set('X-Request-Id', 'user-off').send({ is_active: false })).status).toBe(200);

    const res = await historyOf(id);
    expect(res.status).toBe(200);
    const [off, pw, role, insert] = res.body.data;
    expect(off).toMatchObject({ entity: 'user', operation: 'update', request_id: 'user-off', actor: { id: admin.user.id }, changes: { is_active: { old: true, new: false } } });
    expect(pw.changes).toEqual({ name: { old: 'Hist User', new: 'Renamed' }, password: { changed: true } });
    expect(role.changes).toEqual({ role: { old: 'user', new: 'admin' } });
    expect(insert).toMatchObject({ operation: 'insert', request_id: 'user-create', changes: { name: { new: 'Hist User' }, role: { new: 'user' }, is_active: { new: true } } });
    // No hash anywhere in the history, stored or answered.
    const hash = (await executeQuery<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [id]))[0]!.password_hash;
    expect(JSON.stringify(res.body)).not.toContain('password_hash');
    const stored = await executeQuery<{ entry: string }>("SELECT concat_ws(' ', changes::text, row_data::text) AS entry FROM history WHERE entity = 'user' AND entity_id = $1", [id]);
    expect(stored.length).toBe(4);
    for (const { entry } of stored) expect(entry).not.toContain(hash.slice(0, 20));
  });

  test('a user changing their own password is the actor of it', async () => {
    const user = await createUser();
    const res = await api().post('/api/auth/change-password').set('Authorization', user.auth).set('X-Request-Id', 'own-pw').send({ current_password: user.password, new_password: 'a-brand-new-password' });
    expect(res.status).toBe(204);
    const history = await historyOf(user.user.id);
    expect(history.body.data[0]).toMatchObject({ actor: { id: user.user.id, name: user.user.name }, request_id: 'own-pw', changes: { password: { changed: true } } });
  });

  test('a deleted user: the last row without its hash; the history of their own changes keeps their id', async () => {
    const user = await createUser({ role: 'admin' });
    const made = await api().post('/api/customers').set('Authorization', user.auth).send({ name: 'Made by a leaver' });
    expect((await api().delete(`/api/users/${user.user.id}`).set('Authorization', admin.auth)).status).toBe(204);
    const res = await historyOf(user.user.id);
    expect(res.body.data[0]).toMatchObject({ operation: 'delete', actor: { id: admin.user.id }, last_row: { id: user.user.id, email: user.user.email, role: 'admin' } });
    expect(res.body.data[0].last_row).not.toHaveProperty('password_hash');
    const customer = await api().get(`/api/customers/${made.body.id}/history`).set('Authorization', admin.auth);
    // created_by became null when the user went: not a change anyone made to the customer.
    expect(customer.body.data).toHaveLength(1);
    expect(customer.body.data[0]).toMatchObject({ operation: 'insert', actor: { id: user.user.id, name: null } });
  });

  test('for admins only', async () => {
    const user = await createUser();
    expectApiError(await historyOf(user.user.id, user.auth), 403, 'FORBIDDEN');
  });
});
