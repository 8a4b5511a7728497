import type { ChildProcess } from 'node:child_process';
import { freePort, startServer, waitForHealth } from '../../test/helpers/server-process';

export { freePort };

/** The flags of `npm start` (package.json), so that the benchmark measures what users run. */
export const START_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50'];

export interface ApiProcess {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** The processes this benchmark started and has not stopped, each with the signal that stops it. */
const running = new Map<ChildProcess, NodeJS.Signals>();
let reaping = false;

/**
 * Stops `child` when the benchmark ends, however it ends: its own exit, or an interrupt (SIGINT,
 * SIGTERM), which otherwise left the APIs and ceilings it started running.
 */
export function stopWithBenchmark(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  running.set(child, signal);
  child.once('exit', () => running.delete(child));
  if (reaping) return;
  reaping = true;
  const stopAll = () => {
    for (const [c, s] of running) if (c.exitCode === null) c.kill(s);
  };
  process.once('exit', stopAll);
  for (const interrupt of ['SIGINT', 'SIGTERM'] as const) {
    process.once(interrupt, () => {
      stopAll();
      process.exit(128 + (interrupt === 'SIGINT' ? 2 : 15));
    });
  }
}

/**
 * Starts the built API as `npm start` runs it, on a free loopback port, and waits for /api/health.
 * With `discardLogs`, its stdout (the JSON logs) goes to /dev/null; `main`: another build's dist/main.js.
 */
export async function startApi(env: Record<string, string>, options: { discardLogs?: boolean; main?: string } = {}): Promise<ApiProcess> {
  const server = startServer({ LOG_LEVEL: 'warn', ...env }, await freePort(), { nodeArgs: START_FLAGS, discardStdout: options.discardLogs, main: options.main });
  stopWithBenchmark(server.child);
  await waitForHealth(server);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (server.child.exitCode === null) server.child.kill(signal);
    return server.exited;
  };
  return { child: server.child, base: server.base, output: server.output, exited: server.exited, stop };
}

export async function login(base: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** The admin every benchmark logs in as (created at start-up through ADMIN_EMAIL / ADMIN_PASSWORD). */
export const BENCH_ADMIN = { email: 'bench-admin@example.com', password: 'bench-admin-password' };

/**
 * The environment of an API under benchmark: the defaults (LOG_LEVEL=info: one line per request, as
 * users run it), the bench admin, a day-long access token, no demo data.
 */
export function benchApiEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789',
    // One login per run: a run (--scale fills a million rows) outlasts the default 15-minute access token.
    JWT_EXPIRES_IN: '86400',
    ADMIN_EMAIL: BENCH_ADMIN.email,
    ADMIN_PASSWORD: BENCH_ADMIN.password,
    SEED_DEMO_DATA: 'false',
    LOG_LEVEL: 'info',
  };
}
