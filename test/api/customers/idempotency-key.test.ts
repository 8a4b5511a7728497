import { closePool, executeQuery, executeWrite } from '../../../src/db';
import { pruneExpiredIdempotencyKeys } from '../../../src/modules/idempotency';
import { api, expectApiError } from '../../helpers/api';
import { createAdmin, createUser, unique, type TestUser } from '../../helpers/factories';
import { FaultProxy } from '../../helpers/fault-proxy';
import { usePoolConfig } from '../../helpers/pool';

// Idempotency-Key on the creating POSTs (docs/api.md §5): the first answer is stored with the write.
let admin: TestUser;
let user: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
  user = await createUser();
});

const post = (path: string, auth: string, body: object, key?: string) => {
  const req = api().post(path).set('Authorization', auth);
  if (key !== undefined) req.set('Idempotency-Key', key);
  return req.send(body);
};

const customersNamed = async (name: string) => (await executeQuery<{ n: number }>('SELECT count(*)::int AS n FROM customers WHERE name = $1', [name]))[0]!.n;

describe('POST /api/customers with Idempotency-Key', () => {
  test('the same request again gets the first answer (status, Location, ETag, body) with Idempotent-Replayed, and creates nothing', async () => {
    const key = `key-${unique()}`;
    const name = `Once ${unique()}`;
    const first = await post('/api/customers', user.auth, { name, city: 'Izmir' }, key);
    expect(first).toMatchObject({ status: 201, body: { name, city: 'Izmir' } });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post('/api/customers', user.auth, { name, city: 'Izmir' }, key);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.text).toBe(first.text);
    expect(await customersNamed(name)).toBe(1);
  });

  test('the same key with another body, or on another path, is 422 IDEMPOTENCY_KEY_REUSED and writes nothing', async () => {
    const key = `key-${unique()}`;
    const name = `Reused ${unique()}`;
    expect((await post('/api/customers', admin.auth, { name }, key)).status).toBe(201);
    expectApiError(await post('/api/customers', admin.auth, { name: `${name} changed` }, key), 422, 'IDEMPOTENCY_KEY_REUSED');
    expectApiError(await post('/api/users', admin.auth, { email: `u-${unique()}@example.com`, name, password: 'password-1', role: 'user' }, key), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await customersNamed(`${name} changed`)).toBe(0);
  });

  test('20 concurrent requests with one key: exactly one customer; the others 409 IDEMPOTENCY_KEY_IN_USE with Retry-After, or the replay; never a 5xx', async () => {
    const key = `key-${unique()}`;
    const name = `Concurrent ${unique()}`;
    const answers = await Promise.all(Array.from({ length: 20 }, () => post('/api/customers', user.auth, { name }, key)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    for (const r of answers.filter((a) => a.status === 409)) {
      expectApiError(r, 409, 'IDEMPOTENCY_KEY_IN_USE');
      expect(r.headers['retry-after']).toBe('1');
    }
    const ids = new Set(answers.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(await customersNamed(name)).toBe(1);
    // After the race, the key replays.
    const later = await post('/api/customers', user.auth, { name }, key);
    expect(later).toMatchObject({ status: 201, body: { id: [...ids][0] } });
    expect(later.headers['idempotent-replayed']).toBe('true');
  });

  test("a key is the caller's own: another user's same key and body creates its own customer", async () => {
    const key = `shared-${unique()}`;
    const name = `Scoped ${unique()}`;
    const mine = await post('/api/customers', user.auth, { name }, key);
    const theirs = await post('/api/customers', admin.auth, { name }, key);
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(await customersNamed(name)).toBe(2);
  });

  test('a request that fails validation stores nothing: its corrected retry runs afresh', async () => {
    const key = `key-${unique()}`;
    const name = `Corrected ${unique()}`;
    expectApiError(await post('/api/customers', user.auth, { name, status: 'bogus' }, key), 400, 'VALIDATION_ERROR');
    const fixed = await post('/api/customers', user.auth, { name }, key);
    expect(fixed.status).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
  });

  test.each([
    ['empty', ''],
    ['longer than 255 characters', 'k'.repeat(256)],
    ['not ASCII', 'clé-1'],
  ])('a key that is %s is 400 VALIDATION_ERROR naming the header', async (_what, key) => {
    const res = await post('/api/customers', user.auth, { name: `Bad key ${unique()}` }, key);
    expectApiError(res, 400, 'VALIDATION_ERROR');
    expect(res.body.error.details).toEqual([{ path: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' }]);
  });

  test('a key of 255 printable characters (spaces and punctuation included) is taken', async () => {
    const key = `${unique()} !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`.padEnd(255, 'x');
    expect((await post('/api/customers', user.auth, { name: `Long key ${unique()}` }, key)).status).toBe(201);
  });

  test('without the header, POST creates every time, as before', async () => {
    const name = `Plain ${unique()}`;
    const [a, b] = [await post('/api/customers', user.auth, { name }), await post('/api/customers', user.auth, { name })];
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.headers.location).toBe(`/api/customers/${a.body.id}`);
    expect(await customersNamed(name)).toBe(2);
  });

  test('keys older than IDEMPOTENCY_KEY_TTL_S are not replayed, and are pruned in batches', async () => {
    const key = `old-${unique()}`;
    const name = `Expired ${unique()}`;
    expect((await post('/api/customers', user.auth, { name }, key)).status).toBe(201);
    await executeWrite("UPDATE idempotency_keys SET created_at = now() - interval '2 days' WHERE key = $1", [key]);
    // Past the default TTL (24 h): the key is free again, for any request.
    const fresh = await post('/api/customers', user.auth, { name: `${name} again` }, key);
    expect(fresh.status).toBe(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    await executeWrite("UPDATE idempotency_keys SET created_at = now() - interval '2 days' WHERE key = $1", [key]);
    expect(await pruneExpiredIdempotencyKeys(86_400)).toBeGreaterThanOrEqual(1);
    expect(await executeQuery('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])).toEqual([]);
  });
});

describe('POST /api/users with Idempotency-Key', () => {
  test('replays the created user; a write that fails (email taken) stores nothing and its retry runs afresh', async () => {
    const email = `idem-${unique()}@example.com`;
    const key = `key-${unique()}`;
    const body = { email, name: 'Idem User', password: 'password-1', role: 'user' };
    const first = await post('/api/users', admin.auth, body, key);
    expect(first).toMatchObject({ status: 201, body: { email } });
    const again = await post('/api/users', admin.auth, body, key);
    expect(again).toMatchObject({ status: 201, body: { id: first.body.id } });
    expect(again.headers['idempotent-replayed']).toBe('true');

    const other = `key-${unique()}`;
    expectApiError(await post('/api/users', admin.auth, body, other), 409, 'CONFLICT');
    expect((await api().delete(`/api/users/${first.body.id}`).set('Authorization', admin.auth)).status).toBe(204);
    const retried = await post('/api/users', admin.auth, body, other);
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('a committed write whose answer was lost', () => {
  let proxy: FaultProxy;

  beforeAll(async () => {
    await closePool();
    const target = new URL(process.env.DATABASE_URL!);
    proxy = new FaultProxy(target.hostname, Number(target.port || 5432));
    await proxy.listen();
    // Plain text, so that the proxy sees the COMMIT go by.
    await usePoolConfig({ DATABASE_URL: proxy.urlFor(process.env.DATABASE_URL!), DB_SSLMODE: 'disable' });
  });

  afterAll(async () => {
    await closePool();
    await proxy.close();
  });

  test('the COMMIT reached the server but its answer was cut: 503, then the retry gets the original answer and there is one row', async () => {
    const key = `cut-${unique()}`;
    const name = `Cut ${unique()}`;
    proxy.cutAnswerTo('COMMIT');
    const cut = await post('/api/customers', user.auth, { name }, key);
    expectApiError(cut, 503, 'DATABASE_UNAVAILABLE');
    expect(cut.headers['retry-after']).toBeDefined();
    const rows = await executeQuery<{ id: string }>('SELECT id FROM customers WHERE name = $1', [name]);
    expect(rows).toHaveLength(1);

    const retry = await post('/api/customers', user.auth, { name }, key);
    expect(retry).toMatchObject({ status: 201, body: { id: Number(rows[0]!.id), name } });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.headers.location).toBe(`/api/customers/${rows[0]!.id}`);
    expect(await customersNamed(name)).toBe(1);
  });
});
