import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedDatabase } from '../../src/db/embedded';

export interface BenchDatabase {
  /** A database of its own on the server, made for this run. */
  url: string;
  /** The server's maintenance database, for pg_stat_* and pg_terminate_backend. */
  adminUrl: string;
  embedded: boolean;
  close: () => Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
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
  const adminUrl = withDatabase(serverUrl, 'postgres');
  const name = `customer_api_${label}_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: withDatabase(serverUrl, name),
    adminUrl,
    embedded: !databaseUrl,
    close: async () => {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      await stopEmbedded();
    },
  };
}

/** Runs one statement on a short-lived admin connection. */
export async function adminQuery<T extends object>(adminUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}
