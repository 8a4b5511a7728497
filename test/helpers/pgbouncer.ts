import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverIds } from './os-user';
import { freePort, startServer, stopServer, waitForHealth, type ServerProcess } from './server-process';

/** Debian's PgBouncer, when installed (.ci/run installs it). */
export const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => spawnSync('test', ['-x', p]).status === 0);

export interface Bouncer {
  /** `databaseUrl` with PgBouncer's host and port. */
  url: string;
  stop: () => Promise<void>;
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => (probe.destroy(), resolve(true)));
    probe.once('error', () => resolve(false));
  });

/**
 * PgBouncer on a free port in front of the server of `databaseUrl` (any database, its user and password
 * from the URL). It refuses to run as root, so root runs it as the postgres OS user.
 */
export async function startPgBouncer(databaseUrl: string, mode: 'transaction' | 'session', poolSize: number): Promise<Bouncer> {
  if (!PGBOUNCER) throw new Error('no pgbouncer binary here');
  const target = new URL(databaseUrl);
  const dir = await mkdtemp(join(tmpdir(), 'customer-api-pgbouncer-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const user = decodeURIComponent(target.username || 'postgres');
  await writeFile(join(dir, 'userlist.txt'), `"${user}" "${decodeURIComponent(target.password)}"\n`);
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `pool_mode = ${mode}`,
      'max_client_conn = 500',
      `default_pool_size = ${poolSize}`,
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
    ].join('\n'),
  );
  const ids = serverIds();
  if (ids.uid !== undefined) for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) await chown(join(dir, f), ids.uid, ids.gid!);
  const child: ChildProcess = spawn(PGBOUNCER, [join(dir, 'pgbouncer.ini')], { stdio: 'ignore', ...ids });
  for (let i = 0; i < 100 && !(await listening(port)); i += 1) await new Promise((r) => setTimeout(r, 50));
  const url = new URL(target.toString());
  url.port = String(port);
  url.hostname = '127.0.0.1';
  return {
    url: url.toString(),
    stop: async () => {
      child.kill('SIGINT');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The built server with its defaults behind a PgBouncer of `poolSize` server connections in transaction
 * mode, against the test database (already migrated): both, and what stops them.
 */
export async function startServerBehindPgBouncer(poolSize = 2): Promise<{ bouncer: Bouncer; server: ServerProcess; stop: () => Promise<void> }> {
  const bouncer = await startPgBouncer(process.env.DATABASE_URL!, 'transaction', poolSize);
  const server = startServer({ DATABASE_URL: bouncer.url, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'warn', DB_MIGRATE_ON_START: 'false' }, await freePort());
  await waitForHealth(server);
  return {
    bouncer,
    server,
    stop: async () => {
      await stopServer(server);
      await bouncer.stop();
    },
  };
}
