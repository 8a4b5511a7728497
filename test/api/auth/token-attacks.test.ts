import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { api, expectApiError } from '../../helpers/api';
import { bearer, expiredTokenFor, keyIdOf, tokenFor, wrongSecretTokenFor } from '../../helpers/auth';
import { createAdmin, type TestUser } from '../../helpers/factories';

let admin: TestUser;
beforeAll(async () => {
  admin = await createAdmin();
});

const b64 = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const secret = () => process.env.JWT_SECRET!;

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: String(admin.user.id), role: 'admin', sid: admin.sessionId, iat: now, exp: now + 600, iss: 'customer-api', aud: 'customer-api-clients', ...overrides };
}
/** The header the service writes: HS256 and the kid of JWT_SECRET. */
const header = (overrides: Record<string, unknown> = {}) => ({ alg: 'HS256', typ: 'JWT', kid: keyIdOf(secret()), ...overrides });

/** A token signed by hand with HMAC, whatever its header says. */
function handMade(header: object, payload: object, key = secret(), hash = 'sha256'): string {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac(hash, key).update(body).digest('base64url')}`;
}

const me = (authorization: string) => api().get('/api/auth/me').set('Authorization', authorization);

describe('token attacks on an authenticated route', () => {
  test('a correct token works (the control)', async () => {
    expect((await me(bearer(handMade(header(), claims())))).status).toBe(200);
  });

  test.each([
    ['alg: none, no signature', () => `${b64(header({ alg: 'none' }))}.${b64(claims())}.`],
    ['alg: none, with a signature', () => handMade(header({ alg: 'none' }), claims())],
    ['alg: HS512 with the right secret', () => handMade(header({ alg: 'HS512' }), claims(), secret(), 'sha512')],
    ['alg: HS384 with the right secret', () => jwt.sign(claims(), secret(), { algorithm: 'HS384', keyid: keyIdOf(secret()) })],
    ['alg: RS256 header over an HMAC signature (algorithm confusion)', () => handMade(header({ alg: 'RS256' }), claims())],
    ['no kid', () => handMade({ alg: 'HS256', typ: 'JWT' }, claims())],
    ['an unknown kid', () => handMade(header({ kid: 'not-a-key-id' }), claims())],
    ['no session id (sid)', () => handMade(header(), { ...claims(), sid: undefined })],
    ['a session id that is not a UUID', () => handMade(header(), claims({ sid: "1' OR '1'='1" }))],
    ['a session that does not exist', () => handMade(header(), claims({ sid: '00000000-0000-4000-8000-000000000000' }))],
    ['a wrong secret', () => wrongSecretTokenFor({ id: admin.user.id, role: 'admin', sid: admin.sessionId })],
    ['an expired token', () => expiredTokenFor({ id: admin.user.id, role: 'admin', sid: admin.sessionId })],
    ['a token not yet valid (nbf in the future)', () => handMade(header(), claims({ nbf: Math.floor(Date.now() / 1000) + 3600 }))],
    ['a wrong issuer', () => tokenFor({ id: admin.user.id, role: 'admin', sid: admin.sessionId }, { issuer: 'evil' })],
    ['a wrong audience', () => tokenFor({ id: admin.user.id, role: 'admin', sid: admin.sessionId }, { audience: 'someone-else' })],
    ['no exp claim', () => handMade(header(), { ...claims(), exp: undefined })],
    ['a non-numeric sub', () => handMade(header(), claims({ sub: "1' OR '1'='1" }))],
    ['an unknown role', () => handMade(header(), claims({ role: 'root' }))],
    ['a tampered payload', () => {
      const [h, , s] = tokenFor({ id: admin.user.id, role: 'user', sid: admin.sessionId }).split('.');
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
    const token = tokenFor({ id: admin.user.id, role: 'admin', sid: admin.sessionId });
    expect((await me(`bearer ${token}`)).status).toBe(200);
    expectApiError(await me(`Basic ${Buffer.from('a:b').toString('base64')}`), 401, 'UNAUTHORIZED');
    expectApiError(await me(token), 401, 'UNAUTHORIZED');
  });

  test('a token in the query string is not accepted', async () => {
    const token = tokenFor({ id: admin.user.id, role: 'admin' });
    expectApiError(await api().get(`/api/auth/me?access_token=${token}`), 401, 'UNAUTHORIZED');
  });
});
