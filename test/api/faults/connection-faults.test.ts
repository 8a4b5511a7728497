import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseUnavailableError, closePool, currentTelemetry, executeQuery, executeWrite, poolStats, warmPool, withTransaction } from '../../../src/db';
import { adminUrl, withAdminClient } from '../../helpers/admin-db';
import { api, expectApiError } from '../../helpers/api';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { FaultProxy } from '../../helpers/fault-proxy';
import { parseExposition } from '../../helpers/prometheus';
import { countBackends, usePoolConfig } from '../../helpers/pool';

// The pool talks to PostgreSQL through a proxy that the tests make misbehave.
const MAX = 4;
let proxy: FaultProxy;
let caller: TestUser;
let customerId: number;

beforeAll(async () => {
  caller = await createUser();
  customerId = (await createCustomer()).id;
  await closePool();
  const target = new URL(process.env.DATABASE_URL!);
  proxy = new FaultProxy(target.hostname, Number(target.port || 5432));
  await proxy.listen();
});

beforeEach(async () => {
  proxy.blackHole(false);
  proxy.holdNewConnections(false);
  proxy.setLatency(0);
  if (!proxy.listening) await proxy.listen();
  await usePoolConfig({
    DATABASE_URL: proxy.urlFor(process.env.DATABASE_URL!),
    DB_POOL_MIN_CONNECTIONS: '2',
    DB_POOL_MAX_CONNECTIONS: String(MAX),
    DB_CONNECT_TIMEOUT_MS: '500',
    DB_POOL_ACQUIRE_TIMEOUT_MS: '1500',
    DB_STATEMENT_TIMEOUT_MS: '500',
    DB_STARTUP_RETRIES: '1',
  });
});

afterEach(async () => {
  expect(poolStats().in_use).toBe(0);
  expect(await countBackends()).toBeLessThanOrEqual(MAX);
  await closePool();
});

afterAll(() => proxy.close());

/** db_client_connection_errors_total of the primary pool, as /metrics shows it. */
async function connectionErrorsScraped(): Promise<number> {
  const { samples } = parseExposition((await api().get('/metrics')).text);
  return samples.find((s) => s.name === 'db_client_connection_errors_total' && s.labels.pool_name === process.env.DB_APPLICATION_NAME)?.value ?? 0;
}

const getCustomer = () => api().get(`/api/customers/${customerId}`).set('Authorization', caller.auth);

describe('every connection killed', () => {
  test('through the proxy: the process survives, broken clients are destroyed, the next requests succeed', async () => {
    await warmPool();
    expect((await getCustomer()).status).toBe(200);
    expect(poolStats().total).toBe(2);
    const errorsBefore = currentTelemetry()!.counters.connectionErrors;
    const scrapedBefore = await connectionErrorsScraped();
    proxy.dropAll();
    await sleep(50);
    expect(poolStats().total).toBe(0);
    expect(currentTelemetry()!.counters.connectionErrors).toBe(errorsBefore + 2);
    // Counted where ops look too.
    expect(await connectionErrorsScraped()).toBe(scrapedBefore + 2);
    for (let i = 0; i < 5; i += 1) expect((await getCustomer()).status).toBe(200);
  });

  test('with pg_terminate_backend: the next requests succeed', async () => {
    await warmPool();
    expect((await getCustomer()).status).toBe(200);
    await withAdminClient(adminUrl(), (c) => c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [process.env.DB_APPLICATION_NAME]));
    await sleep(50);
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await getCustomer()).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  test('mid-query, a read is retried once on a fresh connection and succeeds', async () => {
    await warmPool();
    expect((await getCustomer()).status).toBe(200); // the caller is cached: only the route's query is in flight
    proxy.setLatency(300);
    const pending = getCustomer().then((res) => res); // supertest sends only once then() is called
    await sleep(100);
    expect(poolStats().in_use).toBe(1);
    proxy.setLatency(0);
    proxy.dropAll();
    expect((await pending).status).toBe(200);
  });

  test('mid-statement, a POST is rolled back by the server and its transaction run again: 201, and exactly one customer', async () => {
    await warmPool();
    expect((await getCustomer()).status).toBe(200); // the caller is cached: only the POST's transaction is in flight
    const name = `Written once ${Date.now()}`;
    proxy.setLatency(300);
    const pending = api().post('/api/customers').set('Authorization', caller.auth).send({ name }).then((res) => res);
    await sleep(100);
    expect(poolStats().in_use).toBe(1);
    proxy.setLatency(0);
    proxy.dropAll();
    const res = await pending;
    expect(res.status).toBe(201);
    // COMMIT had not been sent when the connection went: the server undid the first attempt.
    expect(await executeQuery('SELECT id FROM customers WHERE name = $1', [name])).toEqual([{ id: String(res.body.id) }]);
  });

  test('mid-statement, a write outside a transaction (executeWrite) is not sent again: its fate is unknown', async () => {
    await warmPool();
    proxy.setLatency(300);
    const name = `Maybe written ${Date.now()}`;
    const pending = executeWrite('INSERT INTO customers (name) VALUES ($1)', [name]).then(
      () => 'written',
      (err: unknown) => err,
    );
    await sleep(100);
    proxy.setLatency(0);
    proxy.dropAll();
    expect(await pending).toBeInstanceOf(DatabaseUnavailableError);
    expect((await getCustomer()).status).toBe(200);
  });
});

describe('database unreachable', () => {
  test('503 DATABASE_UNAVAILABLE within the connect timeout, readiness 503, and recovery when it returns', async () => {
    await proxy.refuse();
    const started = Date.now();
    const res = await getCustomer();
    expectApiError(res, 503, 'DATABASE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(500 + 500);
    expect((await api().get('/api/health/ready')).status).toBe(503);
    await proxy.listen();
    expect((await api().get('/api/health/ready')).status).toBe(200);
    expect((await getCustomer()).status).toBe(200);
  });
});

describe('a new connection slower than the health probe', () => {
  /**
   * Both warm clients checked out (one idle in a transaction, one running `SELECT 1` every 20 ms when
   * `traffic`), new connections held by the proxy for longer than the probe's second: the probe's
   * SELECT 1 waits for a connection that takes 1.5 s to fail. Returns the health answers and the
   * statements the traffic ran.
   */
  async function healthWhileOpeningIsSlow(traffic: boolean) {
    await usePoolConfig({ DATABASE_URL: proxy.urlFor(process.env.DATABASE_URL!), DB_POOL_MIN_CONNECTIONS: '2', DB_POOL_MAX_CONNECTIONS: String(MAX), DB_CONNECT_TIMEOUT_MS: '1500' });
    await warmPool();
    expect((await getCustomer()).status).toBe(200);
    proxy.holdNewConnections(true);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let answered = 0;
    const busy = [
      withTransaction(() => gate),
      withTransaction(async (client) => {
        if (!traffic) return gate;
        let done = false;
        void gate.then(() => (done = true));
        while (!done) {
          await executeQuery('SELECT 1', [], client);
          answered += 1;
          await sleep(20);
        }
      }),
    ];
    while (poolStats().available > 0) await sleep(5);
    const db = await api().get('/api/health/db').set('Authorization', caller.auth);
    const ready = await api().get('/api/health/ready');
    open();
    await Promise.all(busy);
    // The probes' connections fail at the connect timeout; until then they count as checked out.
    while (poolStats().total > poolStats().available) await sleep(20);
    return { db, ready, answered };
  }

  test('while other statements come back, the database answers: 200, readiness 200', async () => {
    const { db, ready, answered } = await healthWhileOpeningIsSlow(true);
    expect(answered).toBeGreaterThan(0);
    expect(db.status).toBe(200);
    expect(db.body.pool_stats).toMatchObject({ in_use: 3, total: 3 });
    expect(ready.status).toBe(200);
  }, 15_000);

  test('while nothing comes back, it does not: 503 DATABASE_UNAVAILABLE after the probe\'s second, readiness 503', async () => {
    const started = Date.now();
    const { db, ready } = await healthWhileOpeningIsSlow(false);
    expect(db).toMatchObject({ status: 503, body: { status: 'error', error: 'DATABASE_UNAVAILABLE' } });
    expect(ready.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThan(2 * 1000);
  }, 15_000);
});

describe('a black-holed connection', () => {
  test('a new connection is bounded by the connect timeout', async () => {
    proxy.blackHole(true);
    const started = Date.now();
    const res = await getCustomer();
    expectApiError(res, 503, 'DATABASE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(500 + 700);
    proxy.blackHole(false);
    expect((await getCustomer()).status).toBe(200);
  });

  test('an open connection is bounded by the client-side query timeout, then destroyed', async () => {
    await warmPool();
    expect((await getCustomer()).status).toBe(200);
    proxy.blackHole(true);
    const started = Date.now();
    const res = await getCustomer();
    const elapsed = Date.now() - started;
    proxy.blackHole(false);
    expect(res.status).toBe(503);
    expect(['DATABASE_UNAVAILABLE', 'QUERY_TIMEOUT']).toContain(res.body.error.code);
    // statement timeout 500 ms + the client's 2 s margin
    expect(elapsed).toBeLessThan(500 + 2000 + 1000);
    expect((await getCustomer()).status).toBe(200);
  }, 15_000);
});
