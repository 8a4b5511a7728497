import { withAdminClient } from '../../helpers/admin-db';
import { parseExposition } from '../../helpers/prometheus';
import { startServerAsAdmin, stopServer, type ServerProcess } from '../../helpers/server-process';
import { describeIf } from '../../helpers/needs';
import { PG_BIN_MISSING } from '../../helpers/pg-cluster';
import { findPgBin, startStreamingPair, type StreamingPair } from '../../helpers/streaming-replica';

// The built server with DATABASE_REPLICA_URLS, against a real streaming replica: a primary from
// initdb and a replica from pg_basebackup -R, both run with pg_ctl (Debian's PostgreSQL binaries).
const bin = findPgBin();
let pair: StreamingPair;
let server: ServerProcess;
let auth: string;

const ADMIN = { email: 'replica-admin@example.com', password: 'replica-admin-pw' };
const MAX_LAG_MS = 1500;
const REPLICA = 'customer-api-replica-1';
const PRIMARY = 'customer-api';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers' shapes are what the tests check
type ApiBody = any;

interface PoolEntry {
  pool_name: string;
  role: string;
  state?: string;
  lag_ms?: number | null;
  in_use: number;
}

async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: ApiBody }> {
  const res = await fetch(`${server.base}${path}`, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const healthDb = async () => (await api('/api/health/db')).body as { status: string; warnings: string[]; pools: PoolEntry[] };
const replicaEntry = async () => (await healthDb()).pools.find((p) => p.pool_name === REPLICA)!;

/** Statements each pool has run, from /metrics (db_client_operation_duration_seconds_count). */
async function statements(pool: string, operation?: string): Promise<number> {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  return parseExposition(text)
    .samples.filter((s) => s.name === 'db_client_operation_duration_seconds_count' && s.labels.pool_name === pool)
    .filter((s) => operation === undefined || s.labels.db_operation_name === operation)
    .reduce((sum, s) => sum + s.value, 0);
}

async function waitForState(state: string, timeoutMs = 15_000): Promise<PoolEntry> {
  const started = Date.now();
  let last: PoolEntry | undefined;
  while (Date.now() - started < timeoutMs) {
    last = await replicaEntry();
    if (last.state === state) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`replica did not become ${state} within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

/** The list, search and dashboard reads of one screen; every answer must be 200. */
async function readScreens(q: string): Promise<{ statuses: number[]; found: number }> {
  const [list, search, dashboard] = await Promise.all([api('/api/customers?limit=5'), api(`/api/customers?q=${encodeURIComponent(q)}`), api('/api/dashboard')]);
  return { statuses: [list.status, search.status, dashboard.status], found: search.body?.pagination?.total ?? -1 };
}

describeIf(bin !== undefined, 'read-replica tests', PG_BIN_MISSING)('read replicas (DATABASE_REPLICA_URLS) against a real streaming replica', () => {
  beforeAll(async () => {
    pair = await startStreamingPair(bin!);
    const started = await startServerAsAdmin(
      { DATABASE_URL: pair.primaryUrl, DATABASE_REPLICA_URLS: pair.replicaUrl, DB_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS), DASHBOARD_MAX_AGE_S: '0', LOG_LEVEL: 'info' },
      ADMIN,
    );
    server = started.server;
    auth = `Bearer ${started.token}`;
  }, 120_000);

  afterAll(async () => {
    if (server) await stopServer(server);
    await pair?.stop();
  }, 60_000);

  test('the replica is healthy and takes the list, search and dashboard reads; the primary runs none of them', async () => {
    const entry = await waitForState('healthy');
    expect(entry).toMatchObject({ role: 'replica', lag_ms: expect.any(Number), in_use: 0 });
    const health = await healthDb();
    expect(health.pools.map((p) => [p.pool_name, p.role])).toEqual([
      [PRIMARY, 'primary'],
      [REPLICA, 'replica'],
    ]);
    const [replicaBefore, primaryWithBefore] = [await statements(REPLICA), await statements(PRIMARY, 'WITH')];
    for (let i = 0; i < 3; i += 1) expect((await readScreens('anything')).statuses).toEqual([200, 200, 200]);
    // 3 × (list, search, dashboard): each ran on the replica; search and dashboard (WITH …) never on the primary.
    expect((await statements(REPLICA)) - replicaBefore).toBe(9);
    expect(await statements(PRIMARY, 'WITH')).toBe(primaryWithBefore);
    const text = await (await fetch(`${server.base}/metrics`)).text();
    const healthy = parseExposition(text).samples.find((s) => s.name === 'db_replica_healthy' && s.labels.pool_name === REPLICA);
    expect(healthy?.value).toBe(1);
  }, 60_000);

  test('a replica that falls behind gets no reads until it catches up; writes and single records stay on the primary', async () => {
    await pair.onReplica('SELECT pg_wal_replay_pause()');
    const created = await api('/api/customers', { method: 'POST', body: JSON.stringify({ name: 'Laggard Newcomer', city: 'Bursa' }) });
    expect(created.status).toBe(201);
    // A single record is read from the primary: the caller sees its own write at once.
    expect((await api(`/api/customers/${created.body.id}`)).status).toBe(200);
    // The search still goes to the replica, which has not replayed the insert yet.
    expect(await readScreens('Laggard Newcomer')).toEqual({ statuses: [200, 200, 200], found: 0 });

    const lagging = await waitForState('lagging');
    expect(lagging.lag_ms).toBeGreaterThan(MAX_LAG_MS);
    const health = await healthDb();
    expect(health.status).toBe('warning');
    expect(health.warnings).toContain(`Read replica ${REPLICA} is lagging: its reads go to the primary`);
    // Now the primary answers, and the new customer is there.
    const replicaBefore = await statements(REPLICA);
    expect(await readScreens('Laggard Newcomer')).toEqual({ statuses: [200, 200, 200], found: 1 });
    expect(await statements(REPLICA)).toBe(replicaBefore);

    await pair.onReplica('SELECT pg_wal_replay_resume()');
    await waitForState('healthy');
    expect(await readScreens('Laggard Newcomer')).toEqual({ statuses: [200, 200, 200], found: 1 });
    expect((await statements(REPLICA)) - replicaBefore).toBe(3);
  }, 60_000);

  test('a stopped replica sends the reads back to the primary without an error; restarted, it takes them again', async () => {
    await waitForState('healthy');
    pair.stopReplica();
    // The first read may find the replica's pooled connection dead: it is answered by the primary.
    const during = await Promise.all(Array.from({ length: 5 }, () => readScreens('Laggard Newcomer')));
    expect(during).toEqual(Array.from({ length: 5 }, () => ({ statuses: [200, 200, 200], found: 1 })));
    const down = await waitForState('down');
    expect(down.lag_ms).toBeNull();
    expect((await healthDb()).warnings).toContain(`Read replica ${REPLICA} is down: its reads go to the primary`);

    pair.startReplica();
    await waitForState('healthy', 30_000);
    const replicaBefore = await statements(REPLICA);
    expect((await readScreens('Laggard Newcomer')).statuses).toEqual([200, 200, 200]);
    expect((await statements(REPLICA)) - replicaBefore).toBe(3);
  }, 60_000);

  test('an export reads from the replica (the primary runs none of it), and gives its client back when the client leaves', async () => {
    await waitForState('healthy');
    const city = 'Exported Afar';
    // 4,000 customers with 5 kB of notes: an export that outlasts the sockets' buffers.
    const ndjson = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ name: `Far ${i}`, city, notes: 'z'.repeat(4900) })).join('\n');
    const imported = await fetch(`${server.base}/api/customers/import`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-ndjson' }, body: ndjson });
    expect(imported.status).toBe(200);
    const started = Date.now();
    while ((await api(`/api/customers?city=${encodeURIComponent(city)}&count=exact&limit=1`)).body.pagination.total !== 4000 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 100));
    const copies = (url: string) =>
      withAdminClient(url, async (c) => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT id, %' AND pid <> pg_backend_pid()")).rows[0]!.n);
    const res = await fetch(`${server.base}/api/customers/export?city=${encodeURIComponent(city)}`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    expect(await copies(pair.replicaUrl)).toBe(1);
    expect(await copies(pair.primaryUrl)).toBe(0);
    await reader.cancel();
    const left = Date.now();
    while ((await copies(pair.replicaUrl)) > 0 && Date.now() - left < 3000) await new Promise((r) => setTimeout(r, 20));
    expect(await copies(pair.replicaUrl)).toBe(0);
    expect(Date.now() - left).toBeLessThan(1000);
  }, 60_000);

  test('every pool gave its clients back, and the process logged no error', async () => {
    // The once-a-second lag check holds a client for a millisecond: ask again if it was caught in the act.
    let pools = (await healthDb()).pools;
    for (let i = 0; i < 20 && pools.some((p) => p.in_use > 0); i += 1) pools = (await new Promise((r) => setTimeout(r, 100)), await healthDb()).pools;
    expect(pools.map((p) => [p.pool_name, p.in_use])).toEqual([
      [PRIMARY, 0],
      [REPLICA, 0],
    ]);
    const errors = server.output().split('\n').filter((line) => /"level":(50|60)/.test(line));
    expect(errors).toEqual([]);
    // The state changes were logged, each once.
    expect(server.output()).toMatch(/read replica lagging/);
    expect(server.output()).toMatch(/read replica down/);
  }, 60_000);
});
