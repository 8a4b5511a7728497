import { createHash } from 'node:crypto';
import { loadConfig, setConfig } from '../../../src/config/config';
import { executeQuery } from '../../../src/db';
import { settleKeyUses } from '../../../src/modules/keys';
import { touchKey } from '../../../src/modules/keys/keys-repository';
import * as keysRepository from '../../../src/modules/keys/keys-repository';
import { api, expectApiError } from '../../helpers/api';
import { checksumOf, keyOf } from '../../helpers/api-keys';
import { createAdmin, createCustomer, createUser, unique, type TestUser } from '../../helpers/factories';
import { expectNoClientInUse } from '../../helpers/pool';
import { freePort, startServer, stopServer, waitForHealth } from '../../helpers/server-process';

// Inside each describe, so that they run before the file-wide check that no client is in use: a
// key's use is written in the background (at most once a minute), and may still be in flight.
const settled = async () => {
  jest.restoreAllMocks();
  await settleKeyUses();
  expectNoClientInUse();
};

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const KEY = /^cak_([0-9A-Za-z]{12})_[0-9A-Za-z]{38}$/;

async function makeKey(owner: TestUser, scopes: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; key: string; auth: string }> {
  const res = await api().post('/api/keys').set('Authorization', owner.auth).send({ name: `key ${unique()}`, scopes, expires_at: inDays(30), ...extra });
  expect(res.status).toBe(201);
  return { id: res.body.id, key: res.body.key, auth: `Bearer ${res.body.key}` };
}

/** One character of the secret changed (another base62 character). */
function oneCharChanged(key: string): string {
  const i = 20;
  return key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
}

describe('POST /api/keys', () => {
  afterEach(settled);

  test('201 with the key shown once: cak_<id>_<secret><checksum>, its CRC32 in base62; the list never shows it', async () => {
    const user = await createUser();
    const res = await api().post('/api/keys').set('Authorization', user.auth).send({ name: 'blackbox probe', scopes: ['health:read'], expires_at: inDays(90) });
    expect(res).toMatchObject({ status: 201, body: { name: 'blackbox probe', scopes: ['health:read'], owner_id: user.user.id, created_by: user.user.id, last_used_at: null, revoked_at: null } });
    expect(res.headers['cache-control']).toBe('no-store');
    const key: string = res.body.key;
    expect(key).toMatch(KEY);
    expect(KEY.exec(key)![1]).toBe(res.body.id);
    // The checksum: CRC32 of the rest, six base62 digits (a scanner can check it offline).
    expect(key.slice(-6)).toBe(checksumOf(key.slice(0, -6)));
    const list = await api().get('/api/keys').set('Authorization', user.auth);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([expect.objectContaining({ id: res.body.id, name: 'blackbox probe' })]);
    expect(JSON.stringify(list.body)).not.toContain(key.slice(17));
    // Stored: the secret's hash only.
    const [row] = await executeQuery<{ secret_hash: Buffer; public_id: string }>('SELECT * FROM api_keys WHERE public_id = $1', [res.body.id]);
    expect(row!.secret_hash.equals(createHash('sha256').update(key.slice(17, 49)).digest())).toBe(true);
    expect(JSON.stringify(row)).not.toContain(key.slice(17, 49));
  });

  test.each([
    ['no expiry', { expires_at: undefined }],
    ['an expiry in the past', { expires_at: inDays(-1) }],
    ['an expiry past API_KEY_MAX_TTL_DAYS (365)', { expires_at: inDays(366) }],
    ['no scope', { scopes: [] }],
    ['an unknown scope', { scopes: ['customers:everything'] }],
    ['a scope twice', { scopes: ['customers:read', 'customers:read'] }],
    ['no name', { name: '' }],
  ])('%s is 400 and makes no key', async (_case, change) => {
    const user = await createUser();
    const res = await api().post('/api/keys').set('Authorization', user.auth).send({ name: 'k', scopes: ['customers:read'], expires_at: inDays(30), ...change });
    expectApiError(res, 400, 'VALIDATION_ERROR');
    expect((await api().get('/api/keys').set('Authorization', user.auth)).body.data).toEqual([]);
  });

  test('a user cannot make a key for someone else (403); an admin only for a service account (400 for a person)', async () => {
    const user = await createUser();
    const admin = await createAdmin();
    const other = await createUser();
    expectApiError(await api().post('/api/keys').set('Authorization', user.auth).send({ name: 'k', scopes: ['customers:read'], expires_at: inDays(1), owner_id: other.user.id }), 403, 'FORBIDDEN');
    expectApiError(await api().post('/api/keys').set('Authorization', admin.auth).send({ name: 'k', scopes: ['customers:read'], expires_at: inDays(1), owner_id: other.user.id }), 400, 'VALIDATION_ERROR');
  });
});

describe('a request with a key', () => {
  afterEach(settled);

  test('is admitted with its scope, as its owner; without it 403 INSUFFICIENT_SCOPE naming the scope', async () => {
    const user = await createUser();
    const customer = await createCustomer();
    const { auth } = await makeKey(user, ['customers:read']);
    const read = await api().get(`/api/customers/${customer.id}`).set('Authorization', auth);
    expect(read).toMatchObject({ status: 200, body: { id: customer.id } });
    const write = await api().post('/api/customers').set('Authorization', auth).send({ name: 'Made by a key' });
    expectApiError(write, 403, 'INSUFFICIENT_SCOPE');
    expect(write.body.error.message).toContain('customers:write');
    expect(write.body.error.details).toEqual([{ path: 'scope', message: 'customers:write' }]);
  });

  test('its changes name the key and its owner in the history', async () => {
    const admin = await createAdmin();
    const key = await makeKey(admin, ['customers:write', 'history:read']);
    const made = await api().post('/api/customers').set('Authorization', key.auth).set('X-Request-Id', `by-key-${key.id}`).send({ name: 'Made by a key' });
    expect(made.status).toBe(201);
    const history = await api().get(`/api/customers/${made.body.id}/history`).set('Authorization', key.auth);
    expect(history.body.data).toEqual([
      expect.objectContaining({ operation: 'insert', request_id: `by-key-${key.id}`, actor: { type: 'api_key', id: key.id, name: expect.stringMatching(/^key /), owner: { id: admin.user.id, name: admin.user.name } } }),
    ]);
    // A person's change right after, on the same pool: no key left over from the key's transaction.
    await api().patch(`/api/customers/${made.body.id}`).set('Authorization', admin.auth).send({ city: 'Bursa' });
    const again = await api().get(`/api/customers/${made.body.id}/history`).set('Authorization', admin.auth);
    expect(again.body.data[0]).toMatchObject({ operation: 'update', actor: { type: 'user', id: admin.user.id } });
    const byOwner = await api().get(`/api/history?actor=${admin.user.id}&entity=customer`).set('Authorization', admin.auth);
    expect(byOwner.body.data.map((e: { actor: { type: string } }) => e.actor.type)).toEqual(['user', 'api_key']);
  });

  test('can do no more than its owner: a user\'s key with customers:import is refused by the role (403 FORBIDDEN)', async () => {
    const user = await createUser();
    const { auth } = await makeKey(user, ['customers:import', 'customers:write']);
    const res = await api().post('/api/customers/import').set('Authorization', auth).set('content-type', 'text/csv').send('name\nKey Import\n');
    expectApiError(res, 403, 'FORBIDDEN');
    const del = await api().delete(`/api/customers/${(await createCustomer()).id}`).set('Authorization', auth);
    expectApiError(del, 403, 'FORBIDDEN');
  });

  test.each([
    ['POST /api/keys', (r: ReturnType<typeof api>) => r.post('/api/keys').send({ name: 'k', scopes: ['customers:read'], expires_at: inDays(1) })],
    ['GET /api/keys', (r: ReturnType<typeof api>) => r.get('/api/keys')],
    ['DELETE /api/keys/:id', (r: ReturnType<typeof api>) => r.delete('/api/keys/AAAAAAAAAAAA')],
    ['GET /api/auth/me', (r: ReturnType<typeof api>) => r.get('/api/auth/me')],
    ['GET /api/auth/sessions', (r: ReturnType<typeof api>) => r.get('/api/auth/sessions')],
    ['POST /api/auth/change-password', (r: ReturnType<typeof api>) => r.post('/api/auth/change-password').send({ current_password: 'x-long-enough', new_password: 'y-long-enough' })],
    ['POST /api/auth/logout', (r: ReturnType<typeof api>) => r.post('/api/auth/logout')],
    ['PATCH /api/users/:id', (r: ReturnType<typeof api>) => r.patch('/api/users/1').send({ name: 'x' })],
  ])('%s is never for a key, whatever its scopes: 403 KEY_NOT_ALLOWED', async (_route, call) => {
    const admin = await createAdmin();
    const { auth } = await makeKey(admin, ['health:read', 'metrics:read', 'customers:read', 'customers:write', 'customers:export', 'customers:import', 'users:read', 'history:read']);
    const res = await call(api()).set('Authorization', auth);
    expectApiError(res, 403, 'FORBIDDEN');
    expect(res.body.error.message).toMatch(/API key cannot be used here/);
  });

  test('a key with one character changed is refused (401) before any database lookup', async () => {
    const user = await createUser();
    const { key } = await makeKey(user, ['customers:read']);
    const lookup = jest.spyOn(keysRepository, 'findKeyForAuth');
    const res = await api().get('/api/customers').set('Authorization', `Bearer ${oneCharChanged(key)}`);
    expectApiError(res, 401, 'UNAUTHORIZED');
    expect(res.body.error.message).toBe('API key is invalid, revoked or expired');
    expect(lookup).not.toHaveBeenCalled();
    // The real key goes to the database (its first use on this instance).
    expect((await api().get('/api/customers').set('Authorization', `Bearer ${key}`)).status).toBe(200);
  });

  test('another secret under the same id, its checksum right, is refused, though the key is cached and was just used', async () => {
    const user = await createUser();
    const { id, key, auth } = await makeKey(user, ['customers:read']);
    expect((await api().get('/api/customers').set('Authorization', auth)).status).toBe(200);
    const secret = key.slice(17, 49);
    const forged = keyOf(id, (secret[0] === 'a' ? 'b' : 'a') + secret.slice(1));
    expect(forged).not.toBe(key);
    expectApiError(await api().get('/api/customers').set('Authorization', `Bearer ${forged}`), 401, 'UNAUTHORIZED');
    expect((await api().get('/api/customers').set('Authorization', auth)).status).toBe(200);
  });

  test('revoked: refused at once on this instance; 204 again on a second revoke; others\' keys are 404', async () => {
    const user = await createUser();
    const other = await createUser();
    const { id, auth } = await makeKey(user, ['customers:read']);
    expect((await api().get('/api/customers').set('Authorization', auth)).status).toBe(200); // now cached
    expectApiError(await api().delete(`/api/keys/${id}`).set('Authorization', other.auth), 404, 'NOT_FOUND');
    expect((await api().delete(`/api/keys/${id}`).set('Authorization', user.auth)).status).toBe(204);
    expectApiError(await api().get('/api/customers').set('Authorization', auth), 401, 'UNAUTHORIZED');
    expect((await api().delete(`/api/keys/${id}`).set('Authorization', user.auth)).status).toBe(204);
    const listed = await api().get('/api/keys').set('Authorization', user.auth);
    expect(listed.body.data[0]).toMatchObject({ id, revoked_at: expect.any(String) });
  });

  test('its owner deactivated: refused at once on this instance', async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const { auth } = await makeKey(user, ['customers:read']);
    expect((await api().get('/api/customers').set('Authorization', auth)).status).toBe(200);
    expect((await api().patch(`/api/users/${user.user.id}`).set('Authorization', admin.auth).send({ is_active: false })).status).toBe(200);
    expectApiError(await api().get('/api/customers').set('Authorization', auth), 401, 'UNAUTHORIZED');
  });

  test('expired: refused from its expiry on (a controlled clock), from the cache, without a lookup', async () => {
    const user = await createUser();
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const { auth } = await makeKey(user, ['customers:read'], { expires_at: expiresAt });
    // The cache trusts the key's row for an hour here: what refuses it below is the expiry, checked on every request.
    setConfig(loadConfig({ ...process.env, AUTH_CACHE_TTL_MS: '3600000' }));
    try {
      expect((await api().get('/api/customers').set('Authorization', auth)).status).toBe(200);
      const lookup = jest.spyOn(keysRepository, 'findKeyForAuth');
      const expiry = new Date(expiresAt).getTime();
      jest.spyOn(Date, 'now').mockImplementation(() => expiry - 1);
      expect((await api().get('/api/customers').set('Authorization', auth)).status).toBe(200);
      jest.spyOn(Date, 'now').mockImplementation(() => expiry);
      expectApiError(await api().get('/api/customers').set('Authorization', auth), 401, 'UNAUTHORIZED');
      expect(lookup).not.toHaveBeenCalled();
    } finally {
      jest.restoreAllMocks();
      setConfig(loadConfig(process.env));
    }
  });

  test('its owner demoted or deleted: refused at once on this instance (the cache forgets the owner\'s keys)', async () => {
    const admin = await createAdmin();
    const other = await createAdmin();
    const { auth } = await makeKey(admin, ['users:read']);
    expect((await api().get('/api/users').set('Authorization', auth)).status).toBe(200);
    expect((await api().patch(`/api/users/${admin.user.id}`).set('Authorization', other.auth).send({ role: 'user' })).status).toBe(200);
    expectApiError(await api().get('/api/users').set('Authorization', auth), 403, 'FORBIDDEN');
    expect((await api().delete(`/api/users/${admin.user.id}`).set('Authorization', other.auth)).status).toBe(204);
    expectApiError(await api().get('/api/users').set('Authorization', auth), 401, 'UNAUTHORIZED');
  });

  test('GET /api/keys?owner: another user\'s keys are for admins (403 for a user); an unknown owner is 404', async () => {
    const admin = await createAdmin();
    const user = await createUser();
    expectApiError(await api().get(`/api/keys?owner=${admin.user.id}`).set('Authorization', user.auth), 403, 'FORBIDDEN');
    expectApiError(await api().get('/api/keys?owner=999999999').set('Authorization', admin.auth), 404, 'NOT_FOUND');
    expect((await api().get(`/api/keys?owner=${user.user.id}`).set('Authorization', admin.auth)).body).toEqual({ data: [] });
  });

  test('in a URL it is refused (401), even beside a good Authorization header, encoded or not', async () => {
    const user = await createUser();
    const { key, auth } = await makeKey(user, ['customers:read', 'health:read']);
    for (const url of [`/api/customers?api_key=${key}`, `/api/health/db/test?k=${encodeURIComponent(key)}`, `/api/customers?q=${key.replace('cak_', 'cak%5F')}`, `/api/customers/${key}`]) {
      const res = await api().get(url).set('Authorization', auth);
      expectApiError(res, 401, 'UNAUTHORIZED');
      expect(res.body.error.message).toMatch(/must not be sent in the URL/);
      expect(JSON.stringify(res.body)).not.toContain(key.slice(17));
    }
  });

  test('its use is recorded at most once a minute: 1,000 requests write last_used_at once', async () => {
    const user = await createUser();
    const { id, auth } = await makeKey(user, ['customers:read']);
    const touch = jest.spyOn(keysRepository, 'touchKey');
    for (let i = 0; i < 1000; i += 50) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => api().get('/api/health/db/test').set('Authorization', auth)));
      for (const a of answers) expect(a.status).toBe(403); // no health:read: refused after the lookup, not recorded
    }
    expect(touch).not.toHaveBeenCalled();
    const { auth: reader } = await makeKey(user, ['health:read']);
    for (let i = 0; i < 1000; i += 50) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => api().get('/api/health/db/test').set('Authorization', reader)));
      for (const a of answers) expect(a.status).toBe(200);
    }
    expect(touch).toHaveBeenCalledTimes(1);
    await new Promise((r) => setTimeout(r, 50));
    const [row] = await executeQuery<{ last_used_at: Date | null; last_used_from: string | null }>('SELECT last_used_at, last_used_from FROM api_keys WHERE public_id = (SELECT public_id FROM api_keys WHERE owner_id = $1 AND public_id <> $2)', [user.user.id, id]);
    expect(row!.last_used_at).toBeInstanceOf(Date);
    expect(row!.last_used_from).toMatch(/127\.0\.0\.1|::1/);
  });

  test('the database writes a use at most once a minute, whichever instance asks', async () => {
    const user = await createUser();
    const { id } = await makeKey(user, ['customers:read']);
    await touchKey(id, '10.0.0.1');
    await touchKey(id, '10.0.0.2');
    const [first] = await executeQuery<{ last_used_from: string }>('SELECT last_used_from FROM api_keys WHERE public_id = $1', [id]);
    expect(first!.last_used_from).toBe('10.0.0.1');
    await executeQuery("UPDATE api_keys SET last_used_at = now() - interval '61 seconds' WHERE public_id = $1", [id]);
    await touchKey(id, '10.0.0.3');
    const [later] = await executeQuery<{ last_used_from: string }>('SELECT last_used_from FROM api_keys WHERE public_id = $1', [id]);
    expect(later!.last_used_from).toBe('10.0.0.3');
  });
});

describe('service accounts', () => {
  afterEach(settled);

  test('an admin makes one (kind service, no password); it cannot log in; its keys work and survive the admin who made them', async () => {
    const admin = await createAdmin();
    const email = `svc-${unique()}@example.com`;
    const made = await api().post('/api/users').set('Authorization', admin.auth).send({ email, name: 'Billing sync', kind: 'service', role: 'user' });
    expect(made).toMatchObject({ status: 201, body: { email, kind: 'service', role: 'user' } });
    for (const password of ['', 'anything-long-enough', '!']) {
      expectApiError(await api().post('/api/auth/login').send({ email, password }), password === '' ? 400 : 401, password === '' ? 'VALIDATION_ERROR' : 'INVALID_CREDENTIALS');
    }
    const key = await makeKey(admin, ['customers:read'], { owner_id: made.body.id });
    expect((await api().get('/api/customers').set('Authorization', key.auth)).status).toBe(200);
    const listed = await api().get(`/api/keys?owner=${made.body.id}`).set('Authorization', admin.auth);
    expect(listed.body.data).toEqual([expect.objectContaining({ id: key.id, owner_id: made.body.id, created_by: admin.user.id })]);
    // The admin who made it leaves; the key does not.
    const other = await createAdmin();
    expect((await api().delete(`/api/users/${admin.user.id}`).set('Authorization', other.auth)).status).toBe(204);
    expect((await api().get('/api/customers').set('Authorization', key.auth)).status).toBe(200);
  });

  test('an inactive service account cannot be given a key (400)', async () => {
    const admin = await createAdmin();
    const svc = await api().post('/api/users').set('Authorization', admin.auth).send({ email: `off-${unique()}@example.com`, name: 'Off', kind: 'service' });
    expect((await api().patch(`/api/users/${svc.body.id}`).set('Authorization', admin.auth).send({ is_active: false })).status).toBe(200);
    const res = await api().post('/api/keys').set('Authorization', admin.auth).send({ name: 'k', scopes: ['customers:read'], expires_at: inDays(1), owner_id: svc.body.id });
    expectApiError(res, 400, 'VALIDATION_ERROR');
    expect(res.body.error.details).toEqual([{ path: 'owner_id', message: 'must be yourself or an active service account' }]);
  });

  test('a person needs a password, a service account may not have one, nor be given one', async () => {
    const admin = await createAdmin();
    expectApiError(await api().post('/api/users').set('Authorization', admin.auth).send({ email: `p-${unique()}@example.com`, name: 'P' }), 400, 'VALIDATION_ERROR');
    expectApiError(
      await api().post('/api/users').set('Authorization', admin.auth).send({ email: `s-${unique()}@example.com`, name: 'S', kind: 'service', password: 'long-enough-pw' }),
      400,
      'VALIDATION_ERROR',
    );
    const svc = await api().post('/api/users').set('Authorization', admin.auth).send({ email: `s-${unique()}@example.com`, name: 'S', kind: 'service' });
    expectApiError(await api().patch(`/api/users/${svc.body.id}`).set('Authorization', admin.auth).send({ password: 'long-enough-pw' }), 400, 'VALIDATION_ERROR');
  });
});

describe('on a second instance', () => {
  afterEach(settled);

  test('revocation and owner deactivation are refused within AUTH_CACHE_TTL_MS; the key is never in a log line', async () => {
    const other = startServer({ DATABASE_URL: process.env.DATABASE_URL!, JWT_SECRET: process.env.JWT_SECRET!, DB_MIGRATE_ON_START: 'false', AUTH_CACHE_TTL_MS: '1500', LOG_LEVEL: 'info' }, await freePort());
    try {
      await waitForHealth(other);
      const admin = await createAdmin();
      const user = await createUser();
      const revoked = await makeKey(user, ['customers:read']);
      const deactivated = await makeKey(user, ['customers:read']);
      const there = async (auth: string, path = '/api/customers?limit=1') => (await fetch(`${other.base}${path}`, { headers: { authorization: auth } })).status;
      expect(await there(revoked.auth)).toBe(200);
      expect(await there(deactivated.auth)).toBe(200);
      expect(await there(`Bearer ${oneCharChanged(revoked.key)}`)).toBe(401);
      expect(await there(revoked.auth, `/api/customers?key=${revoked.key}`)).toBe(401);

      const within = async (auth: string, since: number) => {
        let status = await there(auth);
        while (status === 200 && Date.now() - since < 5000) {
          await new Promise((r) => setTimeout(r, 100));
          status = await there(auth);
        }
        expect(status).toBe(401);
        expect(Date.now() - since).toBeLessThan(1500 + 500);
      };
      const revokedAt = Date.now();
      expect((await api().delete(`/api/keys/${revoked.id}`).set('Authorization', user.auth)).status).toBe(204);
      await within(revoked.auth, revokedAt);
      expect(await there(deactivated.auth)).toBe(200);
      const deactivatedAt = Date.now();
      expect((await api().patch(`/api/users/${user.user.id}`).set('Authorization', admin.auth).send({ is_active: false })).status).toBe(200);
      await within(deactivated.auth, deactivatedAt);

      await new Promise((r) => setTimeout(r, 200)); // the last lines flushed
      const output = other.output();
      expect(output).toContain(`"keyId":"${revoked.id}"`);
      for (const k of [revoked.key, deactivated.key]) {
        expect(output).not.toContain(k.slice(17, 49)); // no secret, whole or in part
      }
    } finally {
      await stopServer(other);
    }
  });
});
