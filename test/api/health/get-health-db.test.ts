import { closePool, executeQuery, poolStats, warmPool, withTransaction } from '../../../src/db';
import { api, expectApiError } from '../../helpers/api';
import { bearer, expiredTokenFor, tokenFor, wrongSecretTokenFor } from '../../helpers/auth';
import { expectNoClientInUse, usePoolConfig } from '../../helpers/pool';

const ADMIN = { id: 1, role: 'admin' as const };

afterEach(() => closePool());

describe('GET /api/health/db', () => {
  test('reports the pool in the seed shape, healthy when idle', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '2', DB_POOL_MAX_CONNECTIONS: '10' });
    await warmPool();
    const res = await api().get('/api/health/db').set('Authorization', bearer(tokenFor(ADMIN)));
    expect(res).toMatchObject({
      status: 200,
      body: {
        status: 'healthy',
        pool_stats: { min_connections: 2, max_connections: 10, available: 2, in_use: 0, total: 2, waiting: 0, usage_percent: 0 },
        warnings: [],
        recommendations: { optimal_range: '60-80% usage', current_config: 'min=2, max=10' },
        counters: { acquisitions: expect.any(Number), acquire_timeouts: 0 },
        acquire_time_ms: { p50: expect.any(Number), p99: expect.any(Number) },
      },
    });
    expectNoClientInUse();
  });

  test('warns, with a readable line per reason, when usage reaches 60 % and callers wait', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '0', DB_POOL_MAX_CONNECTIONS: '2' });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = [withTransaction(() => gate), withTransaction(() => gate)];
    const queued = executeQuery('SELECT 1');
    // Until both clients are held and the third caller waits (a first connection may still be trying TLS).
    for (let i = 0; i < 100 && !(poolStats().in_use === 2 && poolStats().waiting === 1); i += 1) await new Promise((r) => setTimeout(r, 50));
    const res = await api().get('/api/health/db').set('Authorization', bearer(tokenFor(ADMIN))).set('Accept-Language', 'tr');
    open();
    await Promise.all([...held, queued]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'warning',
      pool_stats: { in_use: 2, total: 2, available: 0, waiting: 1, usage_percent: 100 },
      recommendations: { optimal_range: '60-80% kullanım' },
    });
    expect(res.body.warnings).toHaveLength(3);
    expectNoClientInUse();
  });

  test('answers 503 with status error when the database cannot be reached', async () => {
    await usePoolConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DB_CONNECT_TIMEOUT_MS: '300' });
    const res = await api().get('/api/health/db').set('Authorization', bearer(tokenFor(ADMIN)));
    expect(res).toMatchObject({ status: 503, body: { status: 'error', error: 'DATABASE_UNAVAILABLE', pool_stats: { total: 0 } } });
    expect((res.body as { pools: { hosts: unknown[] }[] }).pools[0]!.hosts).toEqual([{ host: '127.0.0.1:1', state: 'down', since: expect.any(String) }]);
  });

  test('lists each host of a multi-host URL with its state: the dead one down, the one serving up', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    const live = `${url.hostname}:${url.port || 5432}`;
    const multi = process.env.DATABASE_URL!.replace(`@${url.host}`, `@127.0.0.1:1,${live}`);
    await usePoolConfig({ DATABASE_URL: multi, DB_CONNECT_TIMEOUT_MS: '300' });
    await executeQuery('SELECT 1');
    const res = await api().get('/api/health/db').set('Authorization', bearer(tokenFor(ADMIN)));
    expect(res.status).toBe(200);
    expect((res.body as { pools: { hosts: unknown[] }[] }).pools[0]!.hosts).toEqual([
      { host: '127.0.0.1:1', state: 'down', since: expect.any(String) },
      { host: live, state: 'up', since: expect.any(String) },
    ]);
  });

  test.each([
    ['no token', undefined],
    ['a malformed header', 'Token abc'],
    ['an expired token', bearer(expiredTokenFor(ADMIN))],
    ['a token signed with another secret', bearer(wrongSecretTokenFor(ADMIN))],
    ['a token with the wrong audience', bearer(tokenFor(ADMIN, { audience: 'someone-else' }))],
  ])('with %s answers 401 UNAUTHORIZED with WWW-Authenticate', async (_case, header) => {
    const req = api().get('/api/health/db');
    const res = header ? await req.set('Authorization', header) : await req;
    expectApiError(res, 401, 'UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
  });
});

describe('GET /api/health/db/test', () => {
  test('runs SELECT 1 through the pool', async () => {
    await usePoolConfig({});
    const res = await api().get('/api/health/db/test').set('Authorization', bearer(tokenFor(ADMIN)));
    expect(res).toMatchObject({
      status: 200,
      body: { status: 'ok', message: 'Database connection successful', test_result: { test: 1 } },
    });
    expect(Math.abs(Date.parse(res.body.test_result.current_time) - Date.now())).toBeLessThan(60_000);
    expectNoClientInUse();
  });

  test('speaks Turkish', async () => {
    await usePoolConfig({ DEFAULT_LOCALE: 'tr' });
    const res = await api().get('/api/health/db/test').set('Authorization', bearer(tokenFor(ADMIN)));
    expect(res.body.message).toBe('Database bağlantısı başarılı');
  });

  test('answers 503 with the error code when the database cannot be reached', async () => {
    await usePoolConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DB_CONNECT_TIMEOUT_MS: '300' });
    const res = await api().get('/api/health/db/test').set('Authorization', bearer(tokenFor(ADMIN)));
    expect(res).toMatchObject({ status: 503, body: { status: 'error', message: 'Database connection failed', error: 'DATABASE_UNAVAILABLE' } });
  });

  test('requires a token', async () => {
    expectApiError(await api().get('/api/health/db/test'), 401, 'UNAUTHORIZED');
  });
});
