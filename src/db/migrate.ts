import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { getDbConfig, type DbConfig } from '../config/config';
import { backoffMs } from '../lib/backoff';
import { getLogger } from '../logging/logger';
import { errorCode, isConnectionLevelError, lockConflict } from './db-errors';
import { concurrentIndexOf, readMigrations, splitStatements, type Migration } from './migration-files';
import { discardOnRelease, endPool, lease, withClient } from './pool';
import { buildPool, type PoolState } from './pool-factory';

export { MIGRATIONS_DIR, NO_TRANSACTION_MARKER, readMigrations, toMigration, type Migration } from './migration-files';

// An arbitrary constant: every instance of this service takes the same lock.
const MIGRATION_LOCK_KEY = 7_245_104_981;
// 1 s, 2 s, 4 s … at most 10 s, ±20 %: instances that met the same lock do not come back together.
const BACKOFF = { baseMs: 1000, maxMs: 10_000, jitter: 0.2 };

export class MigrationError extends Error {
  override name = 'MigrationError';
}

interface MigrationStatus {
  applied: { name: string; applied_at: string }[];
  pending: string[];
  /** Applied migrations whose file changed or vanished: an error to fix before migrating. */
  problems: string[];
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name TEXT PRIMARY KEY,
  checksum TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
)`;

/**
 * Migrations run on a small pool of their own (two connections: one holds the lock, one works),
 * without statement or idle-in-transaction timeouts, so that an index build over a big table is not
 * cut, and the process's pool (whatever its size) is not used.
 */
function migrationPool(db: DbConfig): PoolState {
  return buildPool(
    { ...db, minConnections: 0, maxConnections: 2, statementTimeoutMs: 0, idleInTransactionTimeoutMs: 0, maxUses: 0, maxLifetimeSeconds: 0, leakDetectionMs: 0 },
    `${db.applicationName}-migrate`,
  );
}

async function withMigrationPool<T>(work: (st: PoolState) => Promise<T>): Promise<T> {
  const st = migrationPool(getDbConfig());
  try {
    return await work(st);
  } finally {
    await endPool(st, 5000);
  }
}

function problemsOf(applied: { name: string; checksum: string }[], migrations: Migration[]): string[] {
  const known = new Map(migrations.map((m) => [m.name, m]));
  return applied.flatMap((row) => {
    const file = known.get(row.name);
    if (!file) return [`migration ${row.name} was applied but its file is missing`];
    if (file.checksum !== row.checksum) return [`migration ${row.name} changed after it was applied (checksum mismatch)`];
    return [];
  });
}

async function readApplied(client: pg.ClientBase): Promise<{ name: string; checksum: string; applied_at: Date }[]> {
  const exists = await client.query<{ found: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS found");
  if (!exists.rows[0]!.found) return [];
  return (await client.query<{ name: string; checksum: string; applied_at: Date }>('SELECT name, checksum, applied_at FROM schema_migrations ORDER BY name')).rows;
}

/** Which migrations are applied and which are pending; takes no lock and changes nothing. */
export async function migrationStatus(migrations = readMigrations()): Promise<MigrationStatus> {
  return withMigrationPool((st) =>
    withClient(async (client) => {
      const applied = await readApplied(client);
      const done = new Set(applied.map((r) => r.name));
      return {
        applied: applied.map((r) => ({ name: r.name, applied_at: r.applied_at.toISOString() })),
        pending: migrations.filter((m) => !done.has(m.name)).map((m) => m.name),
        problems: problemsOf(applied, migrations),
      };
    }, st),
  );
}

/**
 * The advisory lock that makes one instance migrate, held by a transaction of its own for as long as
 * `work` runs (a transaction-scoped lock works behind a transaction-mode PgBouncer, where a session
 * lock would not). That transaction must never hold a snapshot while it waits, or a concurrent index
 * build would wait for it, and it for the build (a deadlock PostgreSQL cannot see): so it polls with
 * pg_try_advisory_xact_lock instead of blocking in pg_advisory_xact_lock, in the simple protocol (no
 * portal left open), and between polls it is idle in a transaction with no id and no snapshot.
 */
async function withMigrationLock<T>(st: PoolState, work: () => Promise<T>): Promise<T> {
  const held = await lease(st);
  const { client } = held;
  try {
    await client.query('BEGIN');
    // A pooler may have kept the role's timeouts (start-up parameters refused): none applies to this wait.
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query('SET LOCAL idle_in_transaction_session_timeout = 0');
    for (let wait = 50, said = false; ; wait = Math.min(wait * 2, 1000)) {
      const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${MIGRATION_LOCK_KEY}) AS locked`);
      if (rows[0]!.locked) break;
      if (!said) getLogger().info('another instance is migrating: waiting for it');
      said = true;
      await sleep(wait);
    }
    const result = await work();
    await client.query('COMMIT');
    held.release();
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => discardOnRelease(client));
    held.release(err);
    throw err;
  }
}

const lockTimeout = (ms: number): string => `${ms}ms`;

/** One transactional migration: its SQL and its record commit together, with lock_timeout and no statement timeout. */
async function applyInTransaction(client: pg.PoolClient, m: Migration, lockTimeoutMs: number): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query(`SET LOCAL lock_timeout = '${lockTimeout(lockTimeoutMs)}'`);
    await client.query(m.sql);
    await client.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum]);
    await client.query('COMMIT');
  } catch (err) {
    // A client whose ROLLBACK failed may still be in the transaction: it must not go back to the pool.
    await client.query('ROLLBACK').catch(() => discardOnRelease(client));
    throw err;
  }
}

/** An index left INVALID by a failed concurrent build: dropped (concurrently), so that the build can run again. */
async function dropInvalidIndex(client: pg.ClientBase, index: string): Promise<void> {
  // A build whose connection was lost may still run on the server (a backend notices a dead client
  // only when it next writes to it): its index is INVALID until it finishes, and must not be dropped.
  for (let said = false; ; said = true) {
    const { rows: building } = await client.query('SELECT 1 FROM pg_catalog.pg_stat_progress_create_index WHERE index_relid = to_regclass($1)', [index]);
    if (building.length === 0) break;
    if (!said) getLogger().warn({ index }, `the index ${index} is still being built by an earlier attempt; waiting for it to finish`);
    await sleep(500);
  }
  const { rows } = await client.query<{ invalid: boolean }>(
    'SELECT NOT i.indisvalid AS invalid FROM pg_catalog.pg_index i WHERE i.indexrelid = to_regclass($1)',
    [index],
  );
  if (rows[0]?.invalid) {
    getLogger().warn({ index }, `dropping the index ${index}, left invalid by a concurrent build that did not finish`);
    await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index}`);
  }
}

/**
 * A no-transaction migration: each statement on its own, with the session's lock_timeout and no
 * statement timeout; recorded only once every statement has run. Its statements must be safe to run
 * again (IF NOT EXISTS, IF EXISTS): a failed run is run again from the first statement.
 */
async function applyWithoutTransaction(client: pg.ClientBase, m: Migration, lockTimeoutMs: number): Promise<void> {
  await client.query('SET statement_timeout = 0');
  await client.query(`SET lock_timeout = '${lockTimeout(lockTimeoutMs)}'`);
  for (const statement of splitStatements(m.sql)) {
    const index = concurrentIndexOf(statement);
    if (index) await dropInvalidIndex(client, index);
    try {
      await client.query(statement);
    } catch (err) {
      // Leave no invalid index behind to slow every write to the table until the next run.
      if (index && !isConnectionLevelError(err)) await dropInvalidIndex(client, index).catch(() => undefined);
      throw err;
    }
  }
  await client.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum]);
}


/**
 * One migration, tried again (with backoff) when it gave up waiting for a lock, met a deadlock, or lost
 * its connection; a retry first checks whether the lost attempt had in fact been recorded.
 */
async function applyWithRetries(st: PoolState, m: Migration, db: DbConfig): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      // Session settings of a no-transaction run must not outlive it: that client is closed afterwards.
      await withClient(async (client) => {
        if (attempt > 1) {
          const { rowCount } = await client.query('SELECT 1 FROM schema_migrations WHERE name = $1', [m.name]);
          if (rowCount) return;
        }
        if (m.transaction) await applyInTransaction(client, m, db.migrationLockTimeoutMs);
        else {
          discardOnRelease(client);
          await applyWithoutTransaction(client, m, db.migrationLockTimeoutMs);
        }
      }, st);
      return;
    } catch (err) {
      const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
      const code = errorCode(cause) ?? errorCode(err);
      // A lock not had in time or a deadlock: nothing was done; try again.
      const retryable = lockConflict(code) !== undefined || isConnectionLevelError(cause);
      if (!retryable || attempt > db.migrationRetries) {
        throw new MigrationError(`migration ${m.name} failed${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${(cause as Error).message}`, { cause });
      }
      const delay = backoffMs(attempt, BACKOFF);
      getLogger().warn(
        { migration: m.name, attempt, of: db.migrationRetries + 1, retryInMs: delay, code, lockTimeoutMs: db.migrationLockTimeoutMs },
        lockConflict(code) === 'timeout'
          ? `migration ${m.name} gave up waiting for a lock after ${db.migrationLockTimeoutMs} ms (another transaction holds it); trying again in ${delay} ms`
          : `migration ${m.name} did not complete (${(cause as Error).message}); trying again in ${delay} ms`,
      );
      await sleep(delay);
    }
  }
}

/**
 * Applies pending migrations in order, each in its own transaction with its record (or, marked
 * no-transaction, statement by statement, recorded at the end). An advisory lock makes concurrent
 * starts wait for each other. Every migration runs with lock_timeout (DB_MIGRATION_LOCK_TIMEOUT_MS) and
 * is tried again with backoff when it gives up on a lock (DB_MIGRATION_RETRIES), so that it never holds a
 * queue of requests behind it; no statement timeout applies. An applied migration whose file changed or
 * vanished is an error, and nothing is applied.
 */
export async function migrate(migrations = readMigrations()): Promise<string[]> {
  const db = getDbConfig();
  return withMigrationPool((st) =>
    withMigrationLock(st, async () => {
      const applied = await withClient(async (client) => {
        await client.query(CREATE_TABLE);
        return readApplied(client);
      }, st);
      const problems = problemsOf(applied, migrations);
      if (problems.length > 0) throw new MigrationError(problems.join('; '));
      const done = new Set(applied.map((r) => r.name));
      const pending = migrations.filter((m) => !done.has(m.name));
      for (const m of pending) {
        const started = Date.now();
        await applyWithRetries(st, m, db);
        getLogger().info({ migration: m.name, ms: Date.now() - started, transaction: m.transaction }, `migration ${m.name} applied`);
      }
      return pending.map((m) => m.name);
    }),
  );
}
