// npm run bench [-- --seconds 4 --rounds 2 --connections 32 --customers 10000 --db-rtt-ms 0]
// npm run bench -- --scale: the reads at 10,000, 100,000 and 1,000,000 customers instead (bench/scale.ts).
// npm run bench -- --framework: every endpoint against a minimal Express app and bare node:http (bench/framework.ts);
//   --framework --tracing: what tracing costs, off against sampled at 0, 0.001, 0.1 and 1.0 (bench/tracing.ts).
// npm run bench -- --sizing: 1 and 2 instances × pool sizes, directly and through PgBouncer (bench/sizing.ts).
// npm run bench -- --history: POST/PATCH with the history vs without, and history reads at 10,000,000 entries (bench/history.ts).
// npm run bench -- --export: export (CSV, NDJSON) and import at 1,000,000 customers vs psql's \copy (bench/export.ts).
// npm run bench -- --login: password hashing (argon2id vs scrypt) and login latency and memory through the API (bench/login.ts).
// npm run bench -- --upgrade: migrations applied by npm run db:migrate at 1,000,000 customers under mixed load (bench/upgrade.ts).
// Starts the API twice against DATABASE_URL (or an embedded PostgreSQL) — pooled (the defaults) and
// "before" (DB_POOL_MAX_USES=1: a new connection for every checkout, through the very same code) —
// and loads each endpoint in both modes, interleaved over rounds, next to the ceilings: a bare
// node:http + pg.Pool server and pgbench with the same SQL. Prints a table, writes JSON, markdown and
// an SVG chart to bench/results/.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FaultProxy } from '../test/helpers/fault-proxy';
import { startCeiling } from './lib/ceiling';
import { BENCH_ADMIN, benchApiEnv, login, startApi, type ApiProcess } from './lib/api-process';
import { adminQuery, openBenchDatabase } from './lib/database';
import { median, runLoad, type LoadResult } from './lib/load';
import { pgbenchAvailable, runPgbench } from './lib/pgbench';
import { BY_ID, toMarkdown, toSvg, type Report, type Row } from './lib/report';
import { runFramework } from './framework';
import { runHistory } from './history';
import { runExport } from './export';
import { runLogin } from './login';
import { runScale } from './scale';
import { runSizing } from './sizing';
import { runUpgrade } from './upgrade';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    customers: { type: 'string', default: '10000' },
    'db-rtt-ms': { type: 'string', default: '0' },
    scale: { type: 'boolean', default: false },
    framework: { type: 'boolean', default: false },
    sizing: { type: 'boolean', default: false },
    history: { type: 'boolean', default: false },
    login: { type: 'boolean', default: false },
    export: { type: 'boolean', default: false },
    upgrade: { type: 'boolean', default: false },
    'hold-s': { type: 'string' },
    'export-rows': { type: 'string' },
    'import-rows': { type: 'string' },
    'history-rows': { type: 'string' },
    sizes: { type: 'string' },
    // --framework's own: PostgreSQL over TLS; ceilings with the by-id read prepared; autocannon even where wrk is installed; only some endpoints.
    tls: { type: 'boolean', default: false },
    prepared: { type: 'boolean', default: false },
    autocannon: { type: 'boolean', default: false },
    only: { type: 'string' },
    tracing: { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const SECONDS = Math.max(1, Number(values.seconds));
const ROUNDS = Math.max(1, Number(values.rounds));
const CONNECTIONS = Math.max(1, Number(values.connections));
const CUSTOMERS = Math.max(100, Number(values.customers));
const RTT_MS = Math.max(0, Number(values['db-rtt-ms']));

const randomId = () => `/api/customers/${1 + Math.floor(Math.random() * CUSTOMERS)}`;
const ENDPOINTS: { name: string; method: 'GET' | 'POST'; path: string | (() => string); body?: string }[] = [
  { name: 'GET /api/health', method: 'GET', path: '/api/health' },
  { name: BY_ID, method: 'GET', path: randomId },
  { name: 'GET /api/customers?limit=20', method: 'GET', path: '/api/customers?limit=20' },
  { name: 'GET /api/dashboard', method: 'GET', path: '/api/dashboard' },
  { name: 'POST /api/customers', method: 'POST', path: '/api/customers', body: JSON.stringify({ name: 'Bench Customer', city: 'Ankara', status: 'lead' }) },
];

async function rssMb(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

// Whatever happens, no server started here outlives the benchmark.
const cleanups: (() => unknown)[] = [];
process.on('exit', () => cleanups.forEach((c) => c()));

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const db = await openBenchDatabase('bench', process.env.DATABASE_URL);
  const dbName = new URL(db.url).pathname.slice(1);
  let poolUrl = db.url;
  let proxy: FaultProxy | undefined;
  if (RTT_MS > 0) {
    const u = new URL(db.url);
    proxy = new FaultProxy(u.hostname, Number(u.port || 5432));
    await proxy.listen();
    proxy.setLatency(RTT_MS / 2);
    poolUrl = proxy.urlFor(db.url);
  }
  // The default config (LOG_LEVEL=info: one line per request), its logs sent to /dev/null.
  const common = benchApiEnv(poolUrl);
  const apis: Record<'pooled' | 'before', ApiProcess> = {
    pooled: await startApi(common, { discardLogs: true }),
    before: undefined as unknown as ApiProcess,
  };
  cleanups.push(() => apis.pooled.child.kill('SIGKILL'));
  await adminQuery(
    db.url,
    `INSERT INTO customers (name, email, phone, company, city, status)
     SELECT 'Customer ' || i, 'customer' || i || '@example.com', '+90 5' || lpad(i::text, 9, '0'),
            (ARRAY['Anadolu Lojistik','Ege Tekstil','Toros Enerji'])[1 + i % 3],
            (ARRAY['İstanbul','Ankara','İzmir','Bursa','Antalya'])[1 + i % 5], (ARRAY['lead','active','inactive'])[1 + i % 3]
       FROM generate_series(1, $1::int) AS i`,
    [CUSTOMERS],
  );
  await adminQuery(db.url, 'VACUUM ANALYZE customers');
  apis.before = await startApi({ ...common, DB_POOL_MAX_USES: '1' }, { discardLogs: true });
  cleanups.push(() => apis.before.child.kill('SIGKILL'));
  const token = await login(apis.pooled.base, BENCH_ADMIN.email, BENCH_ADMIN.password);
  const headers = { authorization: `Bearer ${token}` };
  const bare = await startCeiling(poolUrl, 'bare');
  const barePrepared = await startCeiling(poolUrl, 'bare', true);
  const hasPgbench = await pgbenchAvailable();
  const sessions = async () =>
    Number((await adminQuery<{ s: string }>(db.adminUrl, 'SELECT sessions::text AS s FROM pg_stat_database WHERE datname = $1', [dbName]))[0]?.s ?? 0);

  let peakRss = 0;
  const rssTimer = setInterval(() => void rssMb(apis.pooled.child.pid).then((mb) => (peakRss = Math.max(peakRss, mb))), 250);

  const results = new Map<string, { pooled: (LoadResult & { spr: number })[]; before: (LoadResult & { spr: number })[] }>();
  const node: LoadResult[] = [];
  const nodePrepared: LoadResult[] = [];
  const generator: LoadResult[] = [];
  const pgbench: { extended: number[]; prepared: number[] } = { extended: [], prepared: [] };
  const load = (base: string, e: (typeof ENDPOINTS)[number], seconds = SECONDS) =>
    runLoad({ url: base, method: e.method, path: e.path, body: e.body, headers, connections: CONNECTIONS, seconds });

  // A short warm-up of each path (JIT, prepared statements, caches) that is not measured.
  for (const e of ENDPOINTS) for (const mode of ['pooled', 'before'] as const) await load(apis[mode].base, e, 1);
  await runLoad({ url: bare.url, path: randomId, connections: CONNECTIONS, seconds: 1 });
  await runLoad({ url: barePrepared.url, path: randomId, connections: CONNECTIONS, seconds: 1 });

  const measureNodeCeiling = async () => node.push(await runLoad({ url: bare.url, path: randomId, connections: CONNECTIONS, seconds: SECONDS }));
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? (['before', 'pooled'] as const) : (['pooled', 'before'] as const);
    for (const e of ENDPOINTS) {
      const entry = results.get(e.name) ?? { pooled: [], before: [] };
      // The Node ceiling runs right next to the pooled by-id run, so that the two meet the same
      // machine (shared cores drift by ±15 % over a minute).
      const beside = e.name === BY_ID;
      if (beside && order[0] === 'pooled') await measureNodeCeiling();
      for (const mode of order) {
        const s0 = await sessions();
        const r = await load(apis[mode].base, e);
        await new Promise((resolve) => setTimeout(resolve, 600)); // let the sessions counter be flushed
        entry[mode].push({ ...r, spr: (await sessions()) - s0 > 0 ? ((await sessions()) - s0) / Math.max(1, r.requests) : 0 });
      }
      if (beside && order[1] === 'pooled') await measureNodeCeiling();
      results.set(e.name, entry);
    }
    nodePrepared.push(await runLoad({ url: barePrepared.url, path: randomId, connections: CONNECTIONS, seconds: SECONDS }));
    generator.push(await runLoad({ url: bare.url, path: '/static', connections: CONNECTIONS, seconds: SECONDS }));
    if (hasPgbench) {
      pgbench.extended.push(await runPgbench(db.url, 'extended', SECONDS, CONNECTIONS, CUSTOMERS));
      pgbench.prepared.push(await runPgbench(db.url, 'prepared', SECONDS, CONNECTIONS, CUSTOMERS));
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
  clearInterval(rssTimer);

  const nodeCeiling = { rps: median(node.map((r) => r.rps)), p50: median(node.map((r) => r.p50)), p99: median(node.map((r) => r.p99)) };
  const dbCeiling = hasPgbench ? median(pgbench.extended) : null;
  const summarise = (runs: (LoadResult & { spr: number })[]) => ({
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    sessionsPerRequest: median(runs.map((r) => r.spr)),
  });
  const rows: Row[] = [...results].map(([endpoint, runs]) => {
    const pooled = summarise(runs.pooled);
    const before = summarise(runs.before);
    return {
      endpoint,
      pooled,
      before,
      ratio: pooled.rps / Math.max(1, before.rps),
      ofNodeCeiling: pooled.rps / nodeCeiling.rps,
      ofDbCeiling: dbCeiling ? pooled.rps / dbCeiling : null,
    };
  });
  const byId = rows.find((r) => r.endpoint === BY_ID)!;
  // Each round's pooled by-id run and its neighbouring Node-ceiling run, as a ratio: the spread within one run.
  const byIdByRound = (results.get(BY_ID)?.pooled ?? []).map((r, i) => `${(r.rps / Math.max(1, node[i]?.rps ?? 0)).toFixed(2)}×`).join(', ');
  const report: Report = {
    startedAt,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    database: `${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'} (${(await adminQuery<{ v: string }>(db.adminUrl, "SELECT current_setting('server_version') AS v"))[0]?.v ?? '?'})${RTT_MS ? `, through a proxy adding ${RTT_MS} ms round trip` : ''}`,
    settings: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, customers: CUSTOMERS, dbRttMs: RTT_MS },
    rows,
    ceilings: { node: nodeCeiling, nodePrepared: median(nodePrepared.map((r) => r.rps)), generator: median(generator.map((r) => r.rps)), pgbenchExtended: dbCeiling, pgbenchPrepared: hasPgbench ? median(pgbench.prepared) : null },
    peakRssMb: Math.round(peakRss),
    targets: [
      { name: 'GET /api/customers/:id ≥ 1.0× the Node ceiling', value: `${byId.ofNodeCeiling?.toFixed(2)}× (by round: ${byIdByRound})`, met: (byId.ofNodeCeiling ?? 0) >= 1 },
      { name: 'its p99 ≤ 1.5× the ceiling p99', value: `${byId.pooled.p99} ms vs ${nodeCeiling.p99} ms`, met: byId.pooled.p99 <= 1.5 * nodeCeiling.p99 },
      { name: 'pooled/before ≥ 10× on the by-id read', value: `${byId.ratio.toFixed(1)}×`, met: byId.ratio >= 10 },
      { name: 'peak RSS under load < 150 MB', value: `${Math.round(peakRss)} MB`, met: peakRss < 150 },
    ],
  };

  const stamp = startedAt.replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${stamp}.json`), JSON.stringify(report, null, 2));
  await writeFile(join(dir, `${stamp}.md`), toMarkdown(report));
  await writeFile(join(dir, `${stamp}.svg`), toSvg(report));
  process.stdout.write(`\n${toMarkdown(report)}\nresults: bench/results/${stamp}.{json,md,svg}\n`);

  bare.stop();
  barePrepared.stop();
  await Promise.all([apis.pooled.stop(), apis.before.stop()]);
  await proxy?.close();
  await db.close();
}

(values.scale ? runScale() : values.framework ? runFramework() : values.sizing ? runSizing() : values.history ? runHistory() : values.login ? runLogin() : values.export ? runExport(process.argv.slice(2)) : values.upgrade ? runUpgrade() : main()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
