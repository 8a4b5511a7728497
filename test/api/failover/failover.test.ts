import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseExposition } from '../../helpers/prometheus';
import { describeIf } from '../../helpers/needs';
import { PG_BIN_MISSING, createPgCluster, findPgBin, type PgCluster, type PgNode } from '../../helpers/pg-cluster';
import { startServerAsAdmin, stopServer, type ServerProcess } from '../../helpers/server-process';

// The built server, started with nothing but a multi-host DATABASE_URL (and the production musts),
// through a real failover: a primary n1 (initdb) with a synchronous streaming standby n2
// (pg_basebackup -R); n1 crashes under write and read load, n2 is promoted, then n1 comes back as a
// standby of n2, first in the host list, and n2's sessions are terminated. The clients do what a
// careful client does: an Idempotency-Key per create, a retry on 503 or a cut connection.
const bin = findPgBin();

const ADMIN = { email: 'failover-admin@example.com', password: 'failover-admin-pw' };
const WRITERS = 4;
const READERS = 2;

interface Answer {
  /** When the request was sent, and when its answer (or the cut) came. */
  sent: number;
  at: number;
  kind: 'write' | 'read';
  status: number | 'cut';
  retryAfter: string | null;
}

let cluster: PgCluster;
let n1: PgNode;
let n2: PgNode;
let server: ServerProcess;
let token: string;

const appUrl = (node: PgNode) => node.url.replace(/\/postgres$/, '/app');

async function send(path: string, init: RequestInit): Promise<{ status: number; retryAfter: string | null; body: { id?: number } } | 'cut'> {
  try {
    const res = await fetch(`${server.base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: text ? JSON.parse(text) : {} };
  } catch {
    return 'cut';
  }
}

/** Clients that create customers (one key per customer, retried until acknowledged) and read lists, until stop(). */
function startLoad() {
  const answers: Answer[] = [];
  const acknowledged = new Map<string, number>();
  let running = true;
  const note = (sent: number, kind: Answer['kind'], r: Awaited<ReturnType<typeof send>>) =>
    answers.push({ sent, at: Date.now(), kind, status: r === 'cut' ? 'cut' : r.status, retryAfter: r === 'cut' ? null : r.retryAfter });
  const writer = async (w: number) => {
    for (let i = 0; running; i += 1) {
      const key = randomUUID();
      const name = `failover ${w}-${i} ${key}`;
      // Retried with the same key until acknowledged, even past the end: no create may be left half-known.
      for (let tries = 0; tries < 200; tries += 1) {
        const sent = Date.now();
        const r = await send('/api/customers', { method: 'POST', body: JSON.stringify({ name }), headers: { 'idempotency-key': key } });
        note(sent, 'write', r);
        if (r !== 'cut' && r.status === 201) {
          acknowledged.set(name, r.body.id!);
          break;
        }
        await sleep(100);
      }
    }
  };
  const reader = async () => {
    while (running) {
      const sent = Date.now();
      note(sent, 'read', await send('/api/customers?limit=5', { method: 'GET' }));
      await sleep(20);
    }
  };
  const all = Promise.all([...Array.from({ length: WRITERS }, (_, w) => writer(w)), ...Array.from({ length: READERS }, reader)]);
  return {
    answers,
    acknowledged,
    stop: async () => {
      running = false;
      await all;
    },
  };
}

describeIf(bin !== undefined, 'failover tests', PG_BIN_MISSING)('failover: a multi-host DATABASE_URL follows the primary, and retried creates are never doubled', () => {
  beforeAll(async () => {
    cluster = await createPgCluster(bin!);
    n1 = await cluster.initPrimary('n1');
    await cluster.sql(n1, 'CREATE DATABASE app');
    n2 = await cluster.addStandby('n2', n1);
    // Synchronous replication: a commit is acknowledged once the standby has it. Set on n1 after the
    // copy, so that n2, once promoted, waits for no standby of its own.
    await cluster.sql(n1, "ALTER SYSTEM SET synchronous_standby_names = '*'");
    await cluster.sql(n1, 'SELECT pg_reload_conf()');
    for (let i = 0; i < 100 && (await cluster.sql(n1, "SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'")).length === 0; i += 1) await sleep(100);
    ({ server, token } = await startServerAsAdmin(
      { DATABASE_URL: `postgres://postgres@127.0.0.1:${n1.port},127.0.0.1:${n2.port}/app?target_session_attrs=read-write`, NODE_ENV: 'production' },
      ADMIN,
    ));
  }, 120_000);

  afterAll(async () => {
    if (server) await stopServer(server);
    await cluster?.destroy();
  }, 60_000);

  test('crash, promote, the old primary back as a standby: no 5xx but 503 (each with Retry-After), writes back within 3 s, nothing lost or doubled, nothing failed after the rejoin', async () => {
    const load = startLoad();
    await sleep(1500);
    cluster.stop(n1, 'immediate');
    await sleep(1000);
    cluster.promote(n2);
    const promotedAt = Date.now();
    await sleep(2500);

    // n1 returns as a standby of n2, first in the list; n2's sessions are cut, so every new connection walks past n1.
    await cluster.addStandby('n1', n2);
    await cluster.sql(n2, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'customer-api'");
    const rejoinedAt = Date.now();
    await sleep(3000);
    await load.stop();

    const { answers, acknowledged } = load;
    const failedStatuses = answers.filter((a) => a.status !== 'cut' && a.status >= 500 && a.status !== 503);
    expect(failedStatuses).toEqual([]);
    const unavailable = answers.filter((a) => a.status === 503);
    expect(unavailable.filter((a) => a.retryAfter === null)).toEqual([]);
    const firstWriteBack = answers.find((a) => a.kind === 'write' && a.status === 201 && a.at > promotedAt);
    expect(firstWriteBack).toBeDefined();
    const switchMs = firstWriteBack!.at - promotedAt;
    expect(switchMs).toBeLessThanOrEqual(3000);
    // Every request sent once the sessions were terminated succeeded (one in flight at that moment, its
    // COMMIT cut, may answer 503: its retry with the same key gets the first answer).
    expect(answers.filter((a) => a.sent > rejoinedAt && a.status !== 200 && a.status !== 201)).toEqual([]);

    const names = [...acknowledged.keys()];
    const onNewPrimary = await cluster.sql<{ name: string; n: number }>(
      { ...n2, url: appUrl(n2) },
      'SELECT name, count(*)::int AS n FROM customers WHERE name = ANY($1) GROUP BY name',
      [names],
    );
    expect(onNewPrimary.length).toBe(names.length);
    expect(onNewPrimary.filter((r) => r.n !== 1)).toEqual([]);
    expect(await cluster.sql({ ...n2, url: appUrl(n2) }, "SELECT name FROM customers WHERE name LIKE 'failover %' GROUP BY name HAVING count(*) > 1")).toEqual([]);
    process.stdout.write(
      `\nfailover: ${answers.length} answers, ${acknowledged.size} creates acknowledged, ${unavailable.length} × 503, ` +
        `${answers.filter((a) => a.status === 'cut').length} cut; first write ${switchMs} ms after the promotion\n`,
    );
  }, 120_000);

  test('health, metrics and the log name the switch; every client was given back', async () => {
    const health = (await (await fetch(`${server.base}/api/health/db`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      pools: { host: string; host_role: string; host_switched_at: string | null; host_switches: number; in_use: number }[];
    };
    expect(health.pools[0]).toMatchObject({ host: `127.0.0.1:${n2.port}`, host_role: 'primary', host_switched_at: expect.any(String), in_use: 0 });
    expect(health.pools[0]!.host_switches).toBeGreaterThanOrEqual(1);
    const metrics = parseExposition(await (await fetch(`${server.base}/metrics`)).text());
    expect(metrics.samples.find((s) => s.name === 'db_pool_host_switches_total' && s.labels.pool_name === 'customer-api')?.value).toBeGreaterThanOrEqual(1);
    expect(server.output()).toContain(`database host switched from 127.0.0.1:${n1.port} to 127.0.0.1:${n2.port}`);
    expect(server.output()).not.toContain('"code":"INTERNAL_ERROR"');
  }, 30_000);
});
