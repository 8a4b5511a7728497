// npm run bench -- --sizing [--seconds 4 --connections 32 --customers 10000]
// Sizing from measurement: 1 and 2 API instances × DB_POOL_MAX_CONNECTIONS 5, 10 and 20, connected
// directly and through PgBouncer (transaction mode, default_pool_size 20), each loaded with the by-id
// read and the first list page (the load split evenly over the instances). req/s summed, p99 the worst.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PGBOUNCER, startPgBouncer } from '../test/helpers/pgbouncer';
import { BENCH_ADMIN, benchApiEnv, login, startApi } from './lib/api-process';
import { adminQuery, openBenchDatabase } from './lib/database';
import { fillCustomers } from './lib/fill';
import { runLoad } from './lib/load';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
    customers: { type: 'string', default: '10000' },
  },
  strict: false,
});
const SECONDS = Math.max(1, Number(values.seconds));
const CONNECTIONS = Math.max(2, Number(values.connections));
const CUSTOMERS = Math.max(100, Number(values.customers));
const POOLS = [5, 10, 20];
const PGBOUNCER_POOL = 20;

/** The sizing benchmark (npm run bench -- --sizing). */
export async function runSizing(): Promise<void> {
  const startedAt = new Date().toISOString();
  const db = await openBenchDatabase('sizing', process.env.DATABASE_URL);
  const setup = await startApi(benchApiEnv(db.url), { discardLogs: true }); // migrates and creates the admin
  await fillCustomers(db.url, 0, CUSTOMERS);
  await setup.stop();
  const bouncer = PGBOUNCER ? await startPgBouncer(db.url, 'transaction', PGBOUNCER_POOL) : undefined;
  const paths = { 'by id': () => `/api/customers/${1 + Math.floor(Math.random() * CUSTOMERS)}`, 'list page': () => '/api/customers?limit=20' };
  const rows: string[] = [];
  for (const [route, url] of [['direct', db.url], ...(bouncer ? [[`PgBouncer (transaction, pool ${PGBOUNCER_POOL})`, bouncer.url]] : [])] as [string, string][]) {
    for (const instances of [1, 2]) {
      for (const poolMax of POOLS) {
        const apis = await Promise.all(
          Array.from({ length: instances }, () => startApi({ ...benchApiEnv(url), DB_POOL_MAX_CONNECTIONS: String(poolMax), DB_MIGRATE_ON_START: 'false' }, { discardLogs: true })),
        );
        const headers = { authorization: `Bearer ${await login(apis[0]!.base, BENCH_ADMIN.email, BENCH_ADMIN.password)}` };
        const cells: string[] = [];
        for (const path of Object.values(paths)) {
          const load = (seconds: number) =>
            Promise.all(apis.map((api) => runLoad({ url: api.base, path, headers, connections: Math.floor(CONNECTIONS / instances), seconds })));
          await load(1);
          const results = await load(SECONDS);
          const rps = results.reduce((n, r) => n + r.rps, 0);
          const errors = results.reduce((n, r) => n + r.errors, 0);
          cells.push(`${Math.round(rps).toLocaleString('en-US')} (p99 ${Math.max(...results.map((r) => r.p99))} ms${errors ? `, ${errors} errors` : ''})`);
        }
        rows.push(`| ${route} | ${instances} | ${poolMax} | ${instances * poolMax} | ${cells.join(' | ')} |`);
        process.stdout.write(`${rows[rows.length - 1]}\n`);
        await Promise.all(apis.map((api) => api.stop()));
      }
    }
  }
  await bouncer?.stop();
  const report = [
    `# customer-api sizing — ${startedAt}`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'} (${(await adminQuery<{ v: string }>(db.adminUrl, "SELECT current_setting('server_version') AS v"))[0]?.v ?? '?'}); ` +
      `${CUSTOMERS.toLocaleString('en')} customers, ${CONNECTIONS} connections in all, ${SECONDS} s per cell${PGBOUNCER ? '' : '; no pgbouncer here, so no PgBouncer rows'}.`,
    '',
    '| route to PostgreSQL | instances | DB_POOL_MAX_CONNECTIONS | API connections in all | by id req/s | list page req/s |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
  const stamp = startedAt.replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `sizing-${stamp}.md`), `${report}\n`);
  process.stdout.write(`\n${report}\n\nresults: bench/results/sizing-${stamp}.md\n`);
  await db.close();
}
