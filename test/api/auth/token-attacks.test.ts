import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { api, expectApiError } from '../../helpers/api';
import { bearer, expiredTokenFor, tokenFor, wrongSecretTokenFor } from '../../helpers/auth';
import { createAdmin, type TestUser } from '../../helpers/factories';

let admin: TestUser;
beforeAll(async () => {
  admin = await createAdmin();
});

const b64 = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const secret = () => process.env.JWT_SECRET!;

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: String(admin.user.id), role: 'admin', iat: now, exp: now + 600, iss: 'customer-api', aud: 'customer-api-clients', ...overrides };
}

/** A token signed by hand with HMAC, whatever its header says. */
function handMade(header: object, payload: object, key = secret(), hash = 'sha256'): string {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac(hash, key).update(body).digest('base64url')}`;
}

const me = (authorization: string) => api().get('/api/auth/me').set('Authorization', authorization);

describe('token attacks on an authenticated route', () => {
  test('a correct token works (the control)', async () => {
    expect((await me(bearer(handMade({ alg: 'HS256', typ: 'JWT' }, claims())))).status).toBe(200);
  });

  test.each([
    ['alg: none, no signature', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
    ['alg: none, with a signature', () => handMade({ alg: 'none', typ: 'JWT' }, claims())],
    ['alg: HS512 with the right secret', () => handMade({ alg: 'HS512', typ: 'JWT' }, claims(), secret(), 'sha512')],
    ['alg: HS384 with the right secret', () => jwt.sign(claims(), secret(), { algorithm: 'HS384' })],
    ['alg: RS256 header over an HMAC signature (algorithm confusion)', () => handMade({ alg: 'RS256', typ: 'JWT' }, claims())],
    ['a wrong secret', () => wrongSecretTokenFor({ id: admin.user.id, role: 'admin' })],
    ['an expired token', () => expiredTokenFor({ id: admin.user.id, role: 'admin' })],
    ['a token not yet valid (nbf in the future)', () => handMade({ alg: 'HS256' }, claims({ nbf: Math.floor(Date.now() / 1000) + 3600 }))],
    ['a wrong issuer', () => tokenFor({ id: admin.user.id, role: 'admin' }, { issuer: 'evil' })],
    ['a wrong audience', () => tokenFor({ id: admin.user.id, role: 'admin' }, { audience: 'someone-else' })],
    ['no exp claim', () => handMade({ alg: 'HS256' }, { ...claims(), exp: undefined })],
    ['a non-numeric sub', () => handMade({ alg: 'HS256' }, claims({ sub: "1' OR '1'='1" }))],
    ['an unknown role', () => handMade({ alg: 'HS256' }, claims({ role: 'root' }))],
    ['a tampered payload', () => {
      const [h, , s] = tokenFor({ id: admin.user.id, role: 'user' }).split('.');
      return `${h}.${b64(claims({ role: 'admin' }))}.${s}`;
    }],
    ['garbage', () => 'not.a.token'],
    ['an empty token', () => ''],
  ])('%s answers 401 UNAUTHORIZED', async (_case, make) => {
    const res = await me(bearer(make()));
    expectApiError(res, 401, 'UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  test('the scheme is case-insensitive; other schemes are refused', async () => {
    const token = tokenFor({ id: admin.user.id, role: 'admin' });
    expect((await me(`bearer ${token}`)).status).toBe(200);
    expectApiError(await me(`Basic ${Buffer.from('a:b').toString('base64')}`), 401, 'UNAUTHORIZED');
    expectApiError(await me(token), 401, 'UNAUTHORIZED');
  });

  test('a token in the query string is not accepted', async () => {
    const token = tokenFor({ id: admin.user.id, role: 'admin' });
    expectApiError(await api().get(`/api/auth/me?access_token=${token}`), 401, 'UNAUTHORIZED');
  });
});
