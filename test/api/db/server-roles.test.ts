import type { TargetSessionAttrs } from '../../../src/config/database-url';
import { loadConfig } from '../../../src/config/config';
import { DatabaseUnavailableError, migrate, poolStats, primaryHostStats } from '../../../src/db';
import { buildPool, type PoolState } from '../../../src/db/pool-factory';
import { endPool, withClient } from '../../../src/db/pool';
import { api, expectApiError } from '../../helpers/api';
import { createAdmin } from '../../helpers/factories';
import { describeIf } from '../../helpers/needs';
import { PG_BIN_MISSING, createPgCluster, findPgBin, type PgCluster, type PgNode } from '../../helpers/pg-cluster';
import { usePoolConfig } from '../../helpers/pool';
import { freePort } from '../../helpers/server-process';

// Which server a connection takes, per target_session_attrs, against a real primary (initdb) and a
// real standby (pg_basebackup -R); and a server that turns read-only under the pool.
const bin = findPgBin();

let cluster: PgCluster;
let primary: PgNode;
let standby: PgNode;
const pools: PoolState[] = [];

const at = (...nodes: (PgNode | number)[]) => nodes.map((n) => `127.0.0.1:${typeof n === 'number' ? n : n.port}`).join(',');
const urlOf = (hosts: string, params = '') => `postgres://postgres@${hosts}/postgres${params ? `?${params}` : ''}`;

/** A pool built as the service builds the primary's, for this URL. */
function poolFor(url: string, env: Record<string, string> = {}): PoolState {
  const db = loadConfig({ ...process.env, DATABASE_URL: url, DB_POOL_MIN_CONNECTIONS: '0', ...env }).db;
  const st = buildPool(db, `roles-${pools.length}`);
  pools.push(st);
  return st;
}

/** The port of the server a new connection of this pool reaches. */
const serverPort = (st: PoolState) => withClient(async (c) => (await c.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]!.port, st);

describeIf(bin !== undefined, 'server-roles tests', PG_BIN_MISSING)('target_session_attrs and read-only servers (real primary and standby)', () => {
  beforeAll(async () => {
    cluster = await createPgCluster(bin!);
    primary = await cluster.initPrimary('primary');
    standby = await cluster.addStandby('standby', primary);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(pools.map((st) => endPool(st, 2000)));
    await cluster?.destroy();
  }, 60_000);

  test.each<[TargetSessionAttrs, 'standby first' | 'primary first', 'primary' | 'standby']>([
    ['any', 'standby first', 'standby'],
    ['any', 'primary first', 'primary'],
    ['read-write', 'standby first', 'primary'],
    ['primary', 'standby first', 'primary'],
    ['read-only', 'primary first', 'standby'],
    ['standby', 'primary first', 'standby'],
    ['prefer-standby', 'primary first', 'standby'],
  ])('target_session_attrs=%s, %s: reaches the %s', async (tsa, order, expected) => {
    const hosts = order === 'standby first' ? at(standby, primary) : at(primary, standby);
    const st = poolFor(urlOf(hosts, `target_session_attrs=${tsa}`));
    expect(await serverPort(st)).toBe((expected === 'primary' ? primary : standby).port);
  });

  test('PGTARGETSESSIONATTRS applies when the URL says nothing; several hosts and neither: read-write for the primary pool', async () => {
    expect(await serverPort(poolFor(urlOf(at(primary, standby)), { PGTARGETSESSIONATTRS: 'standby' }))).toBe(standby.port);
    const implied = poolFor(urlOf(at(standby, primary)));
    expect(implied.target.targetSessionAttrs).toBe('read-write');
    expect(await serverPort(implied)).toBe(primary.port);
  });

  test('a host that refuses is skipped at once; none that fits is a clear 503-kind error naming each host', async () => {
    const nobody = await freePort();
    const started = Date.now();
    expect(await serverPort(poolFor(urlOf(at(nobody, primary), 'target_session_attrs=read-write')))).toBe(primary.port);
    expect(Date.now() - started).toBeLessThan(2000);

    const err = await serverPort(poolFor(urlOf(at(nobody, primary), 'target_session_attrs=standby'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    const reason = ((err as Error).cause as Error).message;
    expect(reason).toContain('no database host fits target_session_attrs=standby');
    expect(reason).toContain(`127.0.0.1:${nobody}: connect ECONNREFUSED`);
    expect(reason).toContain(`127.0.0.1:${primary.port}: read-write`);
  });

  test('prefer-standby takes the primary when no standby answers (libpq\'s second pass)', async () => {
    cluster.stop(standby);
    try {
      expect(await serverPort(poolFor(urlOf(at(standby, primary), 'target_session_attrs=prefer-standby')))).toBe(primary.port);
    } finally {
      cluster.start(standby);
    }
  });

  test('load_balance_hosts=random spreads new connections over the hosts', async () => {
    const st = poolFor(urlOf(at(primary, standby), 'target_session_attrs=any&load_balance_hosts=random'), { DB_POOL_MAX_USES: '1' });
    const seen = new Set<number>();
    for (let i = 0; i < 30 && seen.size < 2; i += 1) seen.add(await serverPort(st));
    expect([...seen].sort()).toEqual([primary.port, standby.port].sort());
  });

  describe('a server that turns read-only under the pool (default_transaction_read_only on, reloaded)', () => {
    let admin: string;

    beforeAll(async () => {
      await usePoolConfig({ DATABASE_URL: primary.url, DB_POOL_MIN_CONNECTIONS: '2' });
      await migrate();
      admin = (await createAdmin()).auth;
    });

    afterAll(async () => {
      await cluster.sql(primary, 'ALTER SYSTEM RESET default_transaction_read_only');
      await cluster.sql(primary, 'SELECT pg_reload_conf()');
    });

    test('a write answers 503 DATABASE_UNAVAILABLE with Retry-After, never 500; its client is destroyed; reads go on; writes come back with the server', async () => {
      expect((await api().post('/api/customers').set('Authorization', admin).send({ name: 'Before' })).status).toBe(201);
      const healthBefore = (await api().get('/api/health/db').set('Authorization', admin)).body;
      expect(healthBefore.pools[0]).toMatchObject({ host: `127.0.0.1:${primary.port}`, host_role: 'primary', host_switches: 0 });
      await cluster.sql(primary, 'ALTER SYSTEM SET default_transaction_read_only = on');
      await cluster.sql(primary, 'SELECT pg_reload_conf()');

      const res = await api().post('/api/customers').set('Authorization', admin).send({ name: 'Refused' });
      expectApiError(res, 503, 'DATABASE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      const counters = (await api().get('/api/health/db').set('Authorization', admin)).body.counters;
      // The refused client and the one its retry used, at least: destroyed, not given back.
      expect(counters.connections_destroyed).toBeGreaterThanOrEqual(healthBefore.counters.connections_destroyed + 2);
      expect(poolStats().in_use).toBe(0);
      expect((await api().get('/api/customers?limit=1').set('Authorization', admin)).status).toBe(200);

      await cluster.sql(primary, 'ALTER SYSTEM RESET default_transaction_read_only');
      await cluster.sql(primary, 'SELECT pg_reload_conf()');
      expect((await api().post('/api/customers').set('Authorization', admin).send({ name: 'After' })).status).toBe(201);
      expect(await cluster.sql(primary, "SELECT count(*)::int AS n FROM customers WHERE name = 'Refused'")).toEqual([{ n: 0 }]);
      expect(primaryHostStats().host_role).toBe('primary');
    });
  });
});
