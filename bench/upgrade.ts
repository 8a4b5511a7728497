// npm run bench -- --upgrade [--customers 1000000 --connections 16]
// An upgrade on a live database at size: the built API (its defaults) with --customers rows, under
// --connections clients of mixed reads and writes (70 % GET by id, 10 % list page, 10 % POST, 10 % PATCH)
// for the whole run, while `npm run db:migrate` (dist/cli/db-migrate.js, a second process) applies the
// test migrations of bench/upgrade/migrations (never shipped):
// 1. 901: CREATE INDEX CONCURRENTLY on customers (a no-transaction migration);
// 2. 902: ALTER TABLE customers ADD COLUMN (a brief ACCESS EXCLUSIVE lock) while a 30 s transaction
//    holds a conflicting lock on customers: the migration gives up within its lock_timeout, retries,
//    and completes once the transaction ends.
// Reports failed requests, the slowest request, and write and read latency before, during and after
// each migration, the migrations' times and retries. Targets: 0 failed, write p99 during ≤ 250 ms.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { withAdminClient } from '../test/helpers/admin-db';
import { BENCH_ADMIN, benchApiEnv, login, startApi } from './lib/api-process';
import { adminQuery, openBenchDatabase } from './lib/database';
import { fillCustomers } from './lib/fill';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    connections: { type: 'string', default: '16' },
    'hold-s': { type: 'string', default: '30' },
  },
  strict: false,
});
const CUSTOMERS = Math.max(1000, Number(values.customers));
const CONNECTIONS = Math.max(1, Number(values.connections));
const HOLD_S = Math.max(1, Number(values['hold-s']));
const QUIET_S = 15;
const TARGET_WRITE_P99_MS = 250;
const ROOT = join(__dirname, '..');
const MIGRATIONS = join(ROOT, 'bench', 'upgrade', 'migrations');
const CIC = '901-bench-customers-phone-index.sql';
const ALTER = '902-bench-customers-add-column.sql';

interface Sample {
  at: number;
  ms: number;
  write: boolean;
  ok: boolean;
  status: number;
}

/** Mixed traffic from CONNECTIONS keep-alive clients until stop(): every request's start, latency and outcome. */
function startTraffic(base: string, auth: string): { samples: Sample[]; stop: () => Promise<void> } {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const samples: Sample[] = [];
  let running = true;
  const send = (method: string, path: string, body?: string): Promise<number> =>
    new Promise((resolve) => {
      const req = request(
        { host: url.hostname, port: url.port, method, path, agent, timeout: 10_000, headers: { authorization: auth, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', () => resolve(0));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
      req.end(body);
    });
  const randomId = () => 1 + Math.floor(Math.random() * CUSTOMERS);
  const one = (): Promise<{ write: boolean; status: number }> => {
    const r = Math.random();
    if (r < 0.7) return send('GET', `/api/customers/${randomId()}`).then((status) => ({ write: false, status }));
    if (r < 0.8) return send('GET', '/api/customers?limit=20').then((status) => ({ write: false, status }));
    if (r < 0.9) return send('POST', '/api/customers', JSON.stringify({ name: 'Upgrade Bench', city: 'Izmir', status: 'lead' })).then((status) => ({ write: true, status }));
    return send('PATCH', `/api/customers/${randomId()}`, JSON.stringify({ notes: `touched ${Date.now()}` })).then((status) => ({ write: true, status }));
  };
  const workers = Array.from({ length: CONNECTIONS }, async () => {
    while (running) {
      const at = performance.now();
      const { write, status } = await one();
      samples.push({ at, ms: performance.now() - at, write, status, ok: status >= 200 && status < 300 });
    }
  });
  return {
    samples,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      agent.destroy();
    },
  };
}

/** `node dist/cli/db-migrate.js --with <dir>` on the bench database: exit code, output, seconds, retries. */
async function migrateWith(dir: string, databaseUrl: string): Promise<{ code: number | null; seconds: number; retries: number; out: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'db-migrate.js'), '--with', dir], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, seconds: (performance.now() - started) / 1000, retries: (out.match(/gave up waiting for a lock/g) ?? []).length, out };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Phase {
  name: string;
  from: number;
  to: number;
}

function summarise(samples: Sample[], phase: Phase) {
  const inPhase = samples.filter((s) => s.at >= phase.from && s.at < phase.to);
  const pct = (xs: number[], p: number) => {
    if (xs.length === 0) return 0;
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  };
  const writes = inPhase.filter((s) => s.write).map((s) => s.ms);
  const reads = inPhase.filter((s) => !s.write).map((s) => s.ms);
  const failed = inPhase.filter((s) => !s.ok);
  return {
    phase: phase.name,
    seconds: Math.round((phase.to - phase.from) / 100) / 10,
    requests: inPhase.length,
    reqPerS: Math.round(inPhase.length / ((phase.to - phase.from) / 1000)),
    failed: failed.length,
    statuses: [...new Set(failed.map((s) => s.status))],
    writeP50: pct(writes, 50),
    writeP99: pct(writes, 99),
    readP99: pct(reads, 99),
    slowest: inPhase.reduce((max, s) => Math.max(max, s.ms), 0),
  };
}

/** The upgrade benchmark (npm run bench -- --upgrade). */
export async function runUpgrade(): Promise<void> {
  const startedAt = new Date().toISOString();
  const db = await openBenchDatabase('upgrade', process.env.DATABASE_URL);
  const dirs = await mkdtemp(join(tmpdir(), 'customer-api-upgrade-'));
  // Stopped in `finally` too: a run that throws must not leave the API running.
  let running: { stop: () => Promise<unknown> } | undefined;
  try {
    // Step 1 applies 901 alone; step 2 sees both (901 already applied) and applies 902.
    await mkdir(join(dirs, 'step1'));
    await mkdir(join(dirs, 'step2'));
    await copyFile(join(MIGRATIONS, CIC), join(dirs, 'step1', CIC));
    for (const f of [CIC, ALTER]) await copyFile(join(MIGRATIONS, f), join(dirs, 'step2', f));

    const api = await startApi(benchApiEnv(db.url), { discardLogs: true });
    running = api;
    const fillStarted = performance.now();
    await fillCustomers(db.url, 0, CUSTOMERS);
    process.stdout.write(`filled ${CUSTOMERS.toLocaleString('en')} customers in ${Math.round((performance.now() - fillStarted) / 1000)} s\n`);
    const auth = `Bearer ${await login(api.base, BENCH_ADMIN.email, BENCH_ADMIN.password)}`;

    const warm = startTraffic(api.base, auth);
    await sleep(5000);
    await warm.stop();

    const traffic = startTraffic(api.base, auth);
    const t0 = performance.now();
    await sleep(QUIET_S * 1000);
    const cicFrom = performance.now();
    process.stdout.write('applying 901 (CREATE INDEX CONCURRENTLY) under load\n');
    const cic = await migrateWith(join(dirs, 'step1'), db.url);
    const cicTo = performance.now();
    await sleep(QUIET_S * 1000);

    // A transaction that has read customers (ACCESS SHARE, which ALTER TABLE's ACCESS EXCLUSIVE waits for) and stays HOLD_S seconds.
    const holdFrom = performance.now();
    let holdTo = 0;
    const hold = withAdminClient(db.url, async (c) => {
      await c.query('BEGIN');
      await c.query('SELECT id FROM customers LIMIT 1');
      await c.query(`SELECT pg_sleep(${HOLD_S})`);
      await c.query('COMMIT');
      holdTo = performance.now();
    });
    await sleep(1000);
    process.stdout.write(`applying 902 (ALTER TABLE … ADD COLUMN) behind a ${HOLD_S} s transaction\n`);
    const alterFrom = performance.now();
    const alter = await migrateWith(join(dirs, 'step2'), db.url);
    const alterTo = performance.now();
    await hold;
    await sleep(QUIET_S * 1000);
    const end = performance.now();
    await traffic.stop();

    const phases = [
      summarise(traffic.samples, { name: 'before', from: t0, to: cicFrom }),
      summarise(traffic.samples, { name: 'during 901: CREATE INDEX CONCURRENTLY', from: cicFrom, to: cicTo }),
      summarise(traffic.samples, { name: 'between', from: cicTo, to: holdFrom }),
      summarise(traffic.samples, { name: `during 902: ALTER TABLE behind a ${HOLD_S} s transaction`, from: alterFrom, to: alterTo }),
      summarise(traffic.samples, { name: 'after', from: alterTo, to: end }),
    ];
    const all = summarise(traffic.samples, { name: 'whole run', from: t0, to: end });
    const index = await adminQuery<{ valid: boolean; size: string }>(
      db.url,
      "SELECT i.indisvalid AS valid, pg_size_pretty(pg_relation_size(i.indexrelid)) AS size FROM pg_index i WHERE i.indexrelid = to_regclass('customers_bench_phone_idx')",
    );
    const column = await adminQuery(db.url, "SELECT 1 FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'bench_loyalty_tier'");
    running = undefined;
    await api.stop();

    const during = [phases[1]!, phases[3]!];
    const met = {
      failed: all.failed === 0,
      writeP99: during.every((p) => p.writeP99 <= TARGET_WRITE_P99_MS),
      cic: cic.code === 0 && index[0]?.valid === true,
      alter: alter.code === 0 && column.length === 1 && alter.retries > 0 && alterTo >= holdTo,
    };
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    const lines = [
      `# Upgrade on a live database at ${CUSTOMERS.toLocaleString('en')} customers — ${startedAt}`,
      '',
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB. Database: ${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}. ` +
        `The built API with its defaults (DB_MIGRATION_LOCK_TIMEOUT_MS 500, DB_MIGRATION_RETRIES 20), ${CONNECTIONS} keep-alive clients of mixed traffic ` +
        '(70 % GET /api/customers/:id, 10 % GET /api/customers?limit=20, 10 % POST /api/customers, 10 % PATCH /api/customers/:id; 10 s client timeout) for the whole run; ' +
        '`node dist/cli/db-migrate.js --with <dir>` (what `npm run db:migrate` runs) from a second process.',
      '',
      '| phase | s | requests | req/s | failed | write p50 | write p99 | read p99 | slowest |',
      '|---|---|---|---|---|---|---|---|---|',
      ...[...phases, all].map(
        (p) =>
          `| ${p.phase} | ${p.seconds} | ${p.requests.toLocaleString('en')} | ${p.reqPerS} | ${p.failed}${p.statuses.length ? ` (${p.statuses.join(', ')})` : ''} | ${ms(p.writeP50)} | ${ms(p.writeP99)} | ${ms(p.readP99)} | ${ms(p.slowest)} |`,
      ),
      '',
      `- 901 (CREATE INDEX CONCURRENTLY ON customers (phone)): exit ${cic.code}, ${cic.seconds.toFixed(1)} s, ${cic.retries} lock retries; index valid: ${index[0]?.valid ?? 'missing'}, ${index[0]?.size ?? '?'}.`,
      `- 902 (ALTER TABLE customers ADD COLUMN) behind a ${HOLD_S} s transaction that started ${((alterFrom - holdFrom) / 1000).toFixed(1)} s before it: exit ${alter.code}, ` +
        `${alter.seconds.toFixed(1)} s, gave up on the lock and retried ${alter.retries} times, completed ${((alterTo - holdTo) / 1000).toFixed(1)} s after the transaction ended; column present: ${column.length === 1}.`,
      '',
      `Targets: 0 failed requests ${met.failed ? 'met' : 'NOT met'}; write p99 during each migration ≤ ${TARGET_WRITE_P99_MS} ms ${met.writeP99 ? 'met' : 'NOT met'}; ` +
        `the index built and valid ${met.cic ? 'met' : 'NOT met'}; the ALTER gave up within its lock_timeout, retried and completed after the transaction ${met.alter ? 'met' : 'NOT met'}.`,
      '',
    ];
    if (cic.code !== 0 || alter.code !== 0) lines.push('```', cic.out.slice(-2000), alter.out.slice(-2000), '```', '');
    const report = lines.join('\n');
    process.stdout.write(`\n${report}`);
    const dir = join(ROOT, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `upgrade-${startedAt.replace(/[:.]/g, '-')}.md`);
    await writeFile(file, report);
    process.stdout.write(`\nreport written to ${file}\n`);
  } finally {
    await running?.stop();
    await rm(dirs, { recursive: true, force: true });
    await db.close();
  }
}
