// npm run bench -- --scale [--sizes 10000,100000,1000000 --seconds 4 --connections 16]
// One API process (the defaults) against DATABASE_URL or an embedded PostgreSQL. The customers table is
// filled with SQL (not through the API) to each size in turn, and every read endpoint is loaded at each
// size (wrk when installed, else autocannon): the report gives req/s, p99 and errors per size, and the
// ratio of the largest size to the first. Searches are held to the first screen at the same size (the faster of its two
// samples, before and after the searches). The report also gives the sizes on disk after each fill.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeCursor, listCursorScope } from '../src/http/list-paging';
import { CUSTOMER_LIST_FILTERS } from '../src/modules/customers';
import { BENCH_ADMIN, benchApiEnv, login, startApi } from './lib/api-process';
import { adminQuery, openBenchDatabase } from './lib/database';
import { BULK_ROWS, fillCustomers, type FillReport } from './lib/fill';
import { runLoad, type LoadOptions, type LoadResult } from './lib/load';
import { WRK, runWrk } from './lib/wrk';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '16' },
  },
  strict: false,
});
const SIZES = String(values.sizes)
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const SECONDS = Math.max(1, Number(values.seconds));
const CONNECTIONS = Math.max(1, Number(values.connections));
const TARGET = { ratio: 0.5, p99Ms: 250 };
/** A search, at each size: at least this share of the first screen's req/s at the same size, and this p99. */
const SEARCH_TARGET = { ratio: 0.5, p99Ms: 60 };
const FIRST_SCREEN = 'GET /api/customers?limit=20 (first screen)';
/**
 * The first screen once more, after the searches: a search is held to the faster of the two (one 5 s
 * sample on shared cores can come out low — 1,105 req/s at a million rows while the same statement from
 * a cursor ran at 1,776 — and flatter every search).
 */
const FIRST_SCREEN_AGAIN = 'GET /api/customers?limit=20 (first screen, again after the searches)';
const GENERATOR = WRK ? 'wrk' : 'autocannon';


interface Endpoint {
  name: string;
  path: () => string;
  /** For wrk: the path as a Lua expression (a random id). */
  luaPath?: () => string;
  /** 'search': held to the first screen at the same size; false: shown for what it costs, outside the target. */
  targeted?: boolean | 'search';
}

const load = (e: Endpoint, o: Omit<LoadOptions, 'path'>): Promise<LoadResult> =>
  GENERATOR === 'wrk' ? runWrk({ ...o, path: e.path(), luaPath: e.luaPath?.() }) : runLoad({ ...o, path: e.path });

interface Sizes {
  heap: number;
  indexes: number;
  /** The three largest indexes of customers. */
  largest: { name: string; bytes: number }[];
  /** The history table with its indexes. */
  history: number;
  database: number;
}

async function sizesOf(url: string): Promise<Sizes> {
  const [t] = await adminQuery<{ heap: string; indexes: string; history: string; database: string }>(
    url,
    `SELECT pg_table_size('customers') AS heap, pg_indexes_size('customers') AS indexes,
            pg_total_relation_size('history') AS history, pg_database_size(current_database()) AS database`,
  );
  const largest = await adminQuery<{ name: string; bytes: string }>(
    url,
    `SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS bytes FROM pg_index
      WHERE indrelid = 'customers'::regclass ORDER BY 2 DESC LIMIT 3`,
  );
  return { heap: Number(t!.heap), indexes: Number(t!.indexes), history: Number(t!.history), database: Number(t!.database), largest: largest.map((i) => ({ name: i.name, bytes: Number(i.bytes) })) };
}

const search = (q: string, what: string): Endpoint => ({ name: `?q=${q}&limit=20 (${what})`, path: () => `/api/customers?q=${encodeURIComponent(q)}&limit=20`, targeted: 'search' });

/** The scale benchmark (npm run bench -- --scale). */
export async function runScale(): Promise<void> {
  const startedAt = new Date().toISOString();
  const db = await openBenchDatabase('scale', process.env.DATABASE_URL);
  const api = await startApi(benchApiEnv(db.url), { discardLogs: true });
  const headers = { authorization: `Bearer ${await login(api.base, BENCH_ADMIN.email, BENCH_ADMIN.password)}` };
  let filled = 0;
  let deepCursor = '';
  let searchCursor = '';
  const endpoints: Endpoint[] = [
    { name: 'GET /api/customers/:id', path: () => `/api/customers/${1 + Math.floor(Math.random() * filled)}`, luaPath: () => `"/api/customers/" .. math.random(1, ${filled})` },
    { name: FIRST_SCREEN, path: () => '/api/customers?limit=20' },
    { name: '?status=active&city=Izmir&limit=20', path: () => '/api/customers?status=active&city=Izmir&limit=20' },
    { name: '?status=active&city=Izmir&sort=name&limit=20', path: () => '/api/customers?status=active&city=Izmir&sort=name&order=asc&limit=20' },
    search('kaya 12', 'rare'),
    search('a', 'one letter, nearly every row'),
    search('ay', 'two letters, 24 %'),
    search('ahmet', 'a first name, 6.7 %'),
    search('yılmaz', 'a surname, 14 %'),
    search('ahmet kaya', 'two words, 1 %'),
    // Two words in fewer rows: under the walk's line at a million with its matches counted before
    // 2026-12-05's evening, and in no value of the planner's histogram (which put it at 0.01 %).
    search('fatma demir', 'two words, 0.3 %'),
    { name: '?q=yılmaz cursor at the middle of the table', path: () => `/api/customers?q=${encodeURIComponent('yılmaz')}&limit=20&cursor=${searchCursor}`, targeted: 'search' },
    { name: FIRST_SCREEN_AGAIN, path: () => '/api/customers?limit=20' },
    { name: 'page=50 (offset 980)', path: () => '/api/customers?page=50&limit=20' },
    { name: 'cursor at the middle of the table', path: () => `/api/customers?limit=20&cursor=${deepCursor}` },
    { name: 'GET /api/customers/:id/history', path: () => `/api/customers/${1 + Math.floor(Math.random() * filled)}/history`, luaPath: () => `"/api/customers/" .. math.random(1, ${filled}) .. "/history"` },
    { name: 'GET /api/dashboard', path: () => '/api/dashboard' },
  ];
  const results = new Map<string, Map<number, LoadResult>>();
  const fills: Record<number, number> = {};
  const fillReports: Record<number, FillReport> = {};
  const sizes: Record<number, Sizes> = {};

  for (const size of SIZES) {
    const started = Date.now();
    fillReports[size] = await fillCustomers(db.url, filled, size);
    fills[size] = Date.now() - started;
    filled = size;
    sizes[size] = await sizesOf(db.url);
    // A cursor for the row in the middle of the default order (created_at desc), as next_cursor would be.
    const [middle] = await adminQuery<{ key: string; id: string }>(
      db.url,
      `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS key, id FROM customers ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`,
      [Math.floor(size / 2)],
    );
    deepCursor = encodeCursor(listCursorScope('customers', CUSTOMER_LIST_FILTERS, { sort: 'created_at', order: 'desc' }), { key: middle!.key, id: Number(middle!.id) });
    searchCursor = encodeCursor(listCursorScope('customers', CUSTOMER_LIST_FILTERS, { q: 'yılmaz', sort: 'created_at', order: 'desc' }), { key: middle!.key, id: Number(middle!.id) });
    process.stdout.write(`${size.toLocaleString('en')} customers (filled in ${(fills[size] / 1000).toFixed(1)} s)\n`);
    for (const e of endpoints) {
      await load(e, { url: api.base, headers, connections: CONNECTIONS, seconds: 1 }); // warm-up, not measured
      const r = await load(e, { url: api.base, headers, connections: CONNECTIONS, seconds: SECONDS });
      const bySize = results.get(e.name) ?? new Map<number, LoadResult>();
      bySize.set(size, r);
      results.set(e.name, bySize);
      process.stdout.write(`  ${e.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, ${r.errors} errors\n`);
    }
  }

  const first = SIZES[0]!;
  const last = SIZES[SIZES.length - 1]!;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines = [
    `# customer-api at scale — ${startedAt}`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'} (${(await adminQuery<{ v: string }>(db.adminUrl, "SELECT current_setting('server_version') AS v"))[0]?.v ?? '?'}); ` +
      `${CONNECTIONS} connections (${GENERATOR}), ${SECONDS} s per endpoint and size, one API process with the default settings.`,
    '',
    `| read | ${SIZES.map((s) => `${s.toLocaleString('en')} customers`).join(' | ')} | ${last.toLocaleString('en')} vs ${first.toLocaleString('en')} |`,
    `|---|${SIZES.map(() => '---:').join('|')}|---:|`,
  ];
  const targets: { endpoint: string; ratio: number; p99: number; errors: number; met: boolean }[] = [];
  const outside = new Set(endpoints.filter((e) => e.targeted === false).map((e) => e.name));
  const searches = new Set(endpoints.filter((e) => e.targeted === 'search').map((e) => e.name));
  const screens = [results.get(FIRST_SCREEN)!, results.get(FIRST_SCREEN_AGAIN)!];
  const screen = new Map(SIZES.map((s) => [s, screens.map((r) => r.get(s)!).reduce((a, b) => (b.rps > a.rps ? b : a))]));
  for (const [name, bySize] of results) {
    const cells = SIZES.map((s) => {
      const r = bySize.get(s)!;
      const vsScreen = searches.has(name) ? `, ${(r.rps / Math.max(1, screen.get(s)!.rps)).toFixed(2)}× the first screen` : '';
      return `${fmt(r.rps)} req/s (p99 ${r.p99} ms${vsScreen}${r.errors ? `, ${r.errors} errors` : ''})`;
    });
    const ratio = bySize.get(last)!.rps / Math.max(1, bySize.get(first)!.rps);
    const errors = [...bySize.values()].reduce((n, r) => n + r.errors, 0);
    // A search: at every size, against the first screen at that size; any other read: the largest size against the first.
    const met = searches.has(name)
      ? SIZES.every((s) => bySize.get(s)!.rps >= SEARCH_TARGET.ratio * screen.get(s)!.rps && bySize.get(s)!.p99 <= SEARCH_TARGET.p99Ms) && errors === 0
      : ratio >= TARGET.ratio && bySize.get(last)!.p99 <= TARGET.p99Ms && errors === 0;
    if (!outside.has(name)) targets.push({ endpoint: name, ratio, p99: bySize.get(last)!.p99, errors, met });
    lines.push(`| ${name} | ${cells.join(' | ')} | ${ratio.toFixed(2)}× ${outside.has(name) ? '(outside the target)' : met ? '' : '(target missed)'} |`);
  }
  const secs = (s: number) => `${s.toFixed(1)} s`;
  lines.push(
    '',
    `Fill (SQL, every trigger; then VACUUM ANALYZE and CHECKPOINT; from ${BULK_ROWS.toLocaleString('en')} new rows on, a bulk load: the secondary indexes dropped, the rows loaded, each index built once): ` +
      `${SIZES.map((s) => {
        const f = fillReports[s]!;
        const built = f.indexes.reduce((n, i) => n + i.seconds, 0);
        return `${s.toLocaleString('en')} in ${secs(fills[s]! / 1000)}${f.bulk ? ` (bulk: rows loaded in ${secs(f.loadSeconds)}, ${f.indexes.length} indexes built in ${secs(built)}: ${f.indexes.map((i) => `${i.name} ${secs(i.seconds)}`).join(', ')})` : ''}`;
      }).join(', ')}.`,
  );
  const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20).toLocaleString('en')} MB`;
  lines.push(
    '',
    `On disk after each fill: ${SIZES.map((s) => {
      const z = sizes[s]!;
      return `${s.toLocaleString('en')}: customers ${mb(z.heap)} and its indexes ${mb(z.indexes)} (${z.largest.map((i) => `${i.name} ${mb(i.bytes)}`).join(', ')}), history ${mb(z.history)}, the database ${mb(z.database)}`;
    }).join('; ')}.`,
  );
  lines.push(
    `Targets: every search ≥ ${SEARCH_TARGET.ratio}× the first screen's req/s at each size with p99 ≤ ${SEARCH_TARGET.p99Ms} ms; every other read ≥ ${TARGET.ratio}× its req/s at ${first.toLocaleString('en')}, ` +
      `p99 ≤ ${TARGET.p99Ms} ms; no errors — ${targets.every((t) => t.met) ? 'met' : `missed (${targets.filter((t) => !t.met).map((t) => t.endpoint).join('; ')})`}` +
      (outside.size > 0 ? ` (${[...outside].join(', ')}: shown, outside the target).` : '.'),
  );
  const report = lines.join('\n');

  const stamp = startedAt.replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `scale-${stamp}.json`), JSON.stringify({ startedAt, sizes: SIZES, seconds: SECONDS, connections: CONNECTIONS, fills, fillReports, onDisk: sizes, results: Object.fromEntries([...results].map(([k, v]) => [k, Object.fromEntries(v)])), targets }, null, 2));
  await writeFile(join(dir, `scale-${stamp}.md`), `${report}\n`);
  process.stdout.write(`\n${report}\n\nresults: bench/results/scale-${stamp}.{json,md}\n`);
  await api.stop();
  await db.close();
}
