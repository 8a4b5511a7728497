import { getDbConfig } from '../config/config';
import { getLogger } from '../logging/logger';
import { executeQuery, executeQueryOne, executeWrite, withTransaction } from './query';

// An arbitrary constant, beside the migrations' lock.
const ROLE_SETTINGS_LOCK_KEY = 7_245_104_979;

/**
 * The session settings the service runs with: DB_STATEMENT_TIMEOUT_MS, DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
 * DB_PLAN_CACHE_MODE (none when auto) and jit off, as PostgreSQL writes them in pg_db_role_setting.
 */
function wantedSettings(): Record<string, string> {
  const { statementTimeoutMs, idleInTransactionTimeoutMs, planCacheMode } = getDbConfig();
  return {
    statement_timeout: `${statementTimeoutMs}ms`,
    idle_in_transaction_session_timeout: `${idleInTransactionTimeoutMs}ms`,
    ...(planCacheMode === 'auto' ? {} : { plan_cache_mode: planCacheMode }),
    jit: 'off',
  };
}

/**
 * The session settings travel as start-up parameters; a pooler refuses them (PgBouncer, unless
 * ignore_startup_parameters lists them, and then it drops them silently). When a session of the pool
 * does not have them, they are written as the role's defaults in this database (ALTER ROLE
 * CURRENT_USER IN DATABASE … SET): every server session the pooler opens from then on starts with
 * them; sessions it holds keep theirs until it reconnects them. Returns whether anything was written.
 */
export async function applySessionSettingsToRole(): Promise<boolean> {
  const wanted = wantedSettings();
  // This session's values, written as `wanted` writes them (pg_settings gives the timeouts in ms).
  const session = await executeQuery<{ name: string; value: string }>(
    "SELECT name, setting || coalesce(unit, '') AS value FROM pg_settings WHERE name = ANY($1)",
    [Object.keys(wanted)],
  );
  if (session.length === Object.keys(wanted).length && session.every((s) => wanted[s.name] === s.value)) return false;
  const current = await executeQueryOne<{ settings: string[] | null }>(
    `SELECT s.setconfig AS settings FROM pg_db_role_setting s
       JOIN pg_roles r ON r.oid = s.setrole JOIN pg_database d ON d.oid = s.setdatabase
      WHERE r.rolname = current_user AND d.datname = current_database()`,
  );
  const missing = Object.entries(wanted).filter(([name, value]) => !(current?.settings ?? []).includes(`${name}=${value}`));
  if (missing.length === 0) return false;
  try {
    // Instances starting together take turns (ALTER ROLE at once fails with "tuple concurrently updated").
    await withTransaction(async (tx) => {
      await executeQuery('SELECT pg_advisory_xact_lock($1)', [ROLE_SETTINGS_LOCK_KEY], tx);
      for (const [name, value] of missing) {
        // The values come from the validated config (integers, an enum); the database name is quoted by format().
        await executeWrite(`DO $$ BEGIN EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I SET ${name} = %L', current_database(), '${value}'); END $$`, [], tx);
      }
    }, { rerunIfRolledBack: true });
  } catch (err) {
    getLogger().warn(
      { reason: err instanceof Error ? err.message : String(err), wanted },
      'could not write the session settings to the role: set them yourself (ALTER ROLE … IN DATABASE … SET statement_timeout = …) or in the pooler (query_timeout, idle_transaction_timeout)',
    );
    return false;
  }
  getLogger().info({ ...wanted }, 'behind a pooler: session settings written to the role for this database (new server sessions start with them)');
  return true;
}
