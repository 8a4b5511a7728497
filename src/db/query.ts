import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Attributes } from '@opentelemetry/api';
import type pg from 'pg';
import { getDbConfig } from '../config/config';
import { getLogger } from '../logging/logger';
import { isPgError } from './pg-internals';
import { DatabaseUnavailableError, PoolExhaustedError, errorCode, isLostPreparedStatement, isRecoveryConflict, nothingRan, toTypedDbError } from './db-errors';
import { currentTelemetry, discardOnRelease, withClient } from './pool';
import { serverOf, type PoolState } from './pool-factory';
import { DB_ATTR, endDbSpan, startDbSpan, tracedContext } from './db-tracing';
import { pickReplica, replicaFailed } from './replicas';
import { openLazily, sendOnClient } from './transaction-opening';

/** A client to run on: one checked out by withTransaction, so that several statements hold together. */
export type DbClient = pg.PoolClient;

/**
 * Pass as the last argument of a read helper: the statement may run on a healthy read replica
 * (DATABASE_REPLICA_URLS), a little behind the primary; without replicas, or when none is healthy, on
 * the primary. For list, search and dashboard reads; a read that must see the caller's own write
 * (a single record after its update) leaves it out.
 */
export const READ_REPLICA: unique symbol = Symbol('read replica');

/** Where a statement runs: the primary (undefined), a transaction's client, or READ_REPLICA. */
export type DbTarget = DbClient | typeof READ_REPLICA | undefined;

/**
 * SQL text, or a fixed query with a name: named queries become prepared statements on each connection
 * (unless DB_PREPARED_STATEMENTS=false, for transaction-mode PgBouncer older than 1.21). `timeoutMs`
 * replaces the client's wait for this statement (DB_STATEMENT_TIMEOUT_MS + 2 s), for the rare one
 * that may run long on purpose (a migration building an index).
 */
export type Sql = string | { readonly name: string; readonly text: string } | { readonly name?: undefined; readonly text: string; readonly timeoutMs: number };

export interface WriteResult<T> {
  rowCount: number;
  rows: T[];
}

/** The statement's first keyword (SELECT, INSERT, WITH …), for metrics. */
function operationOf(text: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(text);
  return (match?.[1] ?? 'OTHER').toUpperCase();
}

// false once a named statement went missing under us (see fallBackToUnnamed); else DB_PREPARED_STATEMENTS.
let namedStatementsWork = true;

const namesInUse = (): boolean => namedStatementsWork && getDbConfig().preparedStatements;
const usesNames = (sql: Sql): boolean => typeof sql !== 'string' && sql.name !== undefined && namesInUse();

/**
 * A pooler in transaction mode hands each transaction another server connection, so a statement
 * prepared on one is missing (or already there) on the next. From then on this process sends every
 * statement unnamed, which any pooler keeps; said once, with the fix.
 */
function fallBackToUnnamed(err: unknown): void {
  if (!namedStatementsWork) return;
  namedStatementsWork = false;
  getLogger().warn(
    { code: (err as { code?: string }).code },
    'named prepared statements do not survive between transactions here (a pooler in transaction mode, such as PgBouncer < 1.21): ' +
      'using unnamed statements from now on. Fix: PgBouncer >= 1.21 with max_prepared_statements > 0, or DB_PREPARED_STATEMENTS=false',
  );
}

/** What a statement's span says: the server, the pool and the host's role, the statement (never its parameters). */
function statementAttributes(client: pg.ClientBase, sentName: string | undefined, text: string, telemetry: PoolState['telemetry'] | undefined): Attributes {
  const c = client as pg.ClientBase & { host?: string; port?: number; database?: string };
  return {
    [DB_ATTR.operation]: operationOf(text),
    [DB_ATTR.queryText]: text,
    // The name only when it is sent (not with DB_PREPARED_STATEMENTS=false, nor after the pooler fallback).
    ...(sentName === undefined ? {} : { [DB_ATTR.statementName]: sentName }),
    ...(c.host ? { [DB_ATTR.serverAddress]: c.host, [DB_ATTR.serverPort]: c.port } : {}),
    ...(c.database ? { [DB_ATTR.namespace]: c.database } : {}),
    ...(telemetry ? { [DB_ATTR.poolName]: telemetry.poolName } : {}),
    [DB_ATTR.role]: serverOf(client as pg.Client)?.role ?? 'unknown',
  };
}

async function run<T extends pg.QueryResultRow>(
  client: pg.ClientBase,
  sql: Sql,
  params: readonly unknown[] | undefined,
  telemetry: PoolState['telemetry'] | undefined,
): Promise<pg.QueryResult<T>> {
  const text = typeof sql === 'string' ? sql : sql.text;
  // query_timeout per statement is read by node-postgres (client.js) but missing from its types.
  const config: pg.QueryConfig & { query_timeout?: number } = { text, values: params as unknown[] | undefined };
  // The name this attempt sends, if any (a concurrent request may switch names off while it runs).
  const sentName = usesNames(sql) ? (sql as { name: string }).name : undefined;
  if (sentName !== undefined) config.name = sentName;
  if (typeof sql !== 'string' && 'timeoutMs' in sql) config.query_timeout = sql.timeoutMs;
  const started = performance.now();
  const parent = tracedContext();
  const span = parent && startDbSpan(sentName === undefined ? operationOf(text) : `${operationOf(text)} ${sentName}`, parent, statementAttributes(client, sentName, text, telemetry));
  try {
    const result = await sendOnClient<T>(client, config);
    telemetry?.answered();
    if (span) {
      // A text of several statements answers with an array of results.
      const rows = Array.isArray(result) ? undefined : (result.rowCount ?? result.rows?.length);
      if (rows !== undefined && rows !== null) span.setAttribute(DB_ATTR.rows, rows);
      endDbSpan(span);
    }
    return result;
  } catch (err) {
    if (span) endDbSpan(span, err);
    throw err;
  } finally {
    const ms = performance.now() - started;
    telemetry?.queried(operationOf(text), ms);
    // The one place queries are timed; parameters are never logged.
    const log = getLogger();
    if (ms >= getDbConfig().slowQueryMs) log.warn({ sql: text, durationMs: Math.round(ms) }, 'slow query');
    else if (log.isLevelEnabled('debug')) log.debug({ sql: text, durationMs: Math.round(ms * 100) / 100 }, 'query');
  }
}

const RETRY_DELAY_MS = 20;


/**
 * Whether a failed statement is sent once more, on a fresh connection. Any statement the server
 * refused as read-only (a failover: nothing of it ran; the new connection walks to the primary), or
 * that met a session the server had already ended; a plain SELECT whose connection was dropped under
 * it (a restart leaves every idle client stale). Never a write whose fate is unknown, nor anything after
 * a timeout (an unresponsive server would only make the caller wait twice).
 */
function retryable(sql: Sql, err: unknown): boolean {
  if (!(err instanceof DatabaseUnavailableError)) return false;
  if (err.phase === 'read_only') return true;
  if (err.phase !== 'query') return false;
  // The server ended the session before running the statement (it answered with the error instead of a result).
  if (nothingRan(errorCode(err.cause))) return true;
  // The client had already failed: node-postgres sent nothing.
  if (isPgError(err.cause, 'notQueryable')) return true;
  const timedOut = (['readTimeout', 'connectTimeout', 'poolConnectTimeout', 'acquireTimeout'] as const).some((which) => isPgError(err.cause, which));
  return !timedOut && operationOf(typeof sql === 'string' ? sql : sql.text) === 'SELECT';
}

/** Checks a client out of `pool` (the primary when undefined), runs the statement, gives the client back. */
const runPooled = <T extends pg.QueryResultRow>(sql: Sql, params: readonly unknown[] | undefined, pool?: PoolState) =>
  withClient((client, st) => run<T>(client, sql, params, st.telemetry), pool);

async function runOnPrimary<T extends pg.QueryResultRow>(sql: Sql, params: readonly unknown[] | undefined): Promise<pg.QueryResult<T>> {
  // Whether this attempt sends a name: a concurrent request may switch names off while it runs.
  const named = usesNames(sql);
  try {
    return await runPooled<T>(sql, params);
  } catch (err) {
    if (named && isLostPreparedStatement(err)) {
      // It failed at Parse or Bind: nothing ran, so even a write is safe to send again.
      fallBackToUnnamed(err);
      return runPooled<T>(sql, params);
    }
    if (!retryable(sql, err)) throw err;
    getLogger().warn(
      { sql: typeof sql === 'string' ? sql : sql.text, reason: (err as Error).message },
      'the statement met a broken or read-only connection; sending it once more on a fresh connection',
    );
    // Let the pool hear the other idle clients' sockets close first (a restart drops them all
    // at once), so that the retry does not get one of them.
    await sleep(RETRY_DELAY_MS);
    return runPooled<T>(sql, params);
  }
}


/**
 * A read on a healthy replica; when the replica cannot answer (down, its pool full, a recovery
 * conflict) the same read goes to the primary, so a replica's trouble never reaches the caller.
 */
async function runOnReplica<T extends pg.QueryResultRow>(sql: Sql, params: readonly unknown[] | undefined): Promise<pg.QueryResult<T>> {
  const replica = pickReplica();
  if (replica) {
    try {
      return await runPooled<T>(sql, params, replica);
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) replicaFailed(replica, err);
      else if (namesInUse() && isLostPreparedStatement(err)) fallBackToUnnamed(err);
      else if (!(err instanceof PoolExhaustedError) && !isRecoveryConflict(err)) throw err;
    }
  }
  return runOnPrimary<T>(sql, params);
}

async function runOn<T extends pg.QueryResultRow>(sql: Sql, params: readonly unknown[] | undefined, db: DbTarget): Promise<pg.QueryResult<T>> {
  if (db === undefined) return runOnPrimary<T>(sql, params);
  if (db === READ_REPLICA) return runOnReplica<T>(sql, params);
  try {
    return await run<T>(db, sql, params, currentTelemetry());
  } catch (err) {
    throw toTypedDbError(err);
  }
}

/**
 * Runs a query and returns its rows.
 * @example const rows = await executeQuery<{ id: string }>('SELECT id FROM customers WHERE city = $1', ['Izmir']);
 */
export async function executeQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: Sql, params?: readonly unknown[], db?: DbTarget): Promise<T[]> {
  return (await runOn<T>(sql, params, db)).rows;
}

/**
 * Runs a query expected to return at most one row: the row, or null. A second row is a programmer
 * error and throws.
 * @example const user = await executeQueryOne('SELECT id, email FROM users WHERE id = $1', [id]);
 */
export async function executeQueryOne<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: Sql, params?: readonly unknown[], db?: DbTarget): Promise<T | null> {
  const { rows } = await runOn<T>(sql, params, db);
  if (rows.length > 1) throw new Error(`executeQueryOne: expected at most one row, got ${rows.length}`);
  return rows[0] ?? null;
}

/**
 * Runs an INSERT, UPDATE or DELETE: the affected row count, and the rows of its RETURNING clause.
 * @example const { rowCount } = await executeWrite('DELETE FROM customers WHERE id = $1', [id]);
 */
export async function executeWrite<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: Sql, params?: readonly unknown[], db?: DbClient): Promise<WriteResult<T>> {
  const result = await runOn<T>(sql, params, db);
  return { rowCount: result.rowCount ?? 0, rows: result.rows };
}

/**
 * Who a transaction's changes are made for, recorded with them in the history (migration 007): set
 * with BEGIN as transaction-local settings (app.actor_id, app.request_id), so they hold behind a
 * transaction-mode pooler too and end with the transaction.
 */
export interface TransactionActor {
  /** The user acting; null for none (a system task). */
  readonly userId: number | null;
  /** The request that made the change (its X-Request-Id). */
  readonly requestId?: string | null;
  /** The API key the request was made with (its public id), if any: the user is then the key's owner. */
  readonly keyId?: string | null;
}

export interface TransactionOptions {
  /** Recorded as the author of every change the transaction makes (TransactionActor). */
  readonly actor?: TransactionActor;
  /**
   * Run `work` once more, on a fresh connection, when the transaction was rolled back for a cause a new
   * attempt fixes: its connection was lost (or the server turned read-only, a failover) before COMMIT
   * was sent, or a transaction-mode pooler lost a prepared statement. The database undid all of it; only
   * for work whose effects outside the database are safe to repeat. Off by default: such a transaction
   * then fails (DatabaseUnavailableError, or the SQLSTATE 26000/42P05 error) with `work` run once.
   */
  readonly rerunIfRolledBack?: boolean;
}

interface Attempt {
  committing: boolean;
}
const freshAttempt = (): Attempt => ({ committing: false });

/**
 * Runs `work` inside BEGIN … COMMIT on one client; ROLLBACK when it throws, and the error goes on.
 * Pass the client to the helpers (their last argument) so that every statement joins the transaction.
 * BEGIN travels with the first statement (one round trip fewer; a callback that sends none opens no
 * transaction). `work` runs once, unless the caller opts in to a second run (TransactionOptions).
 * @example await withTransaction(async (tx) => { await executeWrite(sqlA, [], tx); await executeWrite(sqlB, [], tx); });
 */
export async function withTransaction<T>(work: (tx: DbClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const namesBefore = namesInUse();
  const attempt = freshAttempt();
  try {
    return await runTransaction(work, attempt, options.actor);
  } catch (err) {
    const lostBeforeCommit = err instanceof DatabaseUnavailableError && err.phase !== 'connect' && !attempt.committing;
    // From now on this process sends unnamed statements, which any pooler keeps.
    const lostStatement = namesBefore && isLostPreparedStatement(err);
    if (lostStatement) fallBackToUnnamed(err);
    const rerun = (lostBeforeCommit || lostStatement) && options.rerunIfRolledBack === true;
    if (!rerun) throw err;
    getLogger().warn({ reason: (err as Error).message }, 'a transaction was rolled back before COMMIT; running it once more on a fresh connection');
    await sleep(RETRY_DELAY_MS);
    return runTransaction(work, freshAttempt(), options.actor);
  }
}

/**
 * A change made for `actor`: a transaction that names its actor (the history records who, and for which
 * request) and, its work being the database's alone, runs again when rolled back before COMMIT (a
 * failover, a pooler). The one way the services and the idempotent creates write; pass
 * `rerunIfRolledBack: false` for work that cannot run twice (it read a streamed body).
 */
export const changeAs = <T>(actor: TransactionActor, work: (tx: DbClient) => Promise<T>, options: { readonly rerunIfRolledBack?: boolean } = {}): Promise<T> =>
  withTransaction(work, { actor, rerunIfRolledBack: options.rerunIfRolledBack ?? true });

async function runTransaction<T>(work: (tx: DbClient) => Promise<T>, attempt: Attempt, actor: TransactionActor | undefined): Promise<T> {
  return withClient(async (client) => {
    // BEGIN goes with the first statement (transaction-opening.ts): one round trip fewer.
    const opening = openLazily(client, actor);
    try {
      const result = await work(client);
      attempt.committing = true;
      if (opening.opened) await client.query('COMMIT');
      return result;
    } catch (err) {
      // A failed ROLLBACK leaves the session in an unknown state: the client must not be reused.
      if (opening.opened) await client.query('ROLLBACK').catch(() => discardOnRelease(client));
      throw err;
    } finally {
      opening.close();
    }
  });
}
