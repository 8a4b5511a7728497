// npm run soak [-- --duration 60 --kill-every 10 --connections 16]
// Mixed traffic on loopback for a bounded time, with the database connections killed periodically
// (through a fault proxy, and with pg_terminate_backend). Reports errors, p99, RSS and pool stats
// over time; exits non-zero on a leak (in_use or waiting not 0 at the end, backends above max) or a crash.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { FaultProxy } from '../test/helpers/fault-proxy';
import { adminQuery, openBenchDatabase } from './lib/database';
import { login, startApi } from './lib/api-process';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    'kill-every': { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
  },
});
const DURATION_S = Math.min(3600, Math.max(5, Number(values.duration)));
const KILL_EVERY_S = Math.max(2, Number(values['kill-every']));
const CONNECTIONS = Math.min(256, Math.max(1, Number(values.connections)));
const POOL_MAX = 10;
const APP_NAME = 'customer-api-soak';
const ADMIN = { email: 'soak-admin@example.com', password: 'soak-admin-password' };

interface Sample {
  t: number;
  rss_mb: number;
  in_use: number;
  available: number;
  total: number;
  waiting: number;
  backends: number;
  errors_so_far: number;
}

async function main(): Promise<number> {
  const db = await openBenchDatabase('soak', process.env.DATABASE_URL);
  const target = new URL(db.url);
  const proxy = new FaultProxy(target.hostname, Number(target.port || 5432));
  await proxy.listen();
  const api = await startApi({
    DATABASE_URL: proxy.urlFor(db.url),
    DB_SSLMODE: 'disable',
    DB_POOL_MAX_CONNECTIONS: String(POOL_MAX),
    DB_APPLICATION_NAME: APP_NAME,
    DB_CONNECT_TIMEOUT_MS: '2000',
    JWT_SECRET: 'soak-secret-that-is-long-enough-0123456789',
    // One token for the whole run (the default access token lives 15 minutes; a run may take an hour).
    JWT_EXPIRES_IN: String(DURATION_S + 600),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    SEED_DEMO_DATA: 'true',
  });
  const token = await login(api.base, ADMIN.email, ADMIN.password);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const health = async () => (await (await fetch(`${api.base}/api/health/db`, { headers })).json()) as { pool_stats: Sample };
  const rss = async () => {
    const text = await (await fetch(`${api.base}/metrics`)).text();
    return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? 0) / 1_048_576;
  };
  const backends = async () =>
    (await adminQuery<{ n: number }>(db.adminUrl, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [APP_NAME]))[0]?.n ?? 0;

  const statuses = new Map<number, number>();
  let crashed = false;
  void api.exited.then(() => (crashed = true));
  let finish!: (result: autocannon.Result) => void;
  const done = new Promise<autocannon.Result>((resolve) => (finish = resolve));
  const instance = autocannon(
    {
    url: api.base,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers,
    requests: [
      { method: 'GET', setupRequest: (r) => ({ ...r, path: `/api/customers/${1 + Math.floor(Math.random() * 150)}` }) },
      { method: 'GET', path: '/api/customers?limit=20&sort=name&order=asc' },
      { method: 'POST', path: '/api/customers', body: JSON.stringify({ name: 'Soak Customer', city: 'Ankara' }) },
      { method: 'GET', path: '/api/dashboard' },
      { method: 'GET', path: '/api/health/db' },
    ],
    },
    (err, result) => {
      if (err) throw err;
      finish(result);
    },
  );
  instance.on('response', (_client: unknown, statusCode: number) => statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1));

  const samples: Sample[] = [];
  const started = Date.now();
  let kills = 0;
  const errorsSoFar = () => [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
  const sampler = setInterval(() => {
    void Promise.all([health(), rss(), backends()])
      .then(([h, r, b]) => {
        const { in_use, available, total, waiting } = h.pool_stats;
        samples.push({ t: Math.round((Date.now() - started) / 1000), rss_mb: Math.round(r), in_use, available, total, waiting, backends: b, errors_so_far: errorsSoFar() });
      })
      .catch(() => undefined);
  }, 5000);
  const killer = setInterval(() => {
    kills += 1;
    if (kills % 2) proxy.dropAll();
    else void adminQuery(db.adminUrl, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [APP_NAME]).catch(() => undefined);
  }, KILL_EVERY_S * 1000);

  const result = await done;
  clearInterval(sampler);
  clearInterval(killer);
  await new Promise((r) => setTimeout(r, 1000));

  const crashedDuringRun = crashed;
  const end = crashedDuringRun ? undefined : (await health()).pool_stats;
  const endBackends = await backends();
  const exitCode = crashedDuringRun ? null : await api.stop();
  await proxy.close();
  await db.close();

  const problems: string[] = [];
  if (crashedDuringRun) problems.push(`the API crashed:\n${api.output()}`);
  if (end && end.in_use !== 0) problems.push(`leak: in_use is ${end.in_use} after the traffic stopped`);
  if (end && end.waiting !== 0) problems.push(`leak: ${end.waiting} callers still waiting`);
  if (endBackends > POOL_MAX) problems.push(`${endBackends} backends, above max ${POOL_MAX}`);
  const peakBackends = Math.max(endBackends, ...samples.map((s) => s.backends));
  if (peakBackends > POOL_MAX) problems.push(`peak ${peakBackends} backends, above max ${POOL_MAX}`);
  if (exitCode !== 0 && !crashedDuringRun) problems.push(`graceful shutdown exited ${exitCode}`);

  const report = {
    duration_s: DURATION_S,
    connections: CONNECTIONS,
    kills,
    database: db.embedded ? 'embedded' : 'DATABASE_URL',
    requests: result.requests.total,
    req_per_s: result.requests.average,
    latency_ms: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
    socket_errors: result.errors,
    timeouts: result.timeouts,
    end_pool: end,
    end_backends: endBackends,
    peak_rss_mb: Math.max(...samples.map((s) => s.rss_mb)),
    samples,
    problems,
  };
  const dir = join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify(report, null, 2));

  console.log(`soak: ${DURATION_S} s, ${CONNECTIONS} connections, ${kills} connection kills (${report.database})`);
  console.log(`requests ${report.requests} (${report.req_per_s} req/s), p50 ${report.latency_ms.p50} ms, p99 ${report.latency_ms.p99} ms`);
  console.log(`statuses ${JSON.stringify(report.statuses)}, socket errors ${report.socket_errors}`);
  console.table(samples);
  console.log(`end: in_use ${end?.in_use}, waiting ${end?.waiting}, backends ${endBackends}/${POOL_MAX}, peak RSS ${report.peak_rss_mb} MB, exit ${exitCode}`);
  console.log(`report: ${file}`);
  if (problems.length > 0) {
    console.error(`FAILED:\n- ${problems.join('\n- ')}`);
    return 1;
  }
  console.log('soak passed: no leak, no crash');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
