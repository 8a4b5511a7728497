import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedDatabase } from '../../src/db/embedded';
import { urlForDatabase, withAdminClient } from '../../test/helpers/admin-db';

export interface BenchDatabase {
  /** A database of its own on the server, made for this run. */
  url: string;
  /** The server's maintenance database, for pg_stat_* and pg_terminate_backend. */
  adminUrl: string;
  embedded: boolean;
  close: () => Promise<void>;
}

/**
 * DATABASE_URL's server (a throwaway database is created on it and dropped at the end), or an
 * embedded PostgreSQL in a temporary directory when DATABASE_URL is not set.
 */
export async function openBenchDatabase(label: string, databaseUrl: string | undefined): Promise<BenchDatabase> {
  let serverUrl = databaseUrl;
  let stopEmbedded = (): Promise<void> => Promise.resolve();
  if (!serverUrl) {
    const dir = await mkdtemp(join(tmpdir(), `customer-api-${label}-`));
    await chmod(dir, 0o755);
    const embedded = await startEmbeddedDatabase(join(dir, 'pg'), () => undefined);
    serverUrl = embedded.url;
    stopEmbedded = async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const adminUrl = urlForDatabase(serverUrl, 'postgres');
  const name = `customer_api_${label}_${Date.now().toString(36)}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  return {
    url: urlForDatabase(serverUrl, name),
    adminUrl,
    embedded: !databaseUrl,
    close: async () => {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await stopEmbedded();
    },
  };
}

/** Runs one statement on a short-lived admin connection. */
export async function adminQuery<T extends object>(adminUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return withAdminClient(adminUrl, async (client) => (await client.query<T>(sql, params)).rows);
}
