import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadOptions, LoadResult } from './load';

/** Debian's wrk (a C load generator: it takes little CPU from the server under test), when installed. */
export const WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((p) => spawnSync('test', ['-x', p]).status === 0);

const lua = (s: string) => JSON.stringify(s); // a Lua string literal (JSON's escapes are Lua's for this text)

/**
 * One wrk run (2 threads). The path is a Lua expression when `luaPath` is given (a random id), else
 * the fixed path; non-2xx answers and socket errors count as errors.
 */
export async function runWrk(o: LoadOptions & { luaPath?: string }): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'customer-api-wrk-'));
  try {
    const headers = { 'content-type': 'application/json', ...o.headers };
    const script = [
      `wrk.method = ${lua(o.method ?? 'GET')}`,
      o.body ? `wrk.body = ${lua(o.body)}` : '',
      ...Object.entries(headers).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`),
      `request = function() return wrk.format(nil, ${o.luaPath ?? lua(typeof o.path === 'string' ? o.path : o.path())}) end`,
    ].join('\n');
    await writeFile(join(dir, 'load.lua'), script);
    const { stdout } = await promisify(execFile)(WRK!, ['-t2', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '-s', join(dir, 'load.lua'), o.url], {
      timeout: (o.seconds + 30) * 1000,
    });
    return parseWrk(stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = (value: string, unit: string): number => Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);

/** Reads wrk's report (with --latency). */
export function parseWrk(out: string): LoadResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\b`, 'm').exec(out);
    return m ? Math.round(ms(m[1]!, m[2]!) * 100) / 100 : 0;
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0;
  return { rps, p50: pct('50'), p99: pct('99'), requests, errors: non2xx + socketErrors };
}
