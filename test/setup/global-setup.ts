import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closePool } from '../../src/db';
import { startEmbeddedDatabase } from '../../src/db/embedded';
import { migrate } from '../../src/db/migrate';
import { templateDatabase, urlForDatabase, withAdminClient } from '../helpers/admin-db';
import { setEmbeddedForTeardown } from './embedded-handle';

/** The server the api tests use: TEST_DATABASE_URL, else an embedded one in a throwaway directory. */
async function findServer(): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  const dir = await mkdtemp(join(tmpdir(), 'customer-api-test-pg-'));
  // Run as root, the server runs as the unprivileged postgres user, which must reach the data dir.
  await chmod(dir, 0o755);
  const embedded = await startEmbeddedDatabase(join(dir, 'pg'), () => undefined);
  setEmbeddedForTeardown({ stop: embedded.stop, dir });
  process.stdout.write(`\napi tests run on an embedded PostgreSQL (127.0.0.1:${embedded.port}, ${dir})\n`);
  const url = new URL(embedded.url);
  url.searchParams.delete('sslmode');
  return urlForDatabase(url.toString(), 'postgres');
}

/**
 * Finds the server, builds the project once (some tests spawn the built server), and makes a
 * template database with every migration applied; each test file then gets its own copy of it.
 */
export default async function globalSetup(): Promise<void> {
  process.env.LOG_LEVEL ??= 'silent';
  process.env.JWT_SECRET ??= 'test-secret-that-is-long-enough-for-hs256-0123456789';
  process.env.NODE_ENV = 'test';
  const serverUrl = await findServer();
  process.env.TEST_ADMIN_DATABASE_URL = serverUrl;
  process.env.TEST_TEMPLATE_DATABASE = `customer_api_tmpl_${randomBytes(4).toString('hex')}`;

  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['dist/cli/write-esm-entry.js'], { stdio: 'inherit' });

  await withAdminClient(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${templateDatabase()} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${templateDatabase()}`);
  });
  // Migrate through the project's own runner, so checksums match what the service expects.
  process.env.DATABASE_URL = urlForDatabase(serverUrl, templateDatabase());
  await migrate();
  await closePool();
  delete process.env.DATABASE_URL;
}
