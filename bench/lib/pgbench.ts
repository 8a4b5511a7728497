import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function pgbenchAvailable(): Promise<boolean> {
  return run('pgbench', ['--version']).then(
    () => true,
    () => false,
  );
}

/** pgbench with the API's by-id SELECT; mode `extended` (parse each time) or `prepared`. */
export async function runPgbench(databaseUrl: string, mode: 'extended' | 'prepared', seconds: number, clients: number, maxId: number): Promise<number> {
  const script = join(tmpdir(), `customer-api-bench-${process.pid}.sql`);
  await writeFile(
    script,
    `\\set id random(1, ${maxId})\nSELECT id, name, email, phone, company, city, status, notes, version, created_at, updated_at, created_by FROM customers WHERE id = :id;\n`,
  );
  const { stdout } = await run('pgbench', ['-n', '-f', script, '-c', String(clients), '-j', '2', '-T', String(seconds), '-M', mode, databaseUrl]);
  const tps = /tps = ([0-9.]+)/.exec(stdout)?.[1];
  if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
  return Number(tps);
}
