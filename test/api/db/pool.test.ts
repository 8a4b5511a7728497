import { setTimeout as sleep } from 'node:timers/promises';
import {
  closePool,
  currentTelemetry,
  DatabaseUnavailableError,
  executeQuery,
  executeQueryOne,
  getPool,
  PoolExhaustedError,
  poolStats,
  warmPool,
  withTransaction,
} from '../../../src/db';
import { countBackends, expectNoClientInUse, holdClients, usePoolConfig } from '../../helpers/pool';

const backendPid = async (): Promise<number> => (await executeQueryOne<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;

afterEach(async () => {
  expectNoClientInUse();
  await closePool();
});

describe('the pool (seed tests)', () => {
  test('after warm-up it holds min idle clients and reports the seed stats', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '2', DB_POOL_MAX_CONNECTIONS: '10' });
    await warmPool();
    expect(poolStats()).toEqual({
      min_connections: 2,
      max_connections: 10,
      available: 2,
      in_use: 0,
      total: 2,
      waiting: 0,
      usage_percent: 0,
    });
    expect(await countBackends()).toBe(2);
  });

  test('a query returns rows and gives its client back', async () => {
    await usePoolConfig({});
    const rows = await executeQuery<{ n: number }>('SELECT generate_series(1, 7) AS n');
    expect(rows).toHaveLength(7);
    expect(poolStats()).toMatchObject({ in_use: 0, available: 1, total: 1 });
  });

  test('5 concurrent queries through a pool of max 2 all succeed, then in_use is 0', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '0', DB_POOL_MAX_CONNECTIONS: '2' });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => executeQueryOne<{ i: number }>('SELECT $1::int AS i, pg_sleep(0.05)', [i])));
    expect(results.map((r) => r?.i)).toEqual([0, 1, 2, 3, 4]);
    expect(poolStats()).toMatchObject({ in_use: 0, total: 2, available: 2 });
  });
});

describe('giving clients back', () => {
  test('a failing query gives its client back and keeps the connection', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '1', DB_POOL_MAX_CONNECTIONS: '1' });
    const pid = await backendPid();
    await expect(executeQuery('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    expect(poolStats()).toMatchObject({ in_use: 0, total: 1 });
    expect(await backendPid()).toBe(pid);
  });

  test('a unique violation keeps the healthy connection in the pool', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '1', DB_POOL_MAX_CONNECTIONS: '1' });
    const pid = await backendPid();
    await expect(
      withTransaction(async (tx) => {
        await executeQuery('CREATE TEMP TABLE u (x int PRIMARY KEY)', [], tx);
        await executeQuery('INSERT INTO u VALUES (1), (1)', [], tx);
      }),
    ).rejects.toMatchObject({ name: 'UniqueViolationError', code: '23505' });
    expect(await backendPid()).toBe(pid);
  });

  test('a client whose connection was killed is destroyed, not reused', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '1', DB_POOL_MAX_CONNECTIONS: '1' });
    const pid = await backendPid();
    await expect(
      withTransaction(async (tx) => {
        await executeQuery('SELECT pg_terminate_backend($1)', [pid], tx);
      }),
    ).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(poolStats()).toMatchObject({ in_use: 0 });
    const next = await backendPid();
    expect(next).not.toBe(pid);
    expect(poolStats().total).toBe(1);
  });

  test('an idle client killed by the server is dropped without crashing, and the next query works', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '1', DB_POOL_MAX_CONNECTIONS: '2' });
    await warmPool();
    const pid = await backendPid();
    await executeQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [
      process.env.DB_APPLICATION_NAME,
    ]);
    await executeQuery('SELECT pg_terminate_backend($1)', [pid]).catch(() => undefined);
    await sleep(100);
    expect((await executeQuery('SELECT 1 AS ok'))[0]).toEqual({ ok: 1 });
  });

  test('a transaction that throws half-way writes nothing and gives its client back', async () => {
    await usePoolConfig({});
    await executeQuery('CREATE TABLE IF NOT EXISTS tx_probe (x int)');
    await expect(
      withTransaction(async (tx) => {
        await executeQuery('INSERT INTO tx_probe VALUES (1)', [], tx);
        throw new Error('half-way');
      }),
    ).rejects.toThrow('half-way');
    expect(await executeQuery('SELECT x FROM tx_probe')).toEqual([]);
  });

  test('a transaction commits when its work succeeds', async () => {
    await usePoolConfig({});
    await executeQuery('CREATE TABLE IF NOT EXISTS tx_commit (x int)');
    await withTransaction(async (tx) => {
      await executeQuery('INSERT INTO tx_commit VALUES (1), (2)', [], tx);
    });
    expect(await executeQuery('SELECT x FROM tx_commit ORDER BY x')).toEqual([{ x: 1 }, { x: 2 }]);
  });
});

describe('limits', () => {
  test('with every client held, a caller fails with PoolExhaustedError once the acquire timeout has passed, not much later', async () => {
    await usePoolConfig({ DB_POOL_MAX_CONNECTIONS: '2', DB_POOL_ACQUIRE_TIMEOUT_MS: '300' });
    const release = await holdClients(2);
    const started = Date.now();
    const error = await executeQuery('SELECT 1').catch((err: unknown) => err);
    const elapsed = Date.now() - started;
    await release();
    expect(error).toBeInstanceOf(PoolExhaustedError);
    expect(error).toMatchObject({ reason: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    // A loaded machine may add scheduling delay; the point is that it does not wait for a client.
    expect(elapsed).toBeLessThan(1300);
  });

  test('a full wait queue rejects at once', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '1', DB_POOL_MAX_CONNECTIONS: '1', DB_POOL_MAX_WAITING: '1', DB_POOL_ACQUIRE_TIMEOUT_MS: '2000' });
    const release = await holdClients(1);
    const queued = executeQuery('SELECT 1 AS ok');
    const started = Date.now();
    const error = await executeQuery('SELECT 1').catch((err: unknown) => err);
    // At once: well before the 2 s acquire timeout (a loaded machine may add scheduling delay).
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toMatchObject({ name: 'PoolExhaustedError', reason: 'queue_full' });
    await release();
    await expect(queued).resolves.toEqual([{ ok: 1 }]);
  });

  test('the pool never opens more than max connections', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '0', DB_POOL_MAX_CONNECTIONS: '3' });
    let peak = 0;
    const watcher = (async () => {
      for (let i = 0; i < 10; i += 1) {
        peak = Math.max(peak, await countBackends());
        await sleep(20);
      }
    })();
    await Promise.all(Array.from({ length: 30 }, () => executeQuery('SELECT pg_sleep(0.02)')));
    await watcher;
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3);
    expect(poolStats().total).toBeLessThanOrEqual(3);
  });

  test('idle clients are reaped after the idle timeout, but never below min', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '2', DB_POOL_MAX_CONNECTIONS: '5', DB_POOL_IDLE_TIMEOUT_MS: '100' });
    await warmPool();
    const created = () => currentTelemetry()!.counters.connectionsCreated;
    const before = created();
    // Five at once need five clients: three more than the two kept.
    await Promise.all(Array.from({ length: 5 }, () => executeQuery('SELECT pg_sleep(0.05)')));
    expect(created() - before).toBe(3);
    // Reaped once idle for 100 ms (waited for, not slept: a loaded machine is slower), and no further.
    for (let i = 0; poolStats().total > 2; i += 1) {
      if (i > 250) throw new Error(`idle clients not reaped: ${JSON.stringify(poolStats())}`);
      await sleep(20);
    }
    await sleep(300);
    expect(poolStats()).toMatchObject({ total: 2, available: 2 });
    expect(await countBackends()).toBe(2);
  });

  test('DB_POOL_MAX_USES=1 opens a new connection for every checkout', async () => {
    await usePoolConfig({ DB_POOL_MAX_USES: '1' });
    const pids = [await backendPid(), await backendPid(), await backendPid()];
    expect(new Set(pids).size).toBe(3);
  });

  test('a statement past the statement timeout fails with QueryTimeoutError and the connection is reused', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '1', DB_POOL_MAX_CONNECTIONS: '1', DB_STATEMENT_TIMEOUT_MS: '100' });
    const pid = await backendPid();
    await expect(executeQuery('SELECT pg_sleep(2)')).rejects.toMatchObject({ name: 'QueryTimeoutError' });
    expect(await backendPid()).toBe(pid);
  });

  test('application_name and the server-side timeouts are set on every connection', async () => {
    await usePoolConfig({ DB_STATEMENT_TIMEOUT_MS: '1234', DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '4321' });
    const row = await executeQueryOne<{ app: string; st: string; iit: string }>(
      "SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS st, current_setting('idle_in_transaction_session_timeout') AS iit",
    );
    expect(row).toEqual({ app: process.env.DB_APPLICATION_NAME, st: '1234ms', iit: '4321ms' });
  });

  test('plan_cache_mode is set on every connection (DB_PLAN_CACHE_MODE), after the options of DATABASE_URL', async () => {
    const settings = () => executeQueryOne<{ plans: string; search_path: string }>("SELECT current_setting('plan_cache_mode') AS plans, current_setting('search_path') AS search_path");
    expect(await settings()).toMatchObject({ plans: 'force_generic_plan' });
    await usePoolConfig({ DB_PLAN_CACHE_MODE: 'auto' });
    expect(await settings()).toMatchObject({ plans: 'auto' });
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set('options', '-c search_path=public,pg_catalog');
    await usePoolConfig({ DATABASE_URL: url.toString(), DB_PLAN_CACHE_MODE: 'force_custom_plan' });
    expect(await settings()).toEqual({ plans: 'force_custom_plan', search_path: 'public,pg_catalog' });
  });

  test('jit is off on every connection, before the options of DATABASE_URL (a user\'s -c jit=on wins)', async () => {
    const jit = async () => (await executeQueryOne<{ jit: string }>("SELECT current_setting('jit') AS jit"))!.jit;
    expect(await jit()).toBe('off');
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set('options', '-c jit=on');
    await usePoolConfig({ DATABASE_URL: url.toString() });
    expect(await jit()).toBe('on');
  });

  test.each([
    ['force_generic_plan', { generic_plans: '7', custom_plans: '0' }],
    ['auto', { generic_plans: '2', custom_plans: '5' }],
  ])('DB_PLAN_CACHE_MODE=%s: how a named statement run 7 times was planned', async (mode, counts) => {
    await usePoolConfig({ DB_PLAN_CACHE_MODE: mode });
    const planned = await withTransaction(async (tx) => {
      for (let i = 0; i < 7; i += 1) await executeQuery({ name: 'pool_test_plans', text: 'SELECT id FROM customers WHERE id = $1' }, [i], tx);
      return executeQueryOne("SELECT generic_plans::text, custom_plans::text FROM pg_prepared_statements WHERE name = 'pool_test_plans'", [], tx);
    });
    expect(planned).toEqual(counts);
  });
});

describe('building and closing', () => {
  test('concurrent first calls get the same pool; closePool then getPool builds a new one', async () => {
    await usePoolConfig({});
    const [a, b] = await Promise.all([Promise.resolve().then(getPool), Promise.resolve().then(getPool)]);
    expect(a).toBe(b);
    await executeQuery('SELECT 1');
    await closePool();
    expect(poolStats().total).toBe(0);
    const c = getPool();
    expect(c).not.toBe(a);
    await expect(executeQuery('SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
  });

  test('closePool is bounded in time even with a client held', async () => {
    await usePoolConfig({});
    const held = withTransaction((tx) => executeQuery('SELECT pg_sleep(3)', [], tx)).catch(() => 'ended');
    await sleep(50);
    const started = Date.now();
    await closePool(200);
    await expect(held).resolves.toBe('ended');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('an unreachable database fails with DatabaseUnavailableError, not a hang', async () => {
    await usePoolConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DB_CONNECT_TIMEOUT_MS: '500' });
    const started = Date.now();
    await expect(executeQuery('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

// The test server's TLS setting is asked, not assumed: the suite runs against servers with and without TLS.
describe('TLS modes (against the test server, with TLS or without)', () => {
  let serverTls = false;
  beforeAll(async () => {
    await usePoolConfig({ DB_SSLMODE: 'prefer' });
    serverTls = (await executeQueryOne<{ ssl: string }>('SHOW ssl'))?.ssl === 'on';
    await closePool();
  });

  const sessionTls = async () => (await executeQueryOne<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'))?.ssl;

  test('prefer uses TLS when the server has it, and falls back to a plain connection when not, as libpq does', async () => {
    await usePoolConfig({ DB_SSLMODE: 'prefer' });
    await expect(executeQuery('SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
    expect(await sessionTls()).toBe(serverTls);
  });

  /** Connected (and over TLS or not), or refused as the database being unavailable. */
  const outcome = () =>
    executeQuery('SELECT 1').then(
      async () => ({ connected: true, tls: await sessionTls() }),
      (err: unknown) => ({ connected: false, unavailable: err instanceof DatabaseUnavailableError }),
    );
  const tlsOrRefused = () => (serverTls ? { connected: true, tls: true } : { connected: false, unavailable: true });

  test('require connects over TLS, or refuses to connect in plain', async () => {
    await usePoolConfig({ DB_SSLMODE: 'require', DB_STARTUP_RETRIES: '1' });
    expect(await outcome()).toEqual(tlsOrRefused());
  });

  test('disable connects in plain', async () => {
    await usePoolConfig({ DB_SSLMODE: 'disable', DB_STARTUP_RETRIES: '1' });
    await expect(executeQuery('SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
    expect(await sessionTls()).toBe(false);
  });

  test('an sslmode in DATABASE_URL wins over DB_SSLMODE, without node-postgres\' SECURITY WARNING', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const url = new URL(process.env.DATABASE_URL!);
      url.searchParams.set('sslmode', 'require');
      await usePoolConfig({ DATABASE_URL: url.toString(), DB_SSLMODE: 'disable' });
      expect(await outcome()).toEqual(tlsOrRefused());
      await closePool();
      url.searchParams.set('sslmode', 'disable');
      await usePoolConfig({ DATABASE_URL: url.toString(), DB_SSLMODE: 'require' });
      await expect(executeQuery('SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
      expect(await sessionTls()).toBe(false);
      await sleep(10);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('SECURITY WARNING'))).toEqual([]);
  });
});
