// npm run bench -- --login
// Password hashing at the chosen parameters, and what a login costs through the API:
// 1. The key derivation functions alone: argon2id (m=19 MiB, t=2, p=1: the one in use),
//    scrypt N=2^17, r=8, p=1 (OWASP's other choice) and scrypt N=2^14 (the earlier one), each in a fresh Node
//    process: how much its RSS grows while two run at once, and the median time of one hash (15 of them).
// 2. The built API with its defaults (PASSWORD_HASH_CONCURRENCY=2): 20 logins one after another (p50, p95),
//    then 25 users at once (p50, p95, the process's peak RSS against idle). 46 logins stay under the
//    per-address limit of 50 per 15 minutes.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { BENCH_ADMIN, benchApiEnv, login, startApi } from './lib/api-process';
import { openBenchDatabase } from './lib/database';

/** Each key derivation function runs in a fresh Node process, so its memory is not hidden by an earlier one's. */
const KDFS: { name: string; hash: string }[] = [
  { name: 'argon2id m=19 MiB, t=2, p=1 (in use)', hash: "require('argon2').hash(p, { type: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 })" },
  { name: 'scrypt N=2^17, r=8, p=1', hash: 'scrypt(p, 131072)' },
  { name: 'scrypt N=2^14, r=8, p=1 (earlier versions)', hash: 'scrypt(p, 16384)' },
];

/** Prints `{ ms, rssGrowthMb }`: RSS sampled every 2 ms while two hashes run at once (the first ones of the process), then the median of 15. */
const KDF_CHILD = `
const crypto = require('node:crypto');
const scrypt = (p, N) => new Promise((ok, ko) => crypto.scrypt(p, crypto.randomBytes(16), 64, { N, r: 8, p: 1, maxmem: 256 * N * 8 }, (e, k) => (e ? ko(e) : ok(k))));
const hash = (p) => HASH;
(async () => {
  const idle = process.memoryUsage().rss;
  let peak = idle;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  await Promise.all([hash('one'), hash('two')]);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const times = [];
  for (let i = 0; i < 15; i += 1) { const t = performance.now(); await hash('password-' + i); times.push(performance.now() - t); }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ ms: times[7], rssGrowthMb: (peak - idle) / 2 ** 20 }));
})();`;

function measureKdf(hash: string): { ms: number; rssGrowthMb: number } {
  const out = execFileSync(process.execPath, ['-e', KDF_CHILD.replace('HASH', hash)], { cwd: join(__dirname, '..'), encoding: 'utf8' });
  return JSON.parse(out) as { ms: number; rssGrowthMb: number };
}

async function rssMbOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** The peak RSS of `pid` while `work` runs, sampled every 5 ms. */
async function peakRssDuring(pid: number, work: () => Promise<unknown>): Promise<number> {
  let peak = await rssMbOf(pid);
  const timer = setInterval(() => void rssMbOf(pid).then((mb) => (peak = Math.max(peak, mb))), 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, await rssMbOf(pid));
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
};

async function timedLogin(base: string, email: string, password: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  return performance.now() - started;
}

/** The login benchmark (npm run bench -- --login). */
export async function runLogin(): Promise<void> {
  const startedAt = new Date().toISOString();
  const kdfs = [];
  for (const kdf of KDFS) {
    const measured = measureKdf(kdf.hash);
    kdfs.push({ name: kdf.name, ms: Math.round(measured.ms * 10) / 10, rssGrowthMb: Math.round(measured.rssGrowthMb) });
    process.stdout.write(`${kdf.name}: ${kdfs.at(-1)!.ms} ms, +${kdfs.at(-1)!.rssGrowthMb} MB for two at once\n`);
  }

  const db = await openBenchDatabase('login', process.env.DATABASE_URL);
  const api = await startApi(benchApiEnv(db.url), { discardLogs: true });
  const atStart = await rssMbOf(api.child.pid!);
  const admin = `Bearer ${await login(api.base, BENCH_ADMIN.email, BENCH_ADMIN.password)}`;
  const createUser = async (email: string) => {
    const res = await fetch(`${api.base}/api/users`, { method: 'POST', headers: { authorization: admin, 'content-type': 'application/json' }, body: JSON.stringify({ email, name: 'Login bench', password }) });
    if (res.status !== 201) throw new Error(`creating a user answered ${res.status}`);
    return email;
  };
  const password = 'login-bench-password';
  const run = Date.now();
  const email = await createUser(`login-bench-${run}@example.com`);
  const sequential: number[] = [];
  for (let i = 0; i < 20; i += 1) sequential.push(await timedLogin(api.base, email, password));
  // 25 different users at once (one user's logins in flight at once are limited to 5 by the per-email limit).
  const others: string[] = [];
  for (let i = 0; i < 25; i += 1) others.push(await createUser(`login-bench-${run}-${i}@example.com`));
  const pid = api.child.pid!;
  const idle = await rssMbOf(pid);
  const burst: number[] = [];
  const peak = await peakRssDuring(pid, () => Promise.all(others.map(async (other) => burst.push(await timedLogin(api.base, other, password)))));
  await api.stop();
  await db.close();

  const lines = [
    `# Login and password hashing — ${startedAt}`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    '',
    '| key derivation (a fresh process each) | one hash | RSS growth, two at once |',
    '|---|---:|---:|',
    ...kdfs.map((k) => `| ${k.name} | ${k.ms} ms | ${k.rssGrowthMb} MB |`),
    '',
    '| `POST /api/auth/login` (the API, defaults) | p50 | p95 | API RSS |',
    '|---|---:|---:|---:|',
    `| 20 one after another | ${percentile(sequential, 50)} ms | ${percentile(sequential, 95)} ms | ${Math.round(atStart)} MB at start, ${Math.round(idle)} MB after |`,
    `| 25 at once (2 hashes at a time, the rest queued) | ${percentile(burst, 50)} ms | ${percentile(burst, 95)} ms | peak ${Math.round(peak)} MB (+${Math.round(peak - idle)} MB) |`,
  ];
  const report = lines.join('\n');
  const stamp = startedAt.replace(/[:.]/g, '-');
  const dir = join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `login-${stamp}.json`), JSON.stringify({ startedAt, kdfs, sequential, burst, startRssMb: atStart, idleRssMb: idle, peakRssMb: peak }, null, 2));
  await writeFile(join(dir, `login-${stamp}.md`), `${report}\n`);
  process.stdout.write(`\n${report}\n\nresults: bench/results/login-${stamp}.{json,md}\n`);
}
