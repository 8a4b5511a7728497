import { executeQueryOne } from '../../../src/db';
import { api, expectApiError } from '../../helpers/api';
import { createAdmin, createUser, unique, type TestUser } from '../../helpers/factories';

let caller: TestUser;
beforeAll(async () => {
  caller = await createUser();
});

const countCustomers = async () => (await executeQueryOne<{ n: number }>('SELECT count(*)::int AS n FROM customers'))!.n;

describe('POST /api/customers', () => {
  test('creates a customer: 201, Location, ETag, version 1, created_by the caller', async () => {
    const body = { name: 'Ayşe Yılmaz', email: `ayse-${unique()}@example.com`, phone: '+90 555 000 0000', company: 'Ege Tekstil', city: 'İzmir', status: 'active', notes: 'VIP' };
    const res = await api().post('/api/customers').set('Authorization', caller.auth).send(body);
    expect(res).toMatchObject({ status: 201, body: { ...body, id: expect.any(Number), version: 1, created_by: caller.user.id } });
    expect(res.headers.location).toBe(`/api/customers/${res.body.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(Date.parse(res.body.created_at)).not.toBeNaN();
  });

  test('only a name is required; status defaults to lead', async () => {
    const res = await api().post('/api/customers').set('Authorization', caller.auth).send({ name: 'Solo' });
    expect(res).toMatchObject({ status: 201, body: { name: 'Solo', email: null, city: null, status: 'lead' } });
  });

  test('SQL-injection-looking strings are stored and returned verbatim', async () => {
    const name = "Robert'); DROP TABLE customers;--";
    const notes = "1' OR '1'='1 /* %_\\ */";
    const res = await api().post('/api/customers').set('Authorization', caller.auth).send({ name, notes });
    expect(res.status).toBe(201);
    const read = await api().get(`/api/customers/${res.body.id}`).set('Authorization', caller.auth);
    expect(read.body).toMatchObject({ name, notes });
  });

  test('unusual unicode survives the round trip', async () => {
    const name = 'Zoë 🚀 ŞĞÜİ 漢字 \u202Eevil';
    const res = await api().post('/api/customers').set('Authorization', caller.auth).send({ name });
    expect(res).toMatchObject({ status: 201, body: { name } });
  });

  test.each([
    ['a missing name', {}],
    ['an empty name', { name: '   ' }],
    ['a NUL byte in the name', { name: 'a\u0000b' }],
    ['a NUL byte in the notes', { name: 'ok', notes: 'x\u0000' }],
    ['a 10,000-character name', { name: 'x'.repeat(10_000) }],
    ['a number for the name', { name: 42 }],
    ['an array for the name', { name: ['a'] }],
    ['an object for the email', { name: 'ok', email: { $ne: '' } }],
    ['an invalid email', { name: 'ok', email: 'nope' }],
    ['an unknown status', { name: 'ok', status: 'vip' }],
    ['an unknown field', { name: 'ok', id: 5 }],
    ['a __proto__ key', JSON.parse('{"name":"ok","__proto__":{"admin":true}}') as object],
    ['a constructor key', { name: 'ok', constructor: { prototype: {} } }],
    ['an array body', [{ name: 'ok' }]],
  ])('with %s answers 400 VALIDATION_ERROR and writes nothing', async (_case, body) => {
    const before = await countCustomers();
    const res = await api().post('/api/customers').set('Authorization', caller.auth).send(body);
    expectApiError(res, 400, 'VALIDATION_ERROR');
    expect(res.body.error.details.length).toBeGreaterThan(0);
    expect(await countCustomers()).toBe(before);
  });

  test('without a token answers 401 before touching the database', async () => {
    expectApiError(await api().post('/api/customers').send({ name: 'x' }), 401, 'UNAUTHORIZED');
  });

  test('an admin may create too', async () => {
    const admin = await createAdmin();
    expect((await api().post('/api/customers').set('Authorization', admin.auth).send({ name: 'By admin' })).status).toBe(201);
  });
});
