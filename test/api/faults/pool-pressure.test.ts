import { Client } from 'pg';
import { closePool, withTransaction } from '../../../src/db';
import { getLogger } from '../../../src/logging/logger';
import { api, expectApiError } from '../../helpers/api';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { holdClients, usePoolConfig } from '../../helpers/pool';

let caller: TestUser;
let customerId: number;

beforeAll(async () => {
  caller = await createUser();
  customerId = (await createCustomer()).id;
});

afterEach(() => closePool());

const getCustomer = () => api().get(`/api/customers/${customerId}`).set('Authorization', caller.auth);

describe('an exhausted pool', () => {
  test('answers 503 POOL_EXHAUSTED with Retry-After within the acquire timeout, then recovers', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '0', DB_POOL_MAX_CONNECTIONS: '2', DB_POOL_ACQUIRE_TIMEOUT_MS: '300' });
    expect((await getCustomer()).status).toBe(200); // caches the caller, so only the route needs a client
    const release = await holdClients(2);
    const started = Date.now();
    const res = await getCustomer();
    const elapsed = Date.now() - started;
    await release();
    expectApiError(res, 503, 'POOL_EXHAUSTED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 200);
    expect((await getCustomer()).status).toBe(200);
  });

  test('with a full wait queue, refuses at once', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '0', DB_POOL_MAX_CONNECTIONS: '1', DB_POOL_MAX_WAITING: '0', DB_POOL_ACQUIRE_TIMEOUT_MS: '5000' });
    expect((await getCustomer()).status).toBe(200);
    const release = await holdClients(1);
    const started = Date.now();
    const res = await getCustomer();
    const elapsed = Date.now() - started;
    await release();
    expectApiError(res, 503, 'POOL_EXHAUSTED');
    expect(elapsed).toBeLessThan(100);
  });

  test('the health route still answers, and says why', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '0', DB_POOL_MAX_CONNECTIONS: '2', DB_POOL_ACQUIRE_TIMEOUT_MS: '300' });
    const release = await holdClients(2);
    const res = await api().get('/api/health/db').set('Authorization', caller.auth);
    await release();
    expect(res).toMatchObject({ status: 200, body: { status: 'warning', pool_stats: { in_use: 2, usage_percent: 100 } } });
  });
});

describe('a statement past the statement timeout', () => {
  test('answers 503 QUERY_TIMEOUT, writes nothing, and the connection is reused', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '1', DB_POOL_MAX_CONNECTIONS: '1', DB_STATEMENT_TIMEOUT_MS: '300' });
    expect((await getCustomer()).status).toBe(200);
    const pidBefore = await api().get('/api/health/db').set('Authorization', caller.auth);
    // Another session holds the row, so the UPDATE waits until the server cancels it.
    const locker = new Client({ connectionString: new URL(process.env.DATABASE_URL!).toString() });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM customers WHERE id = $1 FOR UPDATE', [customerId]);
      const res = await api().patch(`/api/customers/${customerId}`).set('Authorization', caller.auth).send({ notes: 'never written' });
      expectApiError(res, 503, 'QUERY_TIMEOUT');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    const after = await getCustomer();
    expect(after.body).toMatchObject({ version: 1, notes: null });
    const health = await api().get('/api/health/db').set('Authorization', caller.auth);
    expect(health.body.counters.connections_created).toBe(pidBefore.body.counters.connections_created);
    expect(health.body.counters.connections_destroyed).toBe(0);
  });
});

describe('a leaked client', () => {
  test('the leak-detection warning names where it was acquired', async () => {
    await usePoolConfig({ DB_POOL_LEAK_DETECTION_MS: '100' });
    const warn = jest.spyOn(getLogger(), 'warn');
    try {
      await withTransaction(() => new Promise((r) => setTimeout(r, 250)));
      const leak = warn.mock.calls.find(([, message]) => typeof message === 'string' && message.includes('possible leak'));
      expect(leak).toBeDefined();
      expect((leak![0] as { acquiredAt: string }).acquiredAt).toContain('pool-pressure.test.ts');
    } finally {
      warn.mockRestore();
    }
  });

  test('a client given back in time raises no warning', async () => {
    await usePoolConfig({ DB_POOL_LEAK_DETECTION_MS: '200' });
    const warn = jest.spyOn(getLogger(), 'warn');
    try {
      await withTransaction(() => new Promise((r) => setTimeout(r, 20)));
      await new Promise((r) => setTimeout(r, 250));
      expect(warn.mock.calls.filter(([, m]) => typeof m === 'string' && m.includes('possible leak'))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });
});
