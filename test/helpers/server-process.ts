import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { freePort } from '../../src/db/embedded';

export { freePort };

export const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts the built server (dist/main.js) with exactly this environment (plus PATH and HOME). With
 * `discardStdout`, its JSON logs go to /dev/null, as a log shipper would take them away; `main`: another
 * build's entry (a benchmark's baseline).
 */
export function startServer(env: Record<string, string>, port: number, options: { nodeArgs?: string[]; discardStdout?: boolean; main?: string } = {}): ServerProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.main ?? MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', options.discardStdout ? 'ignore' : 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, port, base: `http://127.0.0.1:${port}`, output: () => output, exited };
}

/** Polls GET /api/health until it answers; returns the milliseconds it took. */
export async function waitForHealth(server: ServerProcess, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (server.child.exitCode !== null) throw new Error(`server exited (${server.child.exitCode}):\n${server.output()}`);
    try {
      const res = await fetch(`${server.base}/api/health`);
      if (res.ok) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not answer within ${timeoutMs} ms:\n${server.output()}`);
}

/**
 * Starts the built server with `env` plus JWT_SECRET and an admin created at start-up, waits for it,
 * and logs that admin in: the server and its Bearer token.
 */
export async function startServerAsAdmin(env: Record<string, string>, admin: { email: string; password: string }): Promise<{ server: ServerProcess; token: string }> {
  const server = startServer({ JWT_SECRET: process.env.JWT_SECRET!, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password, ...env }, await freePort());
  await waitForHealth(server);
  const login = await fetch(`${server.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) });
  return { server, token: ((await login.json()) as { token: string }).token };
}

/** Polls the server's output until `pattern` appears (a log line is the condition, not a fixed sleep). */
export async function waitForOutput(server: ServerProcess, pattern: string | RegExp, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  const seen = () => (typeof pattern === 'string' ? server.output().includes(pattern) : pattern.test(server.output()));
  while (!seen()) {
    if (Date.now() - started > timeoutMs) throw new Error(`no ${String(pattern)} in the server's output within ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function stopServer(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (server.child.exitCode === null) server.child.kill(signal);
  return server.exited;
}
