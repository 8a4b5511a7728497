import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServer, stopServer, waitForHealth, type ServerProcess } from '../../helpers/server-process';

// The built server, with no database configured, starts its own embedded PostgreSQL.
let dir: string;
let env: Record<string, string>;
const running: ServerProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'customer-api-embedded-'));
  await chmod(dir, 0o755);
  env = { EMBEDDED_DB_DIR: join(dir, 'pg'), LOG_LEVEL: 'info', NODE_ENV: 'development' };
});

afterAll(async () => {
  await Promise.all(running.map((s) => stopServer(s, 'SIGKILL')));
  await rm(dir, { recursive: true, force: true });
}, 30_000);

async function start(): Promise<ServerProcess> {
  const server = startServer(env, await freePort());
  running.push(server);
  await waitForHealth(server);
  return server;
}

async function login(server: ServerProcess, email: string, password: string): Promise<string> {
  const res = await fetch(`${server.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

describe('npm start with no database configured', () => {
  test('starts an embedded PostgreSQL, prints the admin once, serves demo data, and keeps data across restarts', async () => {
    const first = await start();
    expect(first.output()).toMatch(/using the embedded PostgreSQL on 127\.0\.0\.1:\d+, files in /);
    const match = /Admin login \(shown once\): (\S+) \/ (\S+)/.exec(first.output());
    expect(match).not.toBeNull();
    const [, email, password] = match!;
    const token = await login(first, email!, password!);
    const auth = { authorization: `Bearer ${token}` };

    const list = (await (await fetch(`${first.base}/api/customers?limit=5`, { headers: auth })).json()) as { pagination: { total: number } };
    expect(list.pagination.total).toBe(150);
    const created = await fetch(`${first.base}/api/customers`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Survives Restart' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };

    expect(await stopServer(first)).toBe(0);
    expect(first.output()).toContain('shutdown complete');

    const second = await start();
    expect(second.output()).not.toContain('Admin login');
    const token2 = await login(second, email!, password!);
    const read = await fetch(`${second.base}/api/customers/${id}`, { headers: { authorization: `Bearer ${token2}` } });
    expect(await read.json()).toMatchObject({ id, name: 'Survives Restart' });

    // A second API process on the same directory gets a clear message, not a shared cluster.
    const intruder = startServer(env, await freePort());
    expect(await intruder.exited).toBe(1);
    expect(intruder.output()).toMatch(/in use by another customer-api process/);

    // Killed without a chance to clean up: the next start takes the orphaned server over.
    expect(await stopServer(second, 'SIGKILL')).toBeNull();
    const third = await start();
    expect(third.output()).toMatch(/left running by a previous process/);
    expect(await stopServer(third)).toBe(0);
  }, 120_000);

  test('NODE_ENV=production without a database URL refuses to start, with a clear message', async () => {
    const server = startServer({ ...env, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }, await freePort());
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/DATABASE_URL: is required in production/);
  });

  test('a bad variable stops the process before it listens, naming the variable', async () => {
    const server = startServer({ ...env, DB_POOL_MAX_CONNECTIONS: 'lots' }, await freePort());
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/DB_POOL_MAX_CONNECTIONS: .*"lots"/);
  });
});
