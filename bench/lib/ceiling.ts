import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, stopWithBenchmark } from './api-process';

export interface Ceiling {
  url: string;
  stop: () => void;
}

/** Starts bench/lib/ceiling-server.ts (the API's SQL without the API) as its own process. */
export async function startCeiling(databaseUrl: string, mode: 'bare' | 'express' | 'simple', prepared = false): Promise<Ceiling> {
  const port = await freePort();
  const args = ['-r', 'ts-node/register/transpile-only', join(__dirname, 'ceiling-server.ts'), String(port), databaseUrl, mode, prepared ? 'prepared' : 'unnamed'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => c.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`ceiling server exited ${code}`)));
  });
  stopWithBenchmark(child, 'SIGKILL');
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}
