import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executeQuery, executeWrite, withTransaction } from './query';

/** Where the .sql files are, from src/db (ts) and from dist/db (compiled) alike. */
export const MIGRATIONS_DIR = join(__dirname, '..', '..', 'src', 'db', 'migrations');
// An arbitrary constant: every instance of this service takes the same lock.
const MIGRATION_LOCK_KEY = 7_245_104_981;
// A migration may build an index over a big table (005: 112 s at a million customers here):
// neither the server's statement_timeout nor the client's wait for an answer is meant for it.
const MIGRATION_TIMEOUT_MS = 24 * 3_600_000;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return { name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies pending migrations in order, in one transaction. A transaction-scoped advisory lock makes
 * concurrent starts wait for each other, and works behind a transaction-mode PgBouncer (a session
 * lock would not). An applied migration whose file changed or vanished is an error. Neither timeout
 * (DB_STATEMENT_TIMEOUT_MS on the server, its +2 s wait in the client) applies: a migration may build
 * an index over a big table, and a start waiting for another's migration waits until it is done.
 */
export async function migrate(migrations = readMigrations()): Promise<string[]> {
  return withTransaction(async (tx) => {
    // Another instance may be migrating: wait for it as long as it takes.
    await executeWrite('SET LOCAL statement_timeout = 0', [], tx);
    await executeQuery({ text: 'SELECT pg_advisory_xact_lock($1)', timeoutMs: MIGRATION_TIMEOUT_MS }, [MIGRATION_LOCK_KEY], tx);
    await executeWrite(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name TEXT PRIMARY KEY,
         checksum TEXT NOT NULL,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
       )`,
      [],
      tx,
    );
    const applied = await executeQuery<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations ORDER BY name', [], tx);
    const known = new Map(migrations.map((m) => [m.name, m]));
    for (const row of applied) {
      const file = known.get(row.name);
      if (!file) throw new MigrationError(`migration ${row.name} was applied but its file is missing`);
      if (file.checksum !== row.checksum) throw new MigrationError(`migration ${row.name} changed after it was applied (checksum mismatch)`);
    }
    const done = new Set(applied.map((r) => r.name));
    const pending = migrations.filter((m) => !done.has(m.name));
    for (const m of pending) {
      await executeWrite({ text: m.sql, timeoutMs: MIGRATION_TIMEOUT_MS }, undefined, tx);
      await executeWrite('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum], tx);
    }
    return pending.map((m) => m.name);
    // All or nothing in the database: a rolled-back attempt (a pooler, a failover) is safe to run again.
  }, { rerunIfRolledBack: true });
}
