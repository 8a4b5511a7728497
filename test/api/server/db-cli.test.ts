import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDatabaseUrl } from '../../../src/config/database-url';
import { executeQuery, executeWrite } from '../../../src/db';
import { readMigrations } from '../../../src/db/migration-files';

// npm run db:migrate [-- --status] and npm run db:seed [-- --demo], as a person runs them: on the
// external database (DATABASE_URL) and on the embedded default (no DATABASE_URL), each from its own process.
const ROOT = join(__dirname, '..', '..', '..');
const CLI = (name: string) => join(ROOT, 'dist', 'cli', `${name}.js`);
/** The migrations this version ships. */
const SHIPPED = readMigrations().length;

interface Run {
  code: number | null;
  out: string;
}

/** Runs a command with exactly this environment (plus PATH and HOME): its exit code and everything it printed. */
function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}
const node = (cli: string, args: string[], env: Record<string, string>) => run(process.execPath, [CLI(cli), ...args], env);

let dir: string;
let extra: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'customer-api-cli-'));
  await chmod(dir, 0o755);
  extra = join(dir, 'more-migrations');
  await mkdir(extra);
  await writeFile(join(extra, '950-cli-probe.sql'), 'CREATE TABLE IF NOT EXISTS cli_probe (id int);\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the database CLIs on the external database (DATABASE_URL)', () => {
  const env = () => ({ DATABASE_URL: process.env.DATABASE_URL!, DB_APPLICATION_NAME: 'customer-api-cli-test' });

  test('npm run db:migrate -- --status says where it is, lists the applied migrations, and exits 0 when none is pending', async () => {
    const res = await run('npm', ['run', '--silent', 'db:migrate', '--', '--status'], env());
    expect(res.out).toContain(`database: ${describeDatabaseUrl(process.env.DATABASE_URL!)}`);
    expect(res.out).toMatch(/^applied {2}001-initial-schema\.sql {2}\d{4}-/m);
    expect(res.out).toMatch(new RegExp(`^${SHIPPED} applied, 0 pending$`, 'm'));
    expect(res.out).not.toContain(new URL(process.env.DATABASE_URL!).password || 'no password in the URL');
    expect(res.code).toBe(0);
  }, 120_000);

  test('a pending migration: --status exits 1 naming it; db:migrate applies it; --status exits 0 again', async () => {
    const pending = await node('db-migrate', ['--status', '--with', extra], env());
    expect(pending.out).toMatch(/^pending {2}950-cli-probe\.sql$/m);
    expect(pending.code).toBe(1);

    const applied = await node('db-migrate', ['--with', extra], env());
    expect(applied.out).toContain('applied 1 migration(s)');
    expect(applied.code).toBe(0);
    expect(await executeQuery("SELECT to_regclass('cli_probe') IS NOT NULL AS made")).toEqual([{ made: true }]);

    const after = await node('db-migrate', ['--status', '--with', extra], env());
    expect(after.out).toMatch(new RegExp(`^${SHIPPED + 1} applied, 0 pending$`, 'm'));
    expect(after.code).toBe(0);
    // Without the folder, the applied migration's file is missing: an error, exit 1.
    const missing = await node('db-migrate', ['--status'], env());
    expect(missing.out).toContain('error    migration 950-cli-probe.sql was applied but its file is missing');
    expect(missing.code).toBe(1);
    await executeWrite("DELETE FROM schema_migrations WHERE name = '950-cli-probe.sql'");
    await executeWrite('DROP TABLE cli_probe');
  }, 60_000);

  test('an unknown option is a usage error (exit 2) before anything connects', async () => {
    const res = await node('db-migrate', ['--stauts'], env());
    expect(res.out).toMatch(/Unknown option '--stauts'[\s\S]*usage: npm run db:migrate/);
    expect(res.code).toBe(2);
  });

  test('db:seed -- --demo creates the admin and loads the demo customers once', async () => {
    const seedEnv = { ...env(), ADMIN_EMAIL: 'cli-admin@example.com', ADMIN_PASSWORD: 'Cli-admin-pass-1' };
    const first = await node('db-seed', ['--demo'], seedEnv);
    expect(first.out).toContain('admin created');
    expect(first.out).toContain('demo customers loaded');
    expect(first.code).toBe(0);
    const again = await node('db-seed', ['--demo'], seedEnv);
    expect(again.out).toContain('admin password reset');
    expect(again.out).toContain('customers exist: demo data not loaded');
    expect(again.code).toBe(0);
    expect(await executeQuery("SELECT role FROM users WHERE email = 'cli-admin@example.com'")).toEqual([{ role: 'admin' }]);
  }, 60_000);
});

describe('the database CLIs on the embedded default (no DATABASE_URL)', () => {
  const env = () => ({ EMBEDDED_DB_DIR: join(dir, 'pg'), NODE_ENV: 'development' });

  test('db:migrate applies every migration to the embedded PostgreSQL, --status then says none is pending, and db:seed -- --demo loads the data there', async () => {
    const migrated = await node('db-migrate', [], env());
    expect(migrated.out).toMatch(/using the embedded PostgreSQL on 127\.0\.0\.1:\d+/);
    expect(migrated.out).toContain(`applied ${SHIPPED} migration(s)`);
    expect(migrated.code).toBe(0);

    const status = await node('db-migrate', ['--status'], env());
    expect(status.out).toMatch(/^database: the embedded PostgreSQL on 127\.0\.0\.1:\d+ \(files in .*pg\)$/m);
    expect(status.out).toMatch(new RegExp(`^${SHIPPED} applied, 0 pending$`, 'm'));
    expect(status.code).toBe(0);

    const seeded = await node('db-seed', ['--demo'], { ...env(), ADMIN_EMAIL: 'embedded-admin@example.com' });
    expect(seeded.out).toMatch(/Admin embedded-admin@example\.com password: \S+/);
    expect(seeded.out).toContain('demo customers loaded');
    expect(seeded.code).toBe(0);
  }, 180_000);
});
