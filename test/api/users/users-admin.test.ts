import { api, expectApiError } from '../../helpers/api';
import { createAdmin, createUser, unique } from '../../helpers/factories';

describe('GET /api/users', () => {
  test('lists users for an admin, with pagination and without password hashes', async () => {
    const admin = await createAdmin();
    const before: number = (await api().get('/api/users').set('Authorization', admin.auth)).body.pagination.total;
    await Promise.all([createUser(), createUser(), createUser()]);
    const total = before + 3;
    const res = await api().get('/api/users?page=2&limit=2').set('Authorization', admin.auth);
    expect(res).toMatchObject({ status: 200, body: { pagination: { page: 2, limit: 2, total, total_pages: Math.ceil(total / 2) } } });
    expect(res.body.data).toHaveLength(2);
    for (const user of res.body.data) expect(user).not.toHaveProperty('password_hash');
  });

  test('a page past the end is 200 with no data', async () => {
    const admin = await createAdmin();
    const res = await api().get('/api/users?page=500').set('Authorization', admin.auth);
    expect(res).toMatchObject({ status: 200, body: { data: [], pagination: { page: 500, limit: 20 } } });
    expect(res.body.pagination.total).toBeGreaterThan(0);
  });

  test.each(['page=0', 'page=-1', 'limit=0', 'limit=101', 'page=1.5', 'page=abc', 'page=99999999999999999999'])('%s answers 400', async (query) => {
    const admin = await createAdmin();
    expectApiError(await api().get(`/api/users?${query}`).set('Authorization', admin.auth), 400, 'VALIDATION_ERROR');
  });

  test('a user (not admin) gets 403', async () => {
    const { auth } = await createUser();
    expectApiError(await api().get('/api/users').set('Authorization', auth), 403, 'FORBIDDEN');
  });
});

describe('POST /api/users', () => {
  test('creates a user: 201, Location, no password in the answer, and it can log in', async () => {
    const admin = await createAdmin();
    const email = `new-${unique()}@example.com`;
    const res = await api().post('/api/users').set('Authorization', admin.auth).send({ email, name: 'New Person', password: 'long-enough-pw', role: 'user' });
    expect(res).toMatchObject({ status: 201, body: { email, name: 'New Person', role: 'user', is_active: true } });
    expect(res.headers.location).toBe(`/api/users/${res.body.id}`);
    expect(JSON.stringify(res.body)).not.toContain('long-enough-pw');
    expect((await api().post('/api/auth/login').send({ email, password: 'long-enough-pw' })).status).toBe(200);
  });

  test('an email taken in another case answers 409 CONFLICT', async () => {
    const admin = await createAdmin();
    const { user } = await createUser();
    const res = await api().post('/api/users').set('Authorization', admin.auth).send({ email: user.email.toUpperCase(), name: 'Dup', password: 'long-enough-pw' });
    expectApiError(res, 409, 'CONFLICT');
  });

  test.each([
    ['a bad email', { email: 'not-an-email', name: 'X', password: 'long-enough-pw' }],
    ['a short password', { email: 'a@example.com', name: 'X', password: 'short' }],
    ['an unknown role', { email: 'a@example.com', name: 'X', password: 'long-enough-pw', role: 'root' }],
    ['a NUL in the name', { email: 'a@example.com', name: 'X\u0000Y', password: 'long-enough-pw' }],
  ])('with %s answers 400 and creates nothing', async (_case, body) => {
    const admin = await createAdmin();
    const count = async (): Promise<number> => (await api().get('/api/users').set('Authorization', admin.auth)).body.pagination.total;
    const before = await count();
    expectApiError(await api().post('/api/users').set('Authorization', admin.auth).send(body), 400, 'VALIDATION_ERROR');
    expect(await count()).toBe(before);
  });

  test('a user (not admin) gets 403', async () => {
    const { auth } = await createUser();
    expectApiError(await api().post('/api/users').set('Authorization', auth).send({ email: 'a@example.com', name: 'X', password: 'long-enough-pw' }), 403, 'FORBIDDEN');
  });
});

describe('GET /api/users/:id', () => {
  test('a user reads itself; another user gets 403; an admin reads anyone', async () => {
    const a = await createUser();
    const b = await createUser();
    const admin = await createAdmin();
    expect(await api().get(`/api/users/${a.user.id}`).set('Authorization', a.auth)).toMatchObject({ status: 200, body: { id: a.user.id } });
    expectApiError(await api().get(`/api/users/${b.user.id}`).set('Authorization', a.auth), 403, 'FORBIDDEN');
    expect((await api().get(`/api/users/${b.user.id}`).set('Authorization', admin.auth)).status).toBe(200);
  });

  test('404 for an absent user, 400 for a malformed id', async () => {
    const admin = await createAdmin();
    expectApiError(await api().get('/api/users/987654').set('Authorization', admin.auth), 404, 'NOT_FOUND');
    expectApiError(await api().get('/api/users/abc').set('Authorization', admin.auth), 400, 'VALIDATION_ERROR');
    expectApiError(await api().get('/api/users/99999999999999999999').set('Authorization', admin.auth), 400, 'VALIDATION_ERROR');
  });
});

describe('PATCH /api/users/:id', () => {
  test('an admin changes name, role and active flag', async () => {
    const admin = await createAdmin();
    const { user } = await createUser();
    const res = await api().patch(`/api/users/${user.id}`).set('Authorization', admin.auth).send({ name: 'Renamed', role: 'admin', is_active: false });
    expect(res).toMatchObject({ status: 200, body: { id: user.id, name: 'Renamed', role: 'admin', is_active: false } });
  });

  test('a user cannot change anything, not even its own role', async () => {
    const { user, auth } = await createUser();
    expectApiError(await api().patch(`/api/users/${user.id}`).set('Authorization', auth).send({ role: 'admin' }), 403, 'FORBIDDEN');
    expectApiError(await api().patch(`/api/users/${user.id}`).set('Authorization', auth).send({ name: 'Me' }), 403, 'FORBIDDEN');
  });

  test('with a second admin, one can be demoted', async () => {
    const admin = await createAdmin();
    const other = await createAdmin();
    expect((await api().patch(`/api/users/${other.user.id}`).set('Authorization', admin.auth).send({ role: 'user' })).status).toBe(200);
  });

  test('an empty change, or an unknown field, answers 400', async () => {
    const admin = await createAdmin();
    const { user } = await createUser();
    expectApiError(await api().patch(`/api/users/${user.id}`).set('Authorization', admin.auth).send({}), 400, 'VALIDATION_ERROR');
    expectApiError(await api().patch(`/api/users/${user.id}`).set('Authorization', admin.auth).send({ email: 'x@example.com' }), 400, 'VALIDATION_ERROR');
  });

  test('404 for an absent user', async () => {
    const admin = await createAdmin();
    expectApiError(await api().patch('/api/users/424242').set('Authorization', admin.auth).send({ name: 'X' }), 404, 'NOT_FOUND');
  });
});

describe('DELETE /api/users/:id', () => {
  test('an admin deletes a user: 204, then 404', async () => {
    const admin = await createAdmin();
    const { user } = await createUser();
    expect((await api().delete(`/api/users/${user.id}`).set('Authorization', admin.auth)).status).toBe(204);
    expectApiError(await api().delete(`/api/users/${user.id}`).set('Authorization', admin.auth), 404, 'NOT_FOUND');
  });

  test('a user gets 403', async () => {
    const a = await createUser();
    expectApiError(await api().delete(`/api/users/${a.user.id}`).set('Authorization', a.auth), 403, 'FORBIDDEN');
  });
});
