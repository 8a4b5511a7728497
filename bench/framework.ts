// npm run bench -- --framework [--seconds 4 --rounds 3 --connections 32 --customers 10000] [--tls] [--prepared] [--autocannon] [--only POST]
// npm run bench -- --framework --tracing [--baseline DIR]: what tracing costs (bench/tracing.ts).
// The by-id read also runs with an API key, against the same read with the access token (#36: ≥ 0.95×).
// The API (its defaults: one Express pipeline with auth, validation, logging, metrics and headers)
// against two ceilings with the same SQL, interleaved round by round: a minimal Express 5 + pg app
// (the framework ceiling) and a bare node:http + pg server. What the API adds over bare Express is
// what it costs. The load comes from wrk (a C load generator) when it is installed: autocannon runs in
// Node on the same cores and takes CPU from whichever server is faster, pulling the ratios toward 1.
// --tls: every server talks to PostgreSQL over TLS (sslmode=require: DATABASE_URL must have TLS on).
// --prepared: the ceilings send the by-id read as a named prepared statement, as the API does (by
// default they send their SQL unnamed, planned on every call: a saving of the server's that the API has).
// A third ceiling, the simple app (bench/lib/ceiling-server.ts `simple`), is what a user compares with:
// minimal Express 5 + pg.Pool with its own plain SQL (by id; a list page ordered by id with no total).
// By id and the first list screen are also held to it (by id ≥ 0.85×, p99 ≤ 1.3×; the list page with
// its total ≥ 0.7× the simple page without one, p99 ≤ 1.5×).
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_ADMIN, benchApiEnv, login, startApi } from './lib/api-process';
import { startCeiling } from './lib/ceiling';
import { adminQuery, openBenchDatabase } from './lib/database';
import { fillCustomers } from './lib/fill';
import { median, runLoad, type LoadResult } from './lib/load';
import { WRK, runWrk } from './lib/wrk';
import { runTracing } from './tracing';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    customers: { type: 'string', default: '10000' },
    tls: { type: 'boolean', default: false },
    prepared: { type: 'boolean', default: false },
    autocannon: { type: 'boolean', default: false },
    // What tracing costs instead (bench/tracing.ts).
    tracing: { type: 'boolean', default: false },
    // Only the endpoints whose name contains this text (a quicker run while working on one).
    only: { type: 'string', default: '' },
  },
  strict: false,
});
const SECONDS = Math.max(1, Number(values.seconds));
const ROUNDS = Math.max(1, Number(values.rounds));
const CONNECTIONS = Math.max(1, Number(values.connections));
const CUSTOMERS = Math.max(100, Number(values.customers));
const TARGET = { ofExpress: 0.85, p99: 1.5 };
const GENERATOR = WRK && values.autocannon !== true ? 'wrk' : 'autocannon';

/** Against the simple app: the least req/s ratio and the most p99 ratio. */
const SIMPLE_TARGETS: Record<string, { ratio: number; p99: number }> = {
  'GET /api/customers/:id': { ratio: 0.85, p99: 1.3 },
  'GET /api/customers?limit=20': { ratio: 0.7, p99: 1.5 },
};

/** Reads also run with an API key (customers:read) against the same API: the key's cost against the token's. */
const KEY_TARGETS: Record<string, number> = { 'GET /api/customers/:id': 0.95 };

const ALL_ENDPOINTS: { name: string; read: boolean; method: 'GET' | 'POST'; path: string | (() => string); luaPath?: string; body?: string }[] = [
  {
    name: 'GET /api/customers/:id',
    read: true,
    method: 'GET',
    path: () => `/api/customers/${1 + Math.floor(Math.random() * CUSTOMERS)}`,
    luaPath: `"/api/customers/" .. math.random(1, ${CUSTOMERS})`,
  },
  { name: 'GET /api/customers?limit=20', read: true, method: 'GET', path: '/api/customers?limit=20' },
  { name: '?status=active&city=Izmir&limit=20', read: true, method: 'GET', path: '/api/customers?status=active&city=Izmir&limit=20' },
  { name: '?q=kaya&limit=20', read: true, method: 'GET', path: '/api/customers?q=kaya&limit=20' },
  { name: 'GET /api/dashboard', read: true, method: 'GET', path: '/api/dashboard' },
  { name: 'POST /api/customers', read: false, method: 'POST', path: '/api/customers', body: JSON.stringify({ name: 'Bench Customer', city: 'Ankara', status: 'lead' }) },
];
const ENDPOINTS = ALL_ENDPOINTS.filter((e) => e.name.includes(String(values.only)));

type Target = 'api' | 'express' | 'bare' | 'simple' | 'key';

/** The framework benchmark (npm run bench -- --framework). */
export async function runFramework(): Promise<void> {
  if (values.tracing === true) return runTracing();
  const startedAt = new Date().toISOString();
  const db = await openBenchDatabase('framework', process.env.DATABASE_URL);
  const dbUrl = values.tls ? withSslmode(db.url, 'require') : db.url;
  // The key's rate limit out of the way (it still runs, in memory: its cost is measured, not its 429s).
  const api = await startApi({ ...benchApiEnv(dbUrl), API_KEY_RATE_LIMIT_PER_MINUTE: '100000000' }, { discardLogs: true });
  await fillCustomers(db.url, 0, CUSTOMERS);
  const headers = { authorization: `Bearer ${await login(api.base, BENCH_ADMIN.email, BENCH_ADMIN.password)}` };
  const keyHeaders = { authorization: `Bearer ${await createKey(api.base, headers.authorization)}` };
  const express = await startCeiling(dbUrl, 'express', values.prepared === true);
  const bare = await startCeiling(dbUrl, 'bare', values.prepared === true);
  const simple = await startCeiling(dbUrl, 'simple');
  const bases: Record<Target, string> = { api: api.base, express: express.url, bare: bare.url, simple: simple.url, key: api.base };
  const targetsOf = (e: (typeof ENDPOINTS)[number], order: Target[]): Target[] => [...order, ...(e.name in SIMPLE_TARGETS ? ['simple' as const] : []), ...(e.name in KEY_TARGETS ? ['key' as const] : [])];
  const load = (target: Target, e: (typeof ENDPOINTS)[number], seconds = SECONDS) => {
    const o = { url: bases[target], method: e.method, path: e.path, body: e.body, headers: target === 'key' ? keyHeaders : headers, connections: CONNECTIONS, seconds };
    return GENERATOR === 'wrk' ? runWrk({ ...o, luaPath: e.luaPath }) : runLoad(o);
  };
  process.stdout.write(`load generator: ${GENERATOR}${GENERATOR === 'autocannon' && !WRK ? ' (wrk not installed: apt-get install wrk)' : ''}; PostgreSQL over ${values.tls ? 'TLS' : 'the URL as given'}${values.prepared ? '; the ceilings prepare the by-id read' : ''}\n`);

  for (const e of ENDPOINTS) for (const t of targetsOf(e, ['api', 'express', 'bare'])) await load(t, e, 2); // warm-up: JIT, prepared statements, caches
  const runs = new Map<string, Record<Target, LoadResult[]>>();
  const orders: Target[][] = [
    ['api', 'express', 'bare'],
    ['bare', 'express', 'api'],
    ['express', 'api', 'bare'],
  ];
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const e of ENDPOINTS) {
      const entry = runs.get(e.name) ?? { api: [], express: [], bare: [], simple: [], key: [] };
      // The simple app and the key take their turns at a different place in each round too.
      const order = orders[round % orders.length]!;
      const withSimple = e.name in SIMPLE_TARGETS ? [...order.slice(0, round % 3), 'simple' as const, ...order.slice(round % 3)] : order;
      const withKey = e.name in KEY_TARGETS ? [...withSimple.slice(0, (round + 1) % withSimple.length), 'key' as const, ...withSimple.slice((round + 1) % withSimple.length)] : withSimple;
      for (const t of withKey) entry[t].push(await load(t, e));
      runs.set(e.name, entry);
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
  }

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines = [
    `# customer-api vs its framework — ${startedAt}`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'} (${(await adminQuery<{ v: string }>(db.adminUrl, "SELECT current_setting('server_version') AS v"))[0]?.v ?? '?'}); ` +
      `${CUSTOMERS.toLocaleString('en')} customers, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s; req/s and p99: medians; ratios: medians of the rounds' ratios (their range in brackets); ` +
      `load from ${GENERATOR}${values.tls ? ', PostgreSQL over TLS' : ''}${values.prepared ? '; the ceilings send the by-id read as a named prepared statement' : ''}.`,
    '',
    '| endpoint | API req/s (p99) | minimal Express + pg (p99) | bare node:http + pg (p99) | API / Express (rounds) | p99 API / Express | API / bare | target |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  const rows = [];
  for (const e of ENDPOINTS) {
    const r = runs.get(e.name)!;
    const m = (t: Target) => ({ rps: median(r[t].map((x) => x.rps)), p99: median(r[t].map((x) => x.p99)), errors: r[t].reduce((n, x) => n + x.errors, 0) });
    const [a, x, b] = [m('api'), m('express'), m('bare')];
    // Ratios within a round, then their median: the three servers ran back to back in each round, so
    // the machine's drift between rounds cancels out of each ratio.
    const perRound = (t: Target, k: 'rps' | 'p99') => r.api.map((run, i) => run[k] / Math.max(1e-9, r[t][i]![k]));
    const ofExpressRounds = perRound('express', 'rps');
    const ofExpress = median(ofExpressRounds);
    const p99OfExpress = median(perRound('express', 'p99'));
    const ofBare = median(perRound('bare', 'rps'));
    const met = !e.read || (ofExpress >= TARGET.ofExpress && p99OfExpress <= TARGET.p99 && a.errors === 0);
    rows.push({ endpoint: e.name, api: a, express: x, bare: b, ofExpress, ofExpressRounds, p99OfExpress, ofBare, met, rounds: r });
    const spread = `${Math.min(...ofExpressRounds).toFixed(2)}–${Math.max(...ofExpressRounds).toFixed(2)}`;
    lines.push(
      `| ${e.name} | ${fmt(a.rps)} (${a.p99} ms)${a.errors ? `, ${a.errors} errors` : ''} | ${fmt(x.rps)} (${x.p99} ms) | ${fmt(b.rps)} (${b.p99} ms) | ${ofExpress.toFixed(2)}× (${spread}) | ${p99OfExpress.toFixed(2)}× | ${ofBare.toFixed(2)}× | ${e.read ? (met ? 'met' : 'missed') : 'n/a (write)'} |`,
    );
  }
  lines.push('', `Target (reads): ≥ ${TARGET.ofExpress}× the minimal Express app's req/s with p99 ≤ ${TARGET.p99}× its p99, no errors. The API serves the dashboard from its DASHBOARD_MAX_AGE_S cache; the ceilings run its SQL every time.`);
  lines.push(
    '',
    '| against the simple app (its own plain SQL, unnamed; the list page ordered by id, no total) | API req/s (p99) | simple app req/s (p99) | API / simple (rounds) | p99 API / simple | target |',
    '|---|---:|---:|---:|---:|---|',
  );
  const simpleRows = [];
  for (const e of ENDPOINTS.filter((x) => x.name in SIMPLE_TARGETS)) {
    const r = runs.get(e.name)!;
    const target = SIMPLE_TARGETS[e.name]!;
    const { rpsRounds, ratio, p99, of: a, against: s, spread } = versus(r.api, r.simple);
    const met = ratio >= target.ratio && p99 <= target.p99;
    simpleRows.push({ endpoint: e.name, ratio, rpsRounds, p99, met });
    lines.push(
      `| ${e.name} | ${fmt(a.rps)} (${a.p99} ms) | ${fmt(s.rps)} (${s.p99} ms) | ${ratio.toFixed(2)}× (${spread}) | ${p99.toFixed(2)}× | ≥ ${target.ratio}×, p99 ≤ ${target.p99}×: ${met ? 'met' : 'missed'} |`,
    );
  }
  lines.push('', '| with an API key (customers:read) against an access token, the same API | key req/s (p99) | token req/s (p99) | key / token (rounds) | p99 key / token | target |', '|---|---:|---:|---:|---:|---|');
  const keyRows = [];
  for (const e of ENDPOINTS.filter((x) => x.name in KEY_TARGETS)) {
    const r = runs.get(e.name)!;
    const target = KEY_TARGETS[e.name]!;
    const { rpsRounds, ratio, p99, of: k, against: t, spread } = versus(r.key, r.api);
    const met = ratio >= target && k.errors === 0;
    keyRows.push({ endpoint: e.name, ratio, rpsRounds, p99, met });
    lines.push(
      `| ${e.name} | ${fmt(k.rps)} (${k.p99} ms)${k.errors ? `, ${k.errors} errors` : ''} | ${fmt(t.rps)} (${t.p99} ms) | ${ratio.toFixed(2)}× (${spread}) | ${p99.toFixed(2)}× | ≥ ${target}×: ${met ? 'met' : 'missed'} |`,
    );
  }
  const report = lines.join('\n');
  const stamp = startedAt.replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `framework-${stamp}.json`), JSON.stringify({ startedAt, settings: { SECONDS, ROUNDS, CONNECTIONS, CUSTOMERS, generator: GENERATOR, tls: values.tls, prepared: values.prepared }, rows, simple: simpleRows, keys: keyRows }, null, 2));
  await writeFile(join(dir, `framework-${stamp}.md`), `${report}\n`);
  process.stdout.write(`\n${report}\n\nresults: bench/results/framework-${stamp}.{json,md}\n`);
  express.stop();
  bare.stop();
  simple.stop();
  await api.stop();
  await db.close();
}

/**
 * One server's runs against another's, round by round (they ran back to back in each round): the
 * median of the rounds' req/s ratios and its range, the median p99 ratio, and each side's medians.
 */
function versus(of: LoadResult[], against: LoadResult[]) {
  const rpsRounds = of.map((run, i) => run.rps / Math.max(1e-9, against[i]!.rps));
  const side = (runs: LoadResult[]) => ({ rps: median(runs.map((x) => x.rps)), p99: median(runs.map((x) => x.p99)), errors: runs.reduce((n, x) => n + x.errors, 0) });
  return {
    rpsRounds,
    ratio: median(rpsRounds),
    spread: `${Math.min(...rpsRounds).toFixed(2)}–${Math.max(...rpsRounds).toFixed(2)}`,
    p99: median(of.map((run, i) => run.p99 / Math.max(1e-9, against[i]!.p99))),
    of: side(of),
    against: side(against),
  };
}

/** An API key with customers:read for a day, made with the admin's token (docs/api.md §9). */
async function createKey(base: string, authorization: string): Promise<string> {
  const res = await fetch(`${base}/api/keys`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'framework bench', scopes: ['customers:read'], expires_at: new Date(Date.now() + 86_400_000).toISOString() }),
  });
  if (res.status !== 201) throw new Error(`could not make an API key: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

/** The URL with its sslmode set (the service and the ceilings read it with libpq's meaning). */
function withSslmode(url: string, mode: string): string {
  const u = new URL(url);
  u.searchParams.set('sslmode', mode);
  return u.toString();
}
