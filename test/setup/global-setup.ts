import { closePool } from '../../src/db';
import { migrate } from '../../src/db/migrate';
import { urlForDatabase, withAdminClient, TEMPLATE_DATABASE } from '../helpers/admin-db';

/**
 * Finds the server (TEST_DATABASE_URL, else an embedded one), and builds a template database with
 * every migration applied; each test file then gets its own copy of it.
 */
export default async function globalSetup(): Promise<void> {
  process.env.LOG_LEVEL ??= 'silent';
  process.env.JWT_SECRET ??= 'test-secret-that-is-long-enough-for-hs256-0123456789';
  process.env.NODE_ENV = 'test';
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  process.env.TEST_ADMIN_DATABASE_URL = serverUrl;

  await withAdminClient(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  });
  // Migrate through the project's own runner, so checksums match what the service expects.
  process.env.DATABASE_URL = urlForDatabase(serverUrl, TEMPLATE_DATABASE);
  await migrate();
  await closePool();
  delete process.env.DATABASE_URL;
}
