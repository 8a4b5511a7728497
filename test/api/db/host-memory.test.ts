import { createServer, type Server, type Socket } from 'node:net';
import { loadConfig } from '../../../src/config/config';
import { buildPool, type PoolState } from '../../../src/db/pool-factory';
import { endPool, withClient } from '../../../src/db/pool';
import { getLogger } from '../../../src/logging/logger';
import { FaultProxy } from '../../helpers/fault-proxy';
import { freePort } from '../../helpers/server-process';

// A host that never answers (accepts TCP, says nothing: a frozen node, a partition that drops
// packets), one that drops the connection after the start-up message, and one that refuses, in front
// of the real test server: each costs one attempt per DB_HOST_RECHECK_S, not one per connection.

const real = new URL(process.env.DATABASE_URL!);
const realKey = `${real.hostname}:${real.port || 5432}`;
const pools: PoolState[] = [];

/** The test database's URL with this host list (the real server's credentials and parameters). */
function urlWith(hosts: string[], targetSessionAttrs = 'read-write'): string {
  const auth = `${real.username}${real.password ? `:${real.password}` : ''}@`;
  const params = new URLSearchParams(real.search);
  params.set('target_session_attrs', targetSessionAttrs);
  return `${real.protocol}//${auth}${hosts.join(',')}${real.pathname}?${params.toString()}`;
}

function poolFor(hosts: string[], env: Record<string, string> = {}, targetSessionAttrs?: string): PoolState {
  const db = loadConfig({ ...process.env, DATABASE_URL: urlWith(hosts, targetSessionAttrs), DB_POOL_MIN_CONNECTIONS: '0', ...env }).db;
  const st = buildPool(db, `host-memory-${pools.length}`);
  pools.push(st);
  return st;
}

/** A listener that counts connections and does `behave` with each. */
async function listener(behave: (socket: Socket) => void): Promise<{ key: string; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    behave(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    key: `127.0.0.1:${port}`,
    accepted: () => accepted,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const stateOf = (st: PoolState, key: string) => st.hosts.list().find((h) => h.host === key)?.state;
const timed = async <T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  const started = Date.now();
  const value = await work();
  return { ms: Date.now() - started, value };
};
/** Waits (up to 4 s) until the pool's probe has found `key` back. */
const untilUp = async (st: PoolState, key: string): Promise<void> => {
  for (let i = 0; i < 40 && stateOf(st, key) !== 'up'; i += 1) await new Promise((r) => setTimeout(r, 100));
};
const portOfServer = (st: PoolState) => withClient(async (c) => (await c.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]!.ok, st);

describe('a pool remembers the hosts that refused or timed out', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(getLogger(), 'warn');
  });
  afterEach(async () => {
    warn.mockRestore();
    await Promise.all(pools.splice(0).map((st) => endPool(st, 2000)));
  });
  const warnings = (pattern: RegExp) => warn.mock.calls.filter((call) => typeof call[1] === 'string' && pattern.test(call[1]));

  test('a host that never answers costs its share of the acquire timeout once, then no connection waits on it', async () => {
    const hole = await listener(() => undefined);
    try {
      // Defaults: DB_CONNECT_TIMEOUT_MS 5000 = DB_POOL_ACQUIRE_TIMEOUT_MS 5000; two hosts: 2.5 s each at most.
      const st = poolFor([hole.key, realKey]);
      const first = await timed(() => portOfServer(st));
      expect(first.ms).toBeGreaterThanOrEqual(2000);
      expect(first.ms).toBeLessThan(4000);
      expect(stateOf(st, hole.key)).toBe('down');
      expect(stateOf(st, realKey)).toBe('up');

      // Ten connections opened at once (each held while the others open): none walks into the dead host.
      const burst = await timed(() =>
        Promise.all(Array.from({ length: 10 }, () => withClient((c) => c.query('SELECT pg_sleep(0.05)'), st))),
      );
      expect(st.pool.totalCount).toBeGreaterThanOrEqual(5);
      expect(burst.ms).toBeLessThan(1500);
      expect(hole.accepted()).toBe(1);
      expect(warnings(new RegExp(`host ${hole.key} is down`))).toHaveLength(1);
      const [entry] = st.hosts.list();
      expect(entry).toEqual({ host: hole.key, state: 'down', since: expect.any(String) as string });
    } finally {
      await hole.close();
    }
  });

  test('a host that drops the connection after the start-up message is left at once and marked down', async () => {
    const dropper = await listener((socket) => socket.once('data', () => socket.destroy()));
    try {
      const st = poolFor([dropper.key, realKey]);
      const first = await timed(() => portOfServer(st));
      expect(first.ms).toBeLessThan(1000);
      expect(stateOf(st, dropper.key)).toBe('down');
      await Promise.all(Array.from({ length: 5 }, () => withClient((c) => c.query('SELECT pg_sleep(0.05)'), st)));
      expect(dropper.accepted()).toBe(1);
    } finally {
      await dropper.close();
    }
  });

  test('a host that comes back is found by one probe after DB_HOST_RECHECK_S, said once, and takes new connections again', async () => {
    const proxy = new FaultProxy(real.hostname, Number(real.port || 5432));
    await proxy.listen();
    const proxyKey = `127.0.0.1:${proxy.port}`;
    try {
      proxy.blackHole(true);
      const st = poolFor([proxyKey, realKey], { DB_HOST_RECHECK_S: '1', DB_CONNECT_TIMEOUT_MS: '500', DB_POOL_MAX_USES: '1' });
      await portOfServer(st);
      expect(stateOf(st, proxyKey)).toBe('down');
      expect(st.host.current?.key).toBe(realKey);

      proxy.blackHole(false);
      // The probe runs within a recheck interval (plus its own connect) without any request.
      await untilUp(st, proxyKey);
      expect(stateOf(st, proxyKey)).toBe('up');
      expect(warnings(new RegExp(`host ${proxyKey} is back`))).toHaveLength(1);
      // The URL's first host again (DB_POOL_MAX_USES=1: every use opens a new connection).
      await portOfServer(st);
      expect(st.host.current?.key).toBe(proxyKey);
    } finally {
      await proxy.close();
    }
  });

  test('when no other host fits, a host remembered as down is still tried (and found back) before its recheck', async () => {
    const proxy = new FaultProxy(real.hostname, Number(real.port || 5432));
    await proxy.listen();
    const proxyKey = `127.0.0.1:${proxy.port}`;
    const refused = `127.0.0.1:${await freePort()}`;
    try {
      proxy.blackHole(true);
      const st = poolFor([proxyKey, refused], { DB_HOST_RECHECK_S: '600', DB_CONNECT_TIMEOUT_MS: '300' });
      await expect(portOfServer(st)).rejects.toThrow();
      expect(st.hosts.list().map((h) => h.state)).toEqual(['down', 'down']);

      proxy.blackHole(false);
      expect(await portOfServer(st)).toBe(1);
      expect(stateOf(st, proxyKey)).toBe('up');
      expect(stateOf(st, refused)).toBe('down');
    } finally {
      await proxy.close();
    }
  });

  test('one host: its state is kept for health, and its own error goes on unchanged', async () => {
    const refused = `127.0.0.1:${await freePort()}`;
    const st = poolFor([refused], { DB_CONNECT_TIMEOUT_MS: '300' });
    await expect(portOfServer(st)).rejects.toThrow();
    expect(st.hosts.list()).toEqual([{ host: refused, state: 'down', since: expect.any(String) as string }]);
  });

  test('prefer-standby with a primary and a standby that never answers: the dead standby leaves time for the primary, then is skipped', async () => {
    const hole = await listener(() => undefined);
    try {
      // Defaults: acquire 5000 ms. The 'standby' pass must not give the dead host all that is left.
      const st = poolFor([realKey, hole.key], {}, 'prefer-standby');
      const first = await timed(() => portOfServer(st));
      expect(first.value).toBe(1);
      expect(first.ms).toBeLessThan(4000);
      expect(stateOf(st, hole.key)).toBe('down');
      expect(st.host.current).toEqual({ key: realKey, role: 'primary' });
      // Remembered as down: the next connections do not wait on it.
      const burst = await timed(() => Promise.all(Array.from({ length: 4 }, () => withClient((c) => c.query('SELECT pg_sleep(0.05)'), st))));
      expect(burst.ms).toBeLessThan(1500);
      expect(hole.accepted()).toBe(1);
    } finally {
      await hole.close();
    }
  });

  test('one host that comes back is found by the probe without a request: its state does not stay down', async () => {
    const proxy = new FaultProxy(real.hostname, Number(real.port || 5432));
    await proxy.listen();
    const proxyKey = `127.0.0.1:${proxy.port}`;
    try {
      proxy.blackHole(true);
      const st = poolFor([proxyKey], { DB_HOST_RECHECK_S: '1', DB_CONNECT_TIMEOUT_MS: '500' });
      await expect(portOfServer(st)).rejects.toThrow();
      expect(stateOf(st, proxyKey)).toBe('down');
      proxy.blackHole(false);
      await untilUp(st, proxyKey);
      expect(stateOf(st, proxyKey)).toBe('up');
      expect(st.pool.totalCount).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
