import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { serverIds } from './os-user';
import { freePort } from './server-process';

/** Why a group that needs findPgBin() skips. */
export const PG_BIN_MISSING = 'no PostgreSQL server binaries under /usr/lib/postgresql (Debian: apt-get install postgresql)';

/** Debian's PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup), newest version first; undefined when absent. */
export function findPgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find((bin) => ['initdb', 'pg_ctl', 'pg_basebackup'].every((p) => existsSync(join(bin, p))));
}

/** One server of the cluster: its own data folder and port; the port stays the node's across rebuilds. */
export interface PgNode {
  readonly name: string;
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
}

export interface PgCluster {
  /** A new primary from initdb, started. */
  initPrimary(name: string): Promise<PgNode>;
  /** A standby of `source` from pg_basebackup -R, started; a node of that name is rebuilt on its own port. */
  addStandby(name: string, source: PgNode): Promise<PgNode>;
  start(node: PgNode): void;
  /** fast: a clean stop; immediate: a crash, as a power cut would leave it. */
  stop(node: PgNode, mode?: 'fast' | 'immediate'): void;
  promote(node: PgNode): void;
  /** Runs one statement on the node (its database `postgres`), returning the rows. */
  sql<T extends pg.QueryResultRow = pg.QueryResultRow>(node: PgNode, text: string, values?: unknown[]): Promise<T[]>;
  /** Stops every node and removes the folder. */
  destroy(): Promise<void>;
}

/**
 * Real PostgreSQL servers in a temporary folder, each run with pg_ctl as the postgres OS user (as
 * themselves when not root), on free ports of 127.0.0.1. The system server is left alone: its
 * pg_hba.conf allows no replication.
 */
export async function createPgCluster(bin: string): Promise<PgCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'customer-api-cluster-'));
  await chmod(dir, 0o755);
  const ids = serverIds();
  if (ids.uid !== undefined) await chown(dir, ids.uid, ids.gid!);
  const nodes = new Map<string, PgNode>();
  const run = (program: string, args: string[]): void => {
    const result = spawnSync(join(bin, program), args, { cwd: dir, ...ids, encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  const data = (node: PgNode) => join(dir, node.name);
  const commandLine = (port: number) =>
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=60 -c shared_buffers=32MB`;
  const nodeOf = async (name: string): Promise<PgNode> => {
    const port = nodes.get(name)?.port ?? (await freePort());
    return { name, port, url: `postgres://postgres@127.0.0.1:${port}/postgres` };
  };

  const cluster: PgCluster = {
    async initPrimary(name) {
      const node = await nodeOf(name);
      run('initdb', ['-D', data(node), '-A', 'trust', '-U', 'postgres', '--no-sync']);
      nodes.set(name, node);
      cluster.start(node);
      return node;
    },
    async addStandby(name, source) {
      const node = await nodeOf(name);
      await rm(data(node), { recursive: true, force: true });
      run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(source.port), '-U', 'postgres', '-D', data(node), '-R', '-X', 'stream', '-c', 'fast']);
      nodes.set(name, node);
      cluster.start(node);
      return node;
    },
    start(node) {
      run('pg_ctl', ['-D', data(node), '-l', join(dir, `${node.name}.log`), '-w', '-t', '30', '-o', commandLine(node.port), 'start']);
    },
    stop(node, mode = 'fast') {
      run('pg_ctl', ['-D', data(node), '-m', mode, '-w', 'stop']);
    },
    promote(node) {
      run('pg_ctl', ['-D', data(node), '-w', 'promote']);
    },
    async sql<T extends pg.QueryResultRow>(node: PgNode, text: string, values?: unknown[]) {
      const client = new pg.Client({ connectionString: node.url });
      // A server stopped under it must not crash the test process.
      client.on('error', () => undefined);
      await client.connect();
      try {
        return (await client.query<T>(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async destroy() {
      for (const node of nodes.values()) {
        spawnSync(join(bin, 'pg_ctl'), ['-D', data(node), '-m', 'immediate', '-w', 'stop'], { cwd: dir, ...ids, stdio: 'ignore' });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
