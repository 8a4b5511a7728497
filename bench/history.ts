// npm run bench -- --history [--seconds 4 --rounds 5 --connections 32 --customers 10000 --history-rows 10000000]
// What the history (migration 007) costs and how it reads at size, on the built API with its defaults:
// 1. POST and PATCH /api/customers with the history triggers on and off (ALTER TABLE … DISABLE TRIGGER,
//    in the same database; each round runs both, in alternating order): req/s, p99, and the median of the
//    rounds' ratios (target ≥ 0.9×): each round's pair met the same machine, which drifts over a run.
// 2. GET /api/customers/:id/history with the history table filled with SQL to --history-rows entries
//    (a million records of about ten changes each, and one record with 100,000): p50/p95/p99 of a
//    regular user's first page (target p95 ≤ 20 ms), measured at 4 requests at a time.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BENCH_ADMIN, benchApiEnv, login, startApi } from './lib/api-process';
import { adminQuery, openBenchDatabase } from './lib/database';
import { fillCustomers } from './lib/fill';
import { median, runLoad, type LoadOptions, type LoadResult } from './lib/load';
import { WRK, runWrk } from './lib/wrk';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    customers: { type: 'string', default: '10000' },
    'history-rows': { type: 'string', default: '10000000' },
  },
  strict: false,
});
const SECONDS = Math.max(1, Number(values.seconds));
const ROUNDS = Math.max(1, Number(values.rounds));
const CONNECTIONS = Math.max(1, Number(values.connections));
const CUSTOMERS = Math.max(100, Number(values.customers));
const HISTORY_ROWS = Math.max(100_000, Number(values['history-rows']));
const HOT_ENTRIES = 100_000;
const TARGET = { writes: 0.9, readP95Ms: 20 };
const GENERATOR = WRK ? 'wrk' : 'autocannon';

const TRIGGERS = ['customers_history_insert', 'customers_history_update', 'customers_history_delete'];

const WRITES: { name: string; method: 'POST' | 'PATCH'; path: string | (() => string); luaPath?: string; body: string }[] = [
  { name: 'POST /api/customers', method: 'POST', path: '/api/customers', body: JSON.stringify({ name: 'Bench Customer', city: 'Ankara', status: 'lead' }) },
  {
    name: 'PATCH /api/customers/:id',
    method: 'PATCH',
    path: () => `/api/customers/${1 + Math.floor(Math.random() * CUSTOMERS)}`,
    luaPath: `"/api/customers/" .. math.random(1, ${CUSTOMERS})`,
    body: JSON.stringify({ phone: '+90 532 000 00 00', notes: 'called back' }),
  },
];

/** Latency percentiles of `n` GETs, `concurrency` at a time (a light client: the server's latency, not a throughput run). */
async function latencies(base: string, auth: string, path: () => string, n: number, concurrency: number): Promise<{ p50: number; p95: number; p99: number; errors: number }> {
  const times: number[] = [];
  let errors = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next += 1;
        const started = performance.now();
        const res = await fetch(`${base}${path()}`, { headers: { authorization: auth } });
        await res.arrayBuffer();
        times.push(performance.now() - started);
        if (res.status !== 200) errors += 1;
      }
    }),
  );
  times.sort((a, b) => a - b);
  const at = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]! * 100) / 100;
  return { p50: at(50), p95: at(95), p99: at(99), errors };
}

/** Fills history with SQL, as a long-lived product would have it: indexes dropped first and built after (as a restore does). */
async function fillHistory(dbUrl: string): Promise<number> {
  const started = performance.now();
  const indexes = await adminQuery<{ name: string; def: string }>(dbUrl, "SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'history' AND indexname <> 'history_pkey'");
  for (const i of indexes) await adminQuery(dbUrl, `DROP INDEX ${i.name}`);
  // A million records (ids beyond the customers table: a history outlives its rows) with about ten
  // changes each over two years, by 50 actors; record 1 has HOT_ENTRIES of them.
  await adminQuery(
    dbUrl,
    `INSERT INTO history (entity, entity_id, operation, changed_at, actor_id, request_id, changes)
     SELECT 'customer', CASE WHEN g % ($1::int / ${HOT_ENTRIES}) = 0 THEN 1 ELSE ${CUSTOMERS} + 1 + g % 1000000 END, 'update',
            now() - interval '730 days' + (g::float8 / $1::int) * interval '729 days', 1 + g % 50, 'fill-' || g,
            jsonb_build_object('notes', jsonb_build_object('old', 'note ' || g, 'new', 'note ' || (g + 1)))
       FROM generate_series(1, $1::int) AS g`,
    [HISTORY_ROWS],
  );
  for (const i of indexes) await adminQuery(dbUrl, i.def);
  await adminQuery(dbUrl, 'VACUUM ANALYZE history');
  await adminQuery(dbUrl, 'CHECKPOINT').catch(() => undefined);
  return Math.round((performance.now() - started) / 1000);
}

/** The history benchmark (npm run bench -- --history). */
export async function runHistory(): Promise<void> {
  const startedAt = new Date().toISOString();
  const db = await openBenchDatabase('history', process.env.DATABASE_URL);
  const api = await startApi(benchApiEnv(db.url), { discardLogs: true });
  await fillCustomers(db.url, 0, CUSTOMERS);
  const admin = `Bearer ${await login(api.base, BENCH_ADMIN.email, BENCH_ADMIN.password)}`;
  const load = (w: (typeof WRITES)[number], seconds = SECONDS): Promise<LoadResult> => {
    const o: LoadOptions = { url: api.base, method: w.method, path: w.path, body: w.body, headers: { authorization: admin }, connections: CONNECTIONS, seconds };
    return GENERATOR === 'wrk' ? runWrk({ ...o, luaPath: w.luaPath }) : runLoad(o);
  };
  const setHistory = (on: boolean) => adminQuery(db.url, `ALTER TABLE customers ${TRIGGERS.map((t) => `${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${t}`).join(', ')}`);
  process.stdout.write(`load generator: ${GENERATOR}\n`);

  // Warm-up: JIT, prepared statements, caches.
  for (const w of WRITES) {
    for (const on of [true, false]) {
      await setHistory(on);
      await load(w, 2);
    }
  }
  const writes = new Map<string, { with: LoadResult[]; without: LoadResult[] }>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const w of WRITES) {
      const entry = writes.get(w.name) ?? { with: [], without: [] };
      for (const on of round % 2 === 0 ? [true, false] : [false, true]) {
        await setHistory(on);
        entry[on ? 'with' : 'without'].push(await load(w));
      }
      writes.set(w.name, entry);
    }
    process.stdout.write(`writes: round ${round + 1}/${ROUNDS} done\n`);
  }
  await setHistory(true);

  const fillSeconds = await fillHistory(db.url);
  const historyRows = (await adminQuery<{ n: string }>(db.url, 'SELECT count(*)::text AS n FROM history'))[0]?.n ?? '0';
  const size = (await adminQuery<{ size: string }>(db.url, "SELECT pg_size_pretty(pg_total_relation_size('history')) AS size"))[0]?.size ?? '?';
  process.stdout.write(`history filled: ${Number(historyRows).toLocaleString('en')} rows, ${size}, in ${fillSeconds} s\n`);
  // A regular user: the route also checks that the customer exists.
  const email = `history-reader-${Date.now()}@example.com`;
  await fetch(`${api.base}/api/users`, { method: 'POST', headers: { authorization: admin, 'content-type': 'application/json' }, body: JSON.stringify({ email, name: 'Reader', password: 'reader-password' }) });
  const reader = `Bearer ${await login(api.base, email, 'reader-password')}`;
  const randomRecord = () => `/api/customers/${1 + Math.floor(Math.random() * CUSTOMERS)}/history`;
  await latencies(api.base, reader, randomRecord, 500, 4); // warm-up
  const reads = {
    record: await latencies(api.base, reader, randomRecord, 4000, 4),
    hot: await latencies(api.base, reader, () => '/api/customers/1/history', 2000, 4),
    feed: await latencies(api.base, admin, () => '/api/history?entity=customer&actor=7', 2000, 4),
  };

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const msOf = (n: number) => `${n.toFixed(1)} ms`;
  const lines = [
    `# History: its cost on writes, and reads at ${Number(historyRows).toLocaleString('en')} entries — ${startedAt}`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'} (${(await adminQuery<{ v: string }>(db.adminUrl, "SELECT current_setting('server_version') AS v"))[0]?.v ?? '?'}); ` +
      `${CUSTOMERS.toLocaleString('en')} customers, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s; medians; load from ${GENERATOR}.`,
    '',
    '| write | with history req/s (p99) | triggers off req/s (p99) | ratio (median of the rounds\' ratios) | target |',
    '|---|---:|---:|---:|---|',
  ];
  const rows = [];
  for (const w of WRITES) {
    const r = writes.get(w.name)!;
    const m = (runs: LoadResult[]) => ({ rps: median(runs.map((x) => x.rps)), p99: median(runs.map((x) => x.p99)), errors: runs.reduce((n, x) => n + x.errors, 0) });
    const [on, off] = [m(r.with), m(r.without)];
    const byRound = r.with.map((x, i) => x.rps / Math.max(1, r.without[i]!.rps));
    const ratio = median(byRound);
    const met = ratio >= TARGET.writes && on.errors === 0;
    rows.push({ write: w.name, with: on, without: off, ratio, byRound, met });
    lines.push(
      `| ${w.name} | ${fmt(on.rps)} (${msOf(on.p99)})${on.errors ? `, ${on.errors} errors` : ''} | ${fmt(off.rps)} (${msOf(off.p99)}) | ${ratio.toFixed(2)}× (rounds: ${byRound.map((x) => x.toFixed(2)).join(', ')}) | ≥ ${TARGET.writes}×: ${met ? 'met' : 'missed'} |`,
    );
  }
  lines.push(
    '',
    `History table: ${Number(historyRows).toLocaleString('en')} entries (${size}), filled with SQL in ${fillSeconds} s.`,
    '',
    '| read (first page of 20) | p50 | p95 | p99 | target |',
    '|---|---:|---:|---:|---|',
  );
  const readRow = (name: string, r: (typeof reads)['record'], target: boolean) =>
    `| ${name} | ${msOf(r.p50)} | ${msOf(r.p95)} | ${msOf(r.p99)} | ${target ? `p95 ≤ ${TARGET.readP95Ms} ms: ${r.p95 <= TARGET.readP95Ms && r.errors === 0 ? 'met' : 'missed'}` : ''}${r.errors ? `, ${r.errors} errors` : ''} |`;
  lines.push(
    readRow('one customer\'s history (random, ~10 entries each; a regular user)', reads.record, true),
    readRow(`one customer with ${HOT_ENTRIES.toLocaleString('en')} entries`, reads.hot, true),
    readRow('GET /api/history?entity=customer&actor=7 (admin)', reads.feed, false),
    '',
    'Latency measured 4 requests at a time (a light client). "Triggers off" is the same build and database with the three customers history triggers disabled: what recording costs a write.',
  );
  const report = lines.join('\n');
  const stamp = startedAt.replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `history-${stamp}.json`), JSON.stringify({ startedAt, settings: { SECONDS, ROUNDS, CONNECTIONS, CUSTOMERS, HISTORY_ROWS, generator: GENERATOR }, writes: rows, historyRows: Number(historyRows), size, fillSeconds, reads }, null, 2));
  await writeFile(join(dir, `history-${stamp}.md`), `${report}\n`);
  process.stdout.write(`\n${report}\n\nresults: bench/results/history-${stamp}.{json,md}\n`);
  await api.stop();
  await db.close();
}
