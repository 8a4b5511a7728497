// npm run bench -- --export [--export-rows 1000000 --import-rows 200000]
// Export and import at a million customers, against PostgreSQL's own COPY through psql (the ceiling):
// 1. The customers table filled with SQL to --export-rows (with every index and trigger).
// 2. CSV and NDJSON through GET /api/customers/export vs the raw `psql -c "\copy (SELECT the same columns
//    in the same order) TO STDOUT"` (the ceiling a user compares with) and vs the API's own COPY statement
//    through psql (curl and psql, both C clients, each piped into `wc -l`; 3 rounds): rows/s, the ratios,
//    time to first byte, the API process's RSS growth;
//    the row count and the first rows compared with the database.
// 3. --import-rows rows of CSV through POST /api/customers/import vs `\copy customers (…) FROM` the same
//    file into the same table.
// 4. GET /api/customers/:id under wrk (or autocannon) for 10 s, idle and while 2 exports run, twice each,
//    before the import: p50, p99.
import { execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { get } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { EXPORT_COLUMNS, exportStatement } from '../src/modules/customers/customers-export';
import { BENCH_ADMIN, benchApiEnv, login, startApi } from './lib/api-process';
import { adminQuery, openBenchDatabase } from './lib/database';
import { fillCustomers } from './lib/fill';
import { runLoad, type LoadResult } from './lib/load';
import { WRK, runWrk } from './lib/wrk';

const run = promisify(execFile);

async function rssMbOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

interface Transfer {
  seconds: number;
  ttfbMs: number;
  bytes: number;
  rows: number;
  rssGrowthMb: number;
  firstLines: string[];
}

/** GET with node:http, each chunk handed to `onChunk` (a lighter client than fetch: the load generator shares the two cores). */
function download(url: string, token: string, onChunk: (chunk: Buffer) => boolean | void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`export answered ${res.statusCode}`));
        return;
      }
      res.on('data', (chunk: Buffer) => {
        if (onChunk(chunk) === false) {
          req.destroy();
          resolve();
        }
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * One export through the API, read by curl (a C client, as psql is for the ceiling) into `wc -l`, which
 * counts its lines; the API's RSS sampled every 20 ms meanwhile.
 */
async function exportThroughApi(base: string, token: string, format: 'csv' | 'ndjson', pid: number): Promise<Transfer> {
  const before = await rssMbOf(pid);
  let peak = before;
  const timer = setInterval(() => void rssMbOf(pid).then((mb) => (peak = Math.max(peak, mb))), 20);
  const { stdout, stderr } = await run('sh', ['-c', 'curl -sS -H "$1" -w "%{stderr}%{http_code} %{time_starttransfer} %{time_total} %{size_download}" "$0" | wc -l', `${base}/api/customers/export?format=${format}`, `authorization: Bearer ${token}`]);
  clearInterval(timer);
  peak = Math.max(peak, await rssMbOf(pid));
  const [status, ttfb, total, bytes] = stderr.trim().split(/\s+/).map(Number) as [number, number, number, number];
  if (status !== 200) throw new Error(`export answered ${status}`);
  // The fill has no line breaks inside values: a row is a line (the CSV's header is one more).
  const lines = Number(stdout.trim());
  // The first rows, for the comparison with the database: a download stopped after its first chunk.
  let head = '';
  await download(`${base}/api/customers/export?format=${format}`, token, (chunk) => {
    head += chunk.toString('utf8');
    return false;
  });
  return { seconds: total, ttfbMs: ttfb * 1000, bytes, rows: format === 'csv' ? lines - 1 : lines, rssGrowthMb: peak - before, firstLines: head.split(/\r?\n/).slice(0, 4) };
}

/**
 * The ceilings, through psql (a C client) into `wc -l`: `same` runs the API's own COPY statement (what
 * the path through Node costs), `raw` the plain dump a user would run without us — the same columns in
 * the same order, `\copy (SELECT id, name, … FROM customers ORDER BY created_at DESC, id DESC) TO STDOUT
 * (FORMAT csv, HEADER)`, or `row_to_json` of those rows for NDJSON — with no formatting of ours. Both
 * get the API's plan settings (the index walk; a sort of the whole table would only slow the ceiling).
 */
async function exportThroughPsql(url: string, format: 'csv' | 'ndjson', ceiling: 'same' | 'raw'): Promise<{ seconds: number; lines: number }> {
  const { text, params, settings } = exportStatement({ format, bom: false, sort: 'created_at', order: 'desc' });
  if (params.length > 0) throw new Error('the ceiling runs the unfiltered export');
  const rows = `SELECT ${EXPORT_COLUMNS.join(', ')} FROM customers ORDER BY created_at DESC, id DESC`;
  const raw = format === 'csv' ? `COPY (${rows}) TO STDOUT WITH (FORMAT csv, HEADER true)` : `COPY (SELECT row_to_json(c) FROM (${rows}) c) TO STDOUT`;
  const copy = `\\${(ceiling === 'same' ? text : raw).replace(/\s+/g, ' ')}`;
  // The same plan as the API's: its statement settings, as psql's start-up options.
  const options = Object.entries(settings).map(([name, value]) => `-c ${name}=${value.replace(/ /g, '\\ ')}`).join(' ');
  const started = performance.now();
  const { stdout } = await run('sh', ['-c', 'psql "$0" -X -q -c "$1" | wc -l', url, copy], { env: { ...process.env, PGOPTIONS: options } });
  return { seconds: (performance.now() - started) / 1000, lines: Number(stdout.trim()) };
}

const IMPORT_COLUMNS = 'name,email,phone,company,city,status';

async function writeImportFile(file: string, rows: number): Promise<void> {
  const cities = ['Istanbul', 'Ankara', 'Izmir', 'Bursa', 'Antalya', 'Eskişehir'];
  const lines = [IMPORT_COLUMNS];
  for (let i = 1; i <= rows; i += 1) {
    lines.push(`Imported Müşteri ${i},imported${i}@example.com,+90 532 ${String(i).padStart(7, '0')},"Ege, Lojistik ${i % 50}",${cities[i % cities.length]},${i % 3 === 0 ? 'active' : 'lead'}`);
  }
  await writeFile(file, `${lines.join('\n')}\n`);
}

/** The import report's `inserted`, and the seconds it took. */
async function importThroughApi(base: string, token: string, file: string): Promise<{ seconds: number; inserted: number }> {
  const started = performance.now();
  // Streamed from the file, as a client sending a large file would (fetch needs duplex: 'half' for that).
  const init = { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: Readable.toWeb(createReadStream(file)), duplex: 'half' };
  const res = await fetch(`${base}/api/customers/import?mode=all-or-nothing`, init as RequestInit);
  const body = (await res.json()) as { inserted?: number };
  if (res.status !== 200) throw new Error(`import answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return { seconds: (performance.now() - started) / 1000, inserted: body.inserted ?? 0 };
}

async function importThroughPsql(url: string, file: string): Promise<{ seconds: number }> {
  const started = performance.now();
  await run('psql', [url, '-X', '-q', '-c', `\\copy customers (${IMPORT_COLUMNS}) FROM '${file}' WITH (FORMAT csv, HEADER true)`]);
  return { seconds: (performance.now() - started) / 1000 };
}

/** The export bench (npm run bench -- --export). */
export async function runExport(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: false, options: { 'export-rows': { type: 'string', default: '1000000' }, 'import-rows': { type: 'string', default: '200000' } } });
  const exportRows = Number(values['export-rows']);
  const importRows = Number(values['import-rows']);
  const startedAt = new Date().toISOString();
  const db = await openBenchDatabase('export', process.env.DATABASE_URL);
  const api = await startApi(benchApiEnv(db.url), { discardLogs: true });
  const dir = await mkdtemp(join(tmpdir(), 'customer-api-export-'));
  try {
    const token = await login(api.base, BENCH_ADMIN.email, BENCH_ADMIN.password);
    const fillStarted = performance.now();
    await fillCustomers(db.url, 0, exportRows);
    process.stdout.write(`filled ${exportRows.toLocaleString('en')} customers in ${((performance.now() - fillStarted) / 1000).toFixed(0)} s\n`);
    const count = Number((await adminQuery<{ n: string }>(db.url, 'SELECT count(*) AS n FROM customers'))[0]!.n);
    const pid = api.child.pid!;

    // Three rounds per format, the ceiling and the API in turn (after one of each to warm the cache); the
    // median round by the ratio is reported.
    const exports: Record<string, { api: Transfer; raw: number; same: number; ratios: number[]; sameRatios: number[] }> = {};
    for (const format of ['csv', 'ndjson'] as const) {
      await exportThroughPsql(db.url, format, 'raw');
      await exportThroughApi(api.base, token, format, pid);
      const rounds: { api: Transfer; raw: number; same: number; ratio: number; sameRatio: number }[] = [];
      for (let round = 0; round < 3; round += 1) {
        const raw = await exportThroughPsql(db.url, format, 'raw');
        const same = await exportThroughPsql(db.url, format, 'same');
        const through = await exportThroughApi(api.base, token, format, pid);
        const expected = format === 'csv' ? count + 1 : count;
        if (through.rows !== count || raw.lines !== expected || same.lines !== expected) {
          throw new Error(`${format}: ${through.rows} rows through the API, ${raw.lines} and ${same.lines} lines from psql, ${count} in the table`);
        }
        rounds.push({ api: through, raw: raw.seconds, same: same.seconds, ratio: raw.seconds / through.seconds, sameRatio: same.seconds / through.seconds });
        process.stdout.write(
          `${format}: API ${through.seconds.toFixed(2)} s, raw \\copy ${raw.seconds.toFixed(2)} s, same SQL ${same.seconds.toFixed(2)} s, first byte ${through.ttfbMs.toFixed(0)} ms, RSS +${through.rssGrowthMb.toFixed(0)} MB\n`,
        );
      }
      const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[1]!;
      exports[format] = { api: median.api, raw: median.raw, same: median.same, ratios: rounds.map((r) => r.ratio), sameRatios: rounds.map((r) => r.sameRatio) };
    }
    // A sample of rows against the database: the first NDJSON rows are the newest customers.
    const newest = await adminQuery<{ id: string; name: string; email: string }>(db.url, 'SELECT id, name, email FROM customers ORDER BY created_at DESC, id DESC LIMIT 3');
    const sample = exports.ndjson!.api.firstLines.slice(0, 3).map((l) => JSON.parse(l) as { id: number; name: string; email: string });
    const sampleMatches = sample.every((c, i) => String(c.id) === newest[i]!.id && c.name === newest[i]!.name && c.email === newest[i]!.email);
    if (!sampleMatches) throw new Error('the exported rows do not match the database');

    // GET /api/customers/:id idle, then while two exports run the whole time; twice in turn (before the
    // import, whose autovacuum afterwards would weigh on both), the median of each.
    const load = (): Promise<LoadResult> => {
      const o = { url: api.base, headers: { authorization: `Bearer ${token}` }, connections: 8, seconds: 10 };
      return WRK ? runWrk({ ...o, path: '/api/customers/1', luaPath: `"/api/customers/" .. math.random(1, ${exportRows})` }) : runLoad({ ...o, path: () => `/api/customers/${1 + Math.floor(Math.random() * exportRows)}` });
    };
    // Two clients downloading exports back to back the whole time (curl into /dev/null: a client in C, as
    // a real one would be on another machine; a Node client here took the CPU the API needs).
    const whileExporting = async (): Promise<LoadResult> => {
      const exporters = [0, 1].map(() =>
        spawn('sh', ['-c', 'while :; do curl -s -o /dev/null -H "$1" "$0"; done', `${api.base}/api/customers/export?format=csv`, `authorization: Bearer ${token}`], { stdio: 'ignore', detached: true }),
      );
      try {
        await new Promise((r) => setTimeout(r, 500));
        return await load();
      } finally {
        for (const child of exporters) process.kill(-child.pid!, 'SIGTERM');
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    const idles: LoadResult[] = [];
    const busies: LoadResult[] = [];
    for (let round = 0; round < 2; round += 1) {
      idles.push(await load());
      busies.push(await whileExporting());
    }
    const byP99 = (runs: LoadResult[]) => [...runs].sort((a, b) => a.p99 - b.p99);
    const idle = byP99(idles)[1]!;
    const busy = byP99(busies)[1]!;
    process.stdout.write(`GET by id p99: idle ${idles.map((r) => r.p99.toFixed(1)).join(', ')} ms; while 2 exports run ${busies.map((r) => r.p99.toFixed(1)).join(', ')} ms\n`);

    const file = join(dir, 'import.csv');
    await writeImportFile(file, importRows);
    const ceilingImport = await importThroughPsql(db.url, file);
    const apiImport = await importThroughApi(api.base, token, file);
    if (apiImport.inserted !== importRows) throw new Error(`import: ${apiImport.inserted} of ${importRows} rows`);
    process.stdout.write(`import: API ${apiImport.seconds.toFixed(2)} s, \\copy ${ceilingImport.seconds.toFixed(2)} s\n`);

    const rate = (rows: number, seconds: number) => Math.round(rows / seconds).toLocaleString('en');
    const ratio = (ceiling: number, through: number) => `${(ceiling / through).toFixed(2)}×`;
    const lines = [
      `# Export and import — ${startedAt}`,
      '',
      `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${count.toLocaleString('en')} customers (filled with SQL); load generator ${WRK ? 'wrk' : 'autocannon'}.`,
      '',
      '| export (every customer; the median of 3 rounds by the raw ratio) | API (curl) | raw `psql \\copy` (the ceiling) | ratio | the API\'s own SQL through psql | ratio | first byte | API RSS growth |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...(['csv', 'ndjson'] as const).map((f) => {
        const e = exports[f]!;
        return (
          `| ${f.toUpperCase()} (${(e.api.bytes / 2 ** 20).toFixed(0)} MB) | ${rate(e.api.rows, e.api.seconds)} rows/s (${e.api.seconds.toFixed(2)} s) | ${rate(e.api.rows, e.raw)} rows/s (${e.raw.toFixed(2)} s) | ` +
          `${ratio(e.raw, e.api.seconds)} (rounds ${e.ratios.map((r) => r.toFixed(2)).join(', ')}) | ${rate(e.api.rows, e.same)} rows/s (${e.same.toFixed(2)} s) | ${ratio(e.same, e.api.seconds)} (rounds ${e.sameRatios.map((r) => r.toFixed(2)).join(', ')}) | ` +
          `${e.api.ttfbMs.toFixed(0)} ms | ${e.api.rssGrowthMb.toFixed(0)} MB |`
        );
      }),
      '',
      'Raw: `\\copy (SELECT id, name, email, phone, company, city, status, notes, version, created_at, updated_at, created_by FROM customers ORDER BY created_at DESC, id DESC) TO STDOUT (FORMAT csv, HEADER)`, or `row_to_json` of those rows (COPY text format) for NDJSON — what a user could run without the API. ' +
        "The API's own SQL adds the CSV cells' formula guard (docs/api.md, CSV injection) and NDJSON's CSV-mode framing; the API then adds the path through Node (and CSV's CRLF). Targets: CSV and NDJSON ≥ 0.8× raw, RSS growth ≤ 50 MB, first byte ≤ 200 ms.",
      '',
      `Row count: ${exports.csv!.api.rows.toLocaleString('en')} (CSV) and ${exports.ndjson!.api.rows.toLocaleString('en')} (NDJSON), the table ${count.toLocaleString('en')}; the first three rows match the database: ${sampleMatches ? 'yes' : 'no'}.`,
      '',
      '| import (CSV) | API | `psql \\copy … FROM` (ceiling) | ratio |',
      '|---|---:|---:|---:|',
      `| ${importRows.toLocaleString('en')} rows into ${count.toLocaleString('en')} | ${rate(importRows, apiImport.seconds)} rows/s (${apiImport.seconds.toFixed(2)} s) | ${rate(importRows, ceilingImport.seconds)} rows/s (${ceilingImport.seconds.toFixed(2)} s) | ${ratio(ceilingImport.seconds, apiImport.seconds)} |`,
      '',
      '| `GET /api/customers/:id`, 8 connections, 10 s (the slower of 2 runs each) | req/s | p50 | p99 |',
      '|---|---:|---:|---:|',
      `| idle | ${Math.round(idle.rps).toLocaleString('en')} | ${idle.p50.toFixed(1)} ms | ${idle.p99.toFixed(1)} ms (runs: ${idles.map((r) => r.p99.toFixed(1)).join(', ')}) |`,
      `| while 2 exports run | ${Math.round(busy.rps).toLocaleString('en')} | ${busy.p50.toFixed(1)} ms | ${busy.p99.toFixed(1)} ms (runs: ${busies.map((r) => r.p99.toFixed(1)).join(', ')}) |`,
    ];
    const report = lines.join('\n');
    const stamp = startedAt.replace(/[:.]/g, '-');
    const out = join(__dirname, 'results');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, `export-${stamp}.json`), JSON.stringify({ startedAt, count, exports, import: { rows: importRows, api: apiImport, ceiling: ceilingImport }, idles, busies }, null, 2));
    await writeFile(join(out, `export-${stamp}.md`), `${report}\n`);
    process.stdout.write(`\n${report}\n\nresults: bench/results/export-${stamp}.{json,md}\n`);
  } finally {
    await api.stop();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
