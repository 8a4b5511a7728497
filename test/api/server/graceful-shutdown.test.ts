import { request as httpRequest } from 'node:http';
import { Client } from 'pg';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { freePort, startServer, stopServer, waitForHealth, waitForOutput, type ServerProcess } from '../../helpers/server-process';

let caller: TestUser;
let customerId: number;
const running: ServerProcess[] = [];

beforeAll(async () => {
  caller = await createUser();
  customerId = (await createCustomer()).id;
});

afterAll(async () => {
  await Promise.all(running.map((s) => stopServer(s, 'SIGKILL')));
});

async function start(extra: Record<string, string> = {}): Promise<ServerProcess> {
  const server = startServer(
    { DATABASE_URL: process.env.DATABASE_URL!, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'info', DB_MIGRATE_ON_START: 'false', ...extra },
    await freePort(),
  );
  running.push(server);
  await waitForHealth(server);
  return server;
}

/** Resolves with the status, or the network error's code. */
function get(server: ServerProcess, path: string, agentless = true): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest(`${server.base}${path}`, { headers: { authorization: caller.auth, connection: agentless ? 'close' : 'keep-alive' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'ERROR'));
    req.end();
  });
}

/** Waits until `n` statements of this database wait for a lock: the PATCHes are in flight, stuck behind lockCustomer(). */
async function waitForLockWaiters(n: number): Promise<void> {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const waiting = async () =>
      (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0]!.n;
    for (let i = 0; (await waiting()) < n; i += 1) {
      if (i > 500) throw new Error(`fewer than ${n} statements waiting for a lock after 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await client.end();
  }
}

/** Holds the customer's row in another session, so a PATCH on it stays in flight until released. */
async function lockCustomer(): Promise<() => Promise<void>> {
  const locker = new Client({ connectionString: process.env.DATABASE_URL });
  // The file's database is dropped (with its sessions) at the end, whatever happened.
  locker.on('error', () => undefined);
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM customers WHERE id = $1 FOR UPDATE', [customerId]);
  return async () => {
    await locker.query('ROLLBACK');
    await locker.end();
  };
}

function patch(server: ServerProcess): Promise<number | string> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ notes: 'written while draining' });
    const req = httpRequest(
      `${server.base}/api/customers/${customerId}`,
      { method: 'PATCH', headers: { authorization: caller.auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'ERROR'));
    req.end(body);
  });
}

describe('graceful shutdown (SIGTERM)', () => {
  test('in-flight requests finish, new ones are refused, the pool closes, exit 0', async () => {
    const server = await start();
    const unlock = await lockCustomer();
    const inFlight = [patch(server), patch(server), get(server, `/api/customers/${customerId}`)];
    await waitForLockWaiters(2);
    server.child.kill('SIGTERM');
    await waitForOutput(server, 'shutting down: draining in-flight requests');
    const afterSignal = await get(server, '/api/health');
    await unlock();
    const statuses = await Promise.all(inFlight);
    const code = await server.exited;
    expect(statuses).toEqual([200, 200, 200]);
    expect(afterSignal).toBe('ECONNREFUSED');
    expect(code).toBe(0);
    expect(server.output()).toContain('shutdown complete');
  }, 30_000);

  test('a second signal forces the exit while a request is still in flight', async () => {
    const server = await start({ SHUTDOWN_TIMEOUT_MS: '20000' });
    const unlock = await lockCustomer();
    try {
      const inFlight = patch(server);
      await waitForLockWaiters(1);
      server.child.kill('SIGTERM');
      await waitForOutput(server, 'shutting down: draining in-flight requests');
      expect(server.child.exitCode).toBeNull();
      const started = Date.now();
      server.child.kill('SIGTERM');
      const code = await server.exited;
      expect(Date.now() - started).toBeLessThan(2000);
      expect(code).toBe(1);
      expect(server.output()).toContain('second signal');
      expect(await inFlight).toBe('ECONNRESET');
    } finally {
      await unlock();
    }
  }, 30_000);

  test('a request stuck behind a lock (no statement timeout): the whole shutdown still ends within SHUTDOWN_TIMEOUT_MS + 1 s, exit 0', async () => {
    const server = await start({ SHUTDOWN_TIMEOUT_MS: '2000', DB_STATEMENT_TIMEOUT_MS: '0' });
    const unlock = await lockCustomer();
    try {
      const inFlight = patch(server);
      await waitForLockWaiters(1);
      const started = Date.now();
      server.child.kill('SIGTERM');
      const code = await server.exited;
      expect(Date.now() - started).toBeLessThanOrEqual(3000);
      expect(code).toBe(0);
      expect(server.output()).toContain('closing the connections of requests still in flight');
      expect(server.output()).toContain('shutdown complete');
      expect(await inFlight).toBe('ECONNRESET');
    } finally {
      await unlock();
    }
  }, 30_000);
});
