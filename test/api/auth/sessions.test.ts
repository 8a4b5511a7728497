import { createHash } from 'node:crypto';
import { executeQuery } from '../../../src/db';
import { api, expectApiError } from '../../helpers/api';
import { createAdmin, createUser, type TestUser } from '../../helpers/factories';
import { expectNoClientInUse } from '../../helpers/pool';
import { freePort, startServer, stopServer, waitForHealth } from '../../helpers/server-process';

afterEach(() => expectNoClientInUse());

interface Pair {
  token: string;
  refresh_token: string;
  session_id: string;
}

async function login(user: TestUser, extra: Record<string, unknown> = {}): Promise<Pair> {
  const res = await api().post('/api/auth/login').set('User-Agent', 'sessions-test').send({ email: user.user.email, password: user.password, ...extra });
  expect(res.status).toBe(200);
  return res.body as Pair;
}
const refresh = (refreshToken: string) => api().post('/api/auth/refresh').send({ refresh_token: refreshToken });
const me = (token: string) => api().get('/api/auth/me').set('Authorization', `Bearer ${token}`);
/** The controlled clock: the token was rotated `seconds` earlier than it was. */
const rotatedEarlier = (refreshToken: string, seconds: number) =>
  executeQuery("UPDATE auth_refresh_tokens SET rotated_at = rotated_at - make_interval(secs => $2) WHERE token_hash = sha256(convert_to($1, 'UTF8'))", [refreshToken, seconds]);
const sessionRevoked = async (sessionId: string) => (await executeQuery<{ revoked: boolean }>('SELECT revoked_at IS NOT NULL AS revoked FROM auth_sessions WHERE id = $1', [sessionId]))[0]?.revoked;

describe('login and refresh', () => {
  test('login gives an access token for its session and a refresh token; a refresh gives the next pair, and the old refresh token is used up', async () => {
    const user = await createUser();
    const first = await login(user);
    expect(first).toMatchObject({ token_type: 'Bearer', expires_in: 900, session_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect((first as Pair & { refresh_expires_in: number }).refresh_expires_in).toBeGreaterThan(1_209_590);
    expect(first.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await me(first.token)).status).toBe(200);

    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.headers['cache-control']).toBe('no-store');
    expect(second.body.session_id).toBe(first.session_id);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.body.token)).status).toBe(200);

    // Past the grace window, the rotated token is a stolen one: 401, and the whole session ends; the
    // metric the alert CustomerApiRefreshTokenReused watches (ops/prometheus) counts it.
    const reuses = async () => Number(/^auth_refresh_token_reuses_total (\d+)$/m.exec((await api().get('/metrics')).text)?.[1]);
    const before = await reuses();
    await rotatedEarlier(first.refresh_token, 11);
    expectApiError(await refresh(first.refresh_token), 401, 'UNAUTHORIZED');
    expect(await sessionRevoked(first.session_id)).toBe(true);
    expect(await reuses()).toBe(before + 1);
    expectApiError(await refresh(second.body.refresh_token), 401, 'UNAUTHORIZED');
    expectApiError(await me(second.body.token), 401, 'UNAUTHORIZED');
  });

  test('20 refreshes at once with one token: all answered with the same next pair, none taken for a theft', async () => {
    const user = await createUser();
    const first = await login(user);
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(first.refresh_token)));
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(new Set(answers.map((r) => r.body.refresh_token)).size).toBe(1);
    expect(await sessionRevoked(first.session_id)).toBe(false);
    const next = await refresh(answers[0]!.body.refresh_token);
    expect(next.status).toBe(200);
  });

  test('a refresh token used once more after its successor was used: refused without ending the session', async () => {
    const user = await createUser();
    const first = await login(user);
    const second = await refresh(first.refresh_token);
    expect((await refresh(second.body.refresh_token)).status).toBe(200);
    expectApiError(await refresh(first.refresh_token), 401, 'UNAUTHORIZED');
    expect(await sessionRevoked(first.session_id)).toBe(false);
  });

  test('refresh tokens are stored only as hashes', async () => {
    const user = await createUser();
    const { refresh_token: token, session_id: sessionId } = await login(user);
    const rows = await executeQuery<{ token_hash: Buffer }>('SELECT token_hash FROM auth_refresh_tokens WHERE session_id = $1', [sessionId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash.equals(createHash('sha256').update(token).digest())).toBe(true);
    const plain = await executeQuery(
      "SELECT 1 FROM auth_sessions s JOIN auth_refresh_tokens t ON t.session_id = s.id WHERE position(convert_to($1, 'UTF8') IN t.token_hash) > 0 OR s::text LIKE '%' || $1 || '%'",
      [token],
    );
    expect(plain).toHaveLength(0);
  });

  test.each([
    ['no token at all', undefined, 'REFRESH_TOKEN_MISSING'],
    ['an unknown token', 'x'.repeat(43), undefined],
    ['a malformed token', 'not-a-token', undefined],
  ])('%s: 401', async (_case, token, _key) => {
    const res = await api().post('/api/auth/refresh').send(token === undefined ? {} : { refresh_token: token });
    expectApiError(res, 401, 'UNAUTHORIZED');
  });

  test('a refresh token past its sliding lifetime, or a session past its absolute age: 401 (the controlled clock moves the ends)', async () => {
    const user = await createUser();
    const a = await login(user);
    await executeQuery("UPDATE auth_sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [a.session_id]);
    expectApiError(await refresh(a.refresh_token), 401, 'UNAUTHORIZED');

    const b = await login(user);
    // Refreshing slides expires_at, but never past max_expires_at.
    await executeQuery("UPDATE auth_sessions SET max_expires_at = now() + interval '1 hour' WHERE id = $1", [b.session_id]);
    const slid = await refresh(b.refresh_token);
    expect(slid.body.refresh_expires_in).toBeLessThanOrEqual(3600);
    await executeQuery("UPDATE auth_sessions SET max_expires_at = now() - interval '1 second', expires_at = now() - interval '1 second' WHERE id = $1", [b.session_id]);
    expectApiError(await refresh(slid.body.refresh_token), 401, 'UNAUTHORIZED');
    // The session's access tokens end with its absolute age too.
    expectApiError(await me(slid.body.token), 401, 'UNAUTHORIZED');
  });
});

describe('the refresh token in a cookie (a browser frontend)', () => {
  test('login sets an HttpOnly, SameSite=Strict cookie for /api/auth and leaves it out of the body; refresh reads and renews it', async () => {
    const user = await createUser();
    const res = await api().post('/api/auth/login').send({ email: user.user.email, password: user.password, refresh_token_in: 'cookie' });
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('refresh_token');
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]!;
    expect(cookie).toMatch(/^refresh_token=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('; Path=/api/auth');
    expect(cookie).toContain('; HttpOnly');
    expect(cookie).toContain('; SameSite=Strict');
    expect(cookie).toMatch(/; Max-Age=1209\d{3}/);
    // Plain-HTTP development: not Secure (production always is).
    expect(cookie).not.toContain('Secure');

    const value = cookie.split(';')[0]!;
    const next = await api().post('/api/auth/refresh').set('Host', 'api.example.test').set('Origin', 'https://api.example.test').set('Cookie', `theme=dark; ${value}`);
    expect(next.status).toBe(200);
    expect(next.body).not.toHaveProperty('refresh_token');
    const renewed = ([] as string[]).concat(next.headers['set-cookie'] ?? [])[0]!;
    expect(renewed.split(';')[0]).not.toBe(value);
    expect((await me(next.body.token)).status).toBe(200);
  });
});

describe('the refresh cookie and the request origin (CSRF)', () => {
  async function cookieLogin(): Promise<{ cookie: string; token: string; sessionId: string }> {
    const user = await createUser();
    const res = await api().post('/api/auth/login').send({ email: user.user.email, password: user.password, refresh_token_in: 'cookie' });
    expect(res.status).toBe(200);
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]!.split(';')[0]!;
    return { cookie, token: res.body.token, sessionId: res.body.session_id };
  }
  const refreshWith = (cookie: string, headers: Record<string, string>) => api().post('/api/auth/refresh').set(headers).set('Cookie', cookie);

  test('a refresh carrying the cookie from another origin, or with no Origin, is refused with 403 ORIGIN_NOT_ALLOWED, and the token is not used up', async () => {
    const { cookie, sessionId } = await cookieLogin();
    const host = { Host: 'api.example.test' };
    expectApiError(await refreshWith(cookie, { ...host, Origin: 'https://evil.example.test' }), 403, 'ORIGIN_NOT_ALLOWED');
    // Another port of the same host is another origin (SameSite=Strict would still send the cookie there).
    expectApiError(await refreshWith(cookie, { ...host, Origin: 'https://api.example.test:8443' }), 403, 'ORIGIN_NOT_ALLOWED');
    expectApiError(await refreshWith(cookie, { ...host, Origin: 'null' }), 403, 'ORIGIN_NOT_ALLOWED');
    expectApiError(await refreshWith(cookie, host), 403, 'ORIGIN_NOT_ALLOWED');
    // The API's own origin (its Host, https behind a TLS proxy, or http): the same cookie still refreshes, once.
    const own = await refreshWith(cookie, { ...host, Origin: 'https://api.example.test' });
    expect(own.status).toBe(200);
    expect(own.body.session_id).toBe(sessionId);
    const plain = await refreshWith(([] as string[]).concat(own.headers['set-cookie'] ?? [])[0]!.split(';')[0]!, { ...host, Origin: 'http://api.example.test' });
    expect(plain.status).toBe(200);
  });

  test('logout carrying the cookie from another origin is refused before it ends anything; without the cookie, a token is enough', async () => {
    const { cookie, token } = await cookieLogin();
    const logout = () => api().post('/api/auth/logout').set('Authorization', `Bearer ${token}`).set('Host', 'api.example.test');
    expectApiError(await logout().set('Origin', 'https://evil.example.test').set('Cookie', cookie), 403, 'ORIGIN_NOT_ALLOWED');
    expect((await me(token)).status).toBe(200);
    expect((await logout()).status).toBe(204);
    expectApiError(await me(token), 401, 'UNAUTHORIZED');
  });

  test('a refresh token in the body, without the cookie, needs no Origin (programs and mobile apps)', async () => {
    const user = await createUser();
    const { refresh_token: token } = await login(user);
    expect((await api().post('/api/auth/refresh').set('Origin', 'https://elsewhere.example.test').send({ refresh_token: token })).status).toBe(200);
  });
});

describe('ending sessions', () => {
  test('logout ends the session: its access token and its refresh token stop working; another session goes on', async () => {
    const user = await createUser();
    const [a, b] = [await login(user), await login(user)];
    const out = await api().post('/api/auth/logout').set('Authorization', `Bearer ${a.token}`);
    expect(out.status).toBe(204);
    expectApiError(await me(a.token), 401, 'UNAUTHORIZED');
    expectApiError(await refresh(a.refresh_token), 401, 'UNAUTHORIZED');
    expect((await me(b.token)).status).toBe(200);
  });

  test('change-password ends every other session at once; the one that asked goes on', async () => {
    const user = await createUser();
    const [a, b] = [await login(user), await login(user)];
    const res = await api().post('/api/auth/change-password').set('Authorization', `Bearer ${a.token}`).send({ current_password: user.password, new_password: 'a-completely-new-password' });
    expect(res.status).toBe(204);
    expectApiError(await refresh(b.refresh_token), 401, 'UNAUTHORIZED');
    expectApiError(await me(b.token), 401, 'UNAUTHORIZED');
    expect((await me(a.token)).status).toBe(200);
    expect((await refresh(a.refresh_token)).status).toBe(200);
  });

  test.each([
    ['deactivation', { is_active: false }],
    ['a role change', { role: 'admin' }],
    ['a new password set by an admin', { password: 'set-by-the-admin' }],
  ])('%s ends every session of the user', async (_case, change) => {
    const admin = await createAdmin();
    const user = await createUser();
    const a = await login(user);
    expect((await api().patch(`/api/users/${user.user.id}`).set('Authorization', admin.auth).send(change)).status).toBe(200);
    expectApiError(await refresh(a.refresh_token), 401, 'UNAUTHORIZED');
    expectApiError(await me(a.token), 401, 'UNAUTHORIZED');
  });

  test('on another instance, the ended sessions\' access tokens stop within AUTH_CACHE_TTL_MS; their refresh tokens at once', async () => {
    const other = startServer({ DATABASE_URL: process.env.DATABASE_URL!, JWT_SECRET: process.env.JWT_SECRET!, DB_MIGRATE_ON_START: 'false', AUTH_CACHE_TTL_MS: '1500' }, await freePort());
    try {
      await waitForHealth(other);
      const user = await createUser();
      const [a, b] = [await login(user), await login(user)];
      const meThere = async (token: string) => (await fetch(`${other.base}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect(await meThere(b.token)).toBe(200); // the other instance now trusts b's session for 1.5 s
      const changed = Date.now();
      const res = await api().post('/api/auth/change-password').set('Authorization', `Bearer ${a.token}`).send({ current_password: user.password, new_password: 'another-new-password' });
      expect(res.status).toBe(204);
      const refreshThere = await fetch(`${other.base}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: b.refresh_token }) });
      expect(refreshThere.status).toBe(401);
      let status = await meThere(b.token);
      while (status === 200 && Date.now() - changed < 5000) {
        await new Promise((r) => setTimeout(r, 100));
        status = await meThere(b.token);
      }
      expect(status).toBe(401);
      expect(Date.now() - changed).toBeLessThan(1500 + 500);
      expect(await meThere(a.token)).toBe(200);
    } finally {
      await stopServer(other);
    }
  });

  test('a name change ends nothing', async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const a = await login(user);
    expect((await api().patch(`/api/users/${user.user.id}`).set('Authorization', admin.auth).send({ name: 'Renamed' })).status).toBe(200);
    expect((await me(a.token)).status).toBe(200);
  });

  test('GET /api/auth/sessions lists the live ones (current marked); DELETE ends another; not the caller\'s → 404', async () => {
    const user = await createUser();
    const [a, b] = [await login(user), await login(user)];
    const list = await api().get('/api/auth/sessions').set('Authorization', `Bearer ${a.token}`);
    expect(list.status).toBe(200);
    const ids = list.body.data.map((s: { id: string }) => s.id);
    expect(ids).toEqual(expect.arrayContaining([a.session_id, b.session_id, user.sessionId]));
    expect(list.body.data.find((s: { id: string }) => s.id === a.session_id)).toMatchObject({ current: true, user_agent: 'sessions-test' });
    expect(list.body.data.find((s: { id: string }) => s.id === b.session_id)).toMatchObject({ current: false });

    expect((await api().delete(`/api/auth/sessions/${b.session_id}`).set('Authorization', `Bearer ${a.token}`)).status).toBe(204);
    expectApiError(await refresh(b.refresh_token), 401, 'UNAUTHORIZED');
    expectApiError(await me(b.token), 401, 'UNAUTHORIZED');
    // Someone else's session, or one already ended: 404; not a session id: 400.
    const other = await createUser();
    expectApiError(await api().delete(`/api/auth/sessions/${other.sessionId}`).set('Authorization', `Bearer ${a.token}`), 404, 'NOT_FOUND');
    expectApiError(await api().delete(`/api/auth/sessions/${b.session_id}`).set('Authorization', `Bearer ${a.token}`), 404, 'NOT_FOUND');
    expectApiError(await api().delete('/api/auth/sessions/123').set('Authorization', `Bearer ${a.token}`), 400, 'VALIDATION_ERROR');
    expect((await me(other.auth.replace('Bearer ', ''))).status).toBe(200);
  });
});
