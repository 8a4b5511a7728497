// npm run bench -- --framework --tracing [--seconds 4 --rounds 5 --connections 32 --customers 10000] [--baseline DIR]
// What tracing costs (#37): the by-id read and the first list page, with tracing off (the defaults), on
// with parent-based ratio sampling at 0.1, and on at 1.0, each exporting to a local OTLP receiver (in this
// process: it reads each batch and answers 200, as a collector would). Interleaved round by round,
// load from wrk. Targets: on at 0.1 ≥ 0.95× off; 1.0 reported as it is. --baseline DIR: the same reads
// on another build (DIR/dist/main.js, e.g. the commit before tracing) with its defaults, to show that off
// is that build (no span objects are made when off).
import { createServer } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_ADMIN, benchApiEnv, login, startApi, type ApiProcess } from './lib/api-process';
import { adminQuery, openBenchDatabase } from './lib/database';
import { fillCustomers } from './lib/fill';
import { median, runLoad, type LoadResult } from './lib/load';
import { WRK, runWrk } from './lib/wrk';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    customers: { type: 'string', default: '10000' },
    baseline: { type: 'string' },
  },
  strict: false,
});
const SECONDS = Math.max(1, Number(values.seconds));
const ROUNDS = Math.max(1, Number(values.rounds));
const CONNECTIONS = Math.max(1, Number(values.connections));
const CUSTOMERS = Math.max(100, Number(values.customers));
const TARGET_AT_TENTH = 0.95;

const ENDPOINTS = [
  { name: 'GET /api/customers/:id', path: () => `/api/customers/${1 + Math.floor(Math.random() * CUSTOMERS)}`, luaPath: `"/api/customers/" .. math.random(1, ${CUSTOMERS})` },
  { name: 'GET /api/customers?limit=20', path: '/api/customers?limit=20' },
];

// Two more modes explain the 0.1 result: ratio 0 (on, nothing sampled: each request decides, makes a
// non-recording span and answers its traceparent) and ratio 0.001 (a sampled request now and then: the
// context manager's AsyncLocalStorage is on from the first, and Node 20 then tracks every promise).
type Mode = 'off' | 'none' | 'rare' | 'tenth' | 'all' | 'baseline';
const LABEL: Record<Mode, string> = { off: 'off', none: 'on, ratio 0', rare: 'on, ratio 0.001', tenth: 'on, ratio 0.1', all: 'on, ratio 1.0', baseline: 'baseline build' };

/** A local OTLP/HTTP receiver: reads each export request, counts its bytes, answers 200. */
async function startReceiver(): Promise<{ url: string; requests: () => number; bytes: () => number; stop: () => void }> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      requests += 1;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, bytes: () => bytes, stop: () => server.close() };
}

export async function runTracing(): Promise<void> {
  const startedAt = new Date().toISOString();
  const generator = WRK ? 'wrk' : 'autocannon';
  const db = await openBenchDatabase('tracing', process.env.DATABASE_URL);
  const receiver = await startReceiver();
  const env = benchApiEnv(db.url);
  const traced = (ratio: string) => ({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio });
  const apis: Partial<Record<Mode, ApiProcess>> = {};
  apis.off = await startApi(env, { discardLogs: true });
  await fillCustomers(db.url, 0, CUSTOMERS);
  apis.none = await startApi(traced('0'), { discardLogs: true });
  apis.rare = await startApi(traced('0.001'), { discardLogs: true });
  apis.tenth = await startApi(traced('0.1'), { discardLogs: true });
  apis.all = await startApi(traced('1'), { discardLogs: true });
  if (values.baseline) apis.baseline = await startApi(env, { discardLogs: true, main: resolve(String(values.baseline), 'dist/main.js') });
  const modes = Object.keys(apis) as Mode[];
  const headers = { authorization: `Bearer ${await login(apis.off.base, BENCH_ADMIN.email, BENCH_ADMIN.password)}` };
  const load = (mode: Mode, e: (typeof ENDPOINTS)[number], seconds = SECONDS) => {
    const o = { url: apis[mode]!.base, method: 'GET' as const, path: e.path, headers, connections: CONNECTIONS, seconds };
    return WRK ? runWrk({ ...o, luaPath: e.luaPath }) : runLoad(o);
  };
  process.stdout.write(`load generator: ${generator}; OTLP receiver at ${receiver.url}; modes: ${modes.map((m) => LABEL[m]).join(', ')}\n`);
  for (const e of ENDPOINTS) for (const m of modes) await load(m, e, 2); // warm-up
  const runs = new Map<string, Record<Mode, LoadResult[]>>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const e of ENDPOINTS) {
      const entry = runs.get(e.name) ?? { off: [], none: [], rare: [], tenth: [], all: [], baseline: [] };
      // Each mode takes each place in the order over the rounds.
      const order = modes.map((_, i) => modes[(i + round) % modes.length]!);
      for (const m of order) entry[m].push(await load(m, e));
      runs.set(e.name, entry);
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
  // What the receiver got: the traced APIs flush their last batches as they stop.
  for (const m of modes) await apis[m]!.stop();

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const side = (r: LoadResult[]) => ({ rps: median(r.map((x) => x.rps)), p99: median(r.map((x) => x.p99)), errors: r.reduce((n, x) => n + x.errors, 0) });
  const ratio = (of: LoadResult[], against: LoadResult[]) => {
    const rounds = of.map((x, i) => x.rps / Math.max(1e-9, against[i]!.rps));
    return { median: median(rounds), spread: `${Math.min(...rounds).toFixed(2)}–${Math.max(...rounds).toFixed(2)}`, p99: median(of.map((x, i) => x.p99 / Math.max(1e-9, against[i]!.p99))) };
  };
  const lines = [
    `# What tracing costs — ${startedAt}`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'} (${(await adminQuery<{ v: string }>(db.adminUrl, "SELECT current_setting('server_version') AS v"))[0]?.v ?? '?'}); ` +
      `${CUSTOMERS.toLocaleString('en')} customers, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s, load from ${generator}; ` +
      'each API with its defaults (LOG_LEVEL=info), the traced ones with OTEL_EXPORTER_OTLP_ENDPOINT at a local receiver and OTEL_TRACES_SAMPLER=parentbased_traceidratio; req/s and p99: medians; ratios: medians of the rounds\' ratios (range in brackets).',
    '',
    `| endpoint | ${modes.map((m) => `${LABEL[m]} req/s (p99)`).join(' | ')} | 0 / off | 0.001 / off | 0.1 / off (rounds) | p99 0.1 / off | 1.0 / off (rounds) | p99 1.0 / off |${apis.baseline ? ' off / baseline (rounds) |' : ''} target (0.1 ≥ ${TARGET_AT_TENTH}×) |`,
    `|---|${modes.map(() => '---:').join('|')}|---:|---:|---:|---:|---:|---:|${apis.baseline ? '---:|' : ''}---|`,
  ];
  const rows = [];
  for (const e of ENDPOINTS) {
    const r = runs.get(e.name)!;
    const none = ratio(r.none, r.off);
    const rare = ratio(r.rare, r.off);
    const tenth = ratio(r.tenth, r.off);
    const all = ratio(r.all, r.off);
    const base = apis.baseline ? ratio(r.off, r.baseline) : undefined;
    const errors = modes.reduce((n, m) => n + side(r[m]).errors, 0);
    const met = tenth.median >= TARGET_AT_TENTH && errors === 0;
    rows.push({ endpoint: e.name, medians: Object.fromEntries(modes.map((m) => [m, side(r[m])])), none, rare, tenth, all, baseline: base, met, rounds: r });
    lines.push(
      `| ${e.name} | ${modes.map((m) => `${fmt(side(r[m]).rps)} (${side(r[m]).p99} ms)${side(r[m]).errors ? `, ${side(r[m]).errors} errors` : ''}`).join(' | ')} | ${none.median.toFixed(2)}× | ${rare.median.toFixed(2)}× | ${tenth.median.toFixed(2)}× (${tenth.spread}) | ${tenth.p99.toFixed(2)}× | ${all.median.toFixed(2)}× (${all.spread}) | ${all.p99.toFixed(2)}× |${base ? ` ${base.median.toFixed(2)}× (${base.spread}) |` : ''} ${met ? 'met' : 'missed'} |`,
    );
  }
  lines.push('', `The receiver took ${fmt(receiver.requests())} export requests, ${fmt(receiver.bytes() / 1024)} KiB of spans (OTLP http/protobuf, batched by the SDK).`);
  receiver.stop();
  const report = lines.join('\n');
  const stamp = startedAt.replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `tracing-${stamp}.json`), JSON.stringify({ startedAt, settings: { SECONDS, ROUNDS, CONNECTIONS, CUSTOMERS, generator, baseline: values.baseline ?? null }, rows }, null, 2));
  await writeFile(join(dir, `tracing-${stamp}.md`), `${report}\n`);
  process.stdout.write(`\n${report}\n\nresults: bench/results/tracing-${stamp}.{json,md}\n`);
  await db.close();
}
