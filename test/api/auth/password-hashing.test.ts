import { randomBytes, scryptSync } from 'node:crypto';
import { executeQuery } from '../../../src/db';
import { loadConfig, setConfig } from '../../../src/config/config';
import { hashPassword, verifyPassword } from '../../../src/modules/users';
import { api } from '../../helpers/api';
import { createAdmin, createUser } from '../../helpers/factories';

const storedHash = async (id: number) => (await executeQuery<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [id]))[0]!.h;

describe('password hashing', () => {
  test('a new user\'s hash is argon2id at OWASP\'s parameters (m=19 MiB, t=2, p=1)', async () => {
    const admin = await createAdmin();
    const res = await api().post('/api/users').set('Authorization', admin.auth).send({ email: `h-${Date.now()}@example.com`, name: 'Hashed', password: 'a-long-password' });
    expect(res.status).toBe(201);
    expect(await storedHash(res.body.id as number)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  });

  test('a hash of an earlier version (scrypt N=2^14) still logs in, and is replaced by argon2id then; the history records no change', async () => {
    const user = await createUser();
    const salt = randomBytes(16);
    const key = scryptSync(user.password, salt, 64, { N: 16_384, r: 8, p: 1 });
    const old = ['scrypt', 16_384, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
    await executeQuery('UPDATE users SET password_hash = $2 WHERE id = $1', [user.user.id, old]);
    const before = (await executeQuery<{ n: number }>("SELECT count(*)::int AS n FROM history WHERE entity = 'user' AND entity_id = $1", [user.user.id]))[0]!.n;

    const login = await api().post('/api/auth/login').send({ email: user.user.email, password: user.password });
    expect(login.status).toBe(200);
    const upgraded = await storedHash(user.user.id);
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(user.password, upgraded)).toBe(true);
    const after = (await executeQuery<{ n: number }>("SELECT count(*)::int AS n FROM history WHERE entity = 'user' AND entity_id = $1", [user.user.id]))[0]!.n;
    expect(after).toBe(before);
    // And the old password works on.
    expect((await api().post('/api/auth/login').send({ email: user.user.email, password: user.password })).status).toBe(200);
  });

  test('a wrong password does not verify; a malformed stored hash never matches', async () => {
    const hash = await hashPassword('right-password');
    expect(await verifyPassword('wrong-password', hash)).toBe(false);
    expect(await verifyPassword('right-password', 'plain-text')).toBe(false);
    expect(await verifyPassword('right-password', '$argon2id$v=19$m=19456,t=2,p=1$broken')).toBe(false);
  });

  test('the hashes at once are bounded: past the queue, 429 with Retry-After', async () => {
    setConfig(loadConfig({ ...process.env, PASSWORD_HASH_CONCURRENCY: '1' }));
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 70 }, (_, i) => hashPassword(`password-${i}`)));
      const refused = outcomes.filter((o) => o.status === 'rejected');
      // One running, 64 waiting: the other 5 are refused at once.
      expect(refused).toHaveLength(5);
      for (const r of refused) expect(r.reason).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 });
    } finally {
      setConfig(loadConfig(process.env));
    }
  }, 30_000);
});
