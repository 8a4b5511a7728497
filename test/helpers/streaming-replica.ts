import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { serverIds } from './os-user';
import { freePort } from './server-process';

/** Debian's PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup), newest version first; undefined when absent. */
export function findPgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find((bin) => ['initdb', 'pg_ctl', 'pg_basebackup'].every((p) => existsSync(join(bin, p))));
}

export interface StreamingPair {
  primaryUrl: string;
  replicaUrl: string;
  stopReplica: () => void;
  startReplica: () => void;
  /** Runs SQL on the replica itself (pg_wal_replay_pause and friends). */
  onReplica: (sql: string) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * A primary made with initdb in a temporary folder, and a streaming replica of it made with
 * pg_basebackup -R, each on a free port and run with pg_ctl as the postgres OS user (as themselves
 * when not root). The system server is left alone: its pg_hba.conf allows no replication.
 */
export async function startStreamingPair(bin: string): Promise<StreamingPair> {
  const dir = await mkdtemp(join(tmpdir(), 'customer-api-replica-'));
  await chmod(dir, 0o755);
  const ids = serverIds();
  if (ids.uid !== undefined) await chown(dir, ids.uid, ids.gid!);
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const run = (program: string, args: string[]): void => {
    const result = spawnSync(join(bin, program), args, { cwd: dir, ...ids, encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  const options = (port: number) =>
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=60 -c shared_buffers=32MB`;
  const start = (data: string, port: number) => run('pg_ctl', ['-D', join(dir, data), '-l', join(dir, `${data}.log`), '-w', '-t', '30', '-o', options(port), 'start']);

  run('initdb', ['-D', join(dir, 'primary'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  start('primary', primaryPort);
  run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', join(dir, 'replica'), '-R', '-X', 'stream', '-c', 'fast']);
  start('replica', replicaPort);

  const replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`;
  return {
    primaryUrl: `postgres://postgres@127.0.0.1:${primaryPort}/postgres`,
    replicaUrl,
    stopReplica: () => run('pg_ctl', ['-D', join(dir, 'replica'), '-m', 'fast', '-w', 'stop']),
    startReplica: () => start('replica', replicaPort),
    onReplica: async (sql) => {
      const client = new pg.Client({ connectionString: replicaUrl });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    stop: async () => {
      for (const data of ['replica', 'primary']) {
        spawnSync(join(bin, 'pg_ctl'), ['-D', join(dir, data), '-m', 'immediate', '-w', 'stop'], { cwd: dir, ...ids, stdio: 'ignore' });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
