import { isPgError } from './pg-internals';

// The SQLSTATEs that also name a typed error or a test below; the table (SQLSTATES) says what each means.
const UNIQUE_VIOLATION = '23505';
const QUERY_CANCELED = '57014';
const READ_ONLY_SQL_TRANSACTION = '25006';

/** Why a caller could not get a client: it waited past the acquire timeout, or the wait queue was full. */
export class PoolExhaustedError extends Error {
  constructor(
    readonly reason: 'timeout' | 'queue_full',
    options?: { cause?: unknown },
  ) {
    super(reason === 'timeout' ? 'Timed out waiting for a database connection' : 'Too many callers waiting for a database connection', options);
    this.name = 'PoolExhaustedError';
  }
}

/**
 * The database could not be reached (`connect`), the connection broke under a query (`query`), or
 * the server refused a write as read-only (`read_only`: a standby now, during a failover). A
 * `read_only` statement did not run.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    message = 'The database is unavailable',
    options?: { cause?: unknown },
    readonly phase: 'connect' | 'query' | 'read_only' = 'query',
  ) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** The server cancelled a statement that ran past statement_timeout (SQLSTATE 57014). */
export class QueryTimeoutError extends Error {
  readonly code = QUERY_CANCELED;
  constructor(options?: { cause?: unknown }) {
    super('The statement ran past the statement timeout', options);
    this.name = 'QueryTimeoutError';
  }
}

/** A unique constraint refused the write (SQLSTATE 23505). */
export class UniqueViolationError extends Error {
  readonly code = UNIQUE_VIOLATION;
  constructor(
    readonly constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`Unique constraint violated${constraint ? `: ${constraint}` : ''}`, options);
    this.name = 'UniqueViolationError';
  }
}

/** What a database error means to its caller, whatever the SQLSTATE; the HTTP layer turns it into an answer. */
export type DbErrorKind = 'pool_exhausted' | 'unavailable' | 'timeout' | 'conflict' | 'invalid_input' | 'missing_reference';

interface SqlStateMeaning {
  /** What the caller is told (classifyDbError); undefined: an ordinary SQL error the caller sees as it is. */
  readonly kind?: DbErrorKind;
  /** The connection itself is suspect: destroyed, never given back to the pool. */
  readonly connection?: true;
  /** The server refused the statement before running any of it: safe to send again, even a write. */
  readonly nothingRan?: true;
  /** A lock was not had: waited past lock_timeout, or chosen as a deadlock's victim. */
  readonly lock?: 'timeout' | 'deadlock';
  /** On a standby: recovery removed rows the statement could still see (the same read can go to the primary). */
  readonly recoveryConflictOnStandby?: true;
  /** A named prepared statement was not where node-postgres left it (see isLostPreparedStatement). */
  readonly lostStatement?: true;
}

/**
 * Every SQLSTATE this layer acts on and what it means (PostgreSQL's Appendix A); a test fails on an
 * SQLSTATE written anywhere else in src. Class 08 (connection exceptions) is matched by its class, below.
 */
const SQLSTATES: Readonly<Record<string, SqlStateMeaning>> = {
  [UNIQUE_VIOLATION]: { kind: 'conflict' },
  '23503': { kind: 'missing_reference' }, // foreign_key_violation
  '23502': { kind: 'invalid_input' }, // not_null_violation
  '23514': { kind: 'invalid_input' }, // check_violation
  '22P02': { kind: 'invalid_input' }, // invalid_text_representation
  '22021': { kind: 'invalid_input' }, // character_not_in_repertoire
  '22001': { kind: 'invalid_input' }, // string_data_right_truncation
  '22003': { kind: 'invalid_input' }, // numeric_value_out_of_range
  '22007': { kind: 'invalid_input' }, // invalid_datetime_format
  '22008': { kind: 'invalid_input' }, // datetime_field_overflow
  [QUERY_CANCELED]: { kind: 'timeout' }, // statement_timeout
  // The server ended the session (pg_terminate_backend, a crash of another backend: admin_shutdown,
  // crash_shutdown) before running the statement, or cannot take it now (cannot_connect_now).
  '57P01': { kind: 'unavailable', connection: true, nothingRan: true },
  '57P02': { kind: 'unavailable', connection: true, nothingRan: true },
  '57P03': { kind: 'unavailable', connection: true },
  '53300': { kind: 'unavailable' }, // too_many_connections
  // A read-only server refused a write: a standby, during a failover (the pool walks on).
  [READ_ONLY_SQL_TRANSACTION]: { kind: 'unavailable', nothingRan: true },
  // A transaction-mode pooler lost a prepared statement (26000 invalid_sql_statement_name, 42P05
  // duplicate_prepared_statement): it failed at Parse or Bind; the process now sends unnamed ones.
  '26000': { kind: 'unavailable', nothingRan: true, lostStatement: true },
  '42P05': { kind: 'unavailable', nothingRan: true, lostStatement: true },
  // serialization_failure: on a standby (where SERIALIZABLE cannot run), always a recovery conflict.
  '40001': { recoveryConflictOnStandby: true },
  // lock_not_available (lock_timeout) and deadlock_detected: nothing was done; a migration tries again.
  '55P03': { nothingRan: true, lock: 'timeout' },
  '40P01': { nothingRan: true, lock: 'deadlock' },
};

const CONNECTION_CLASS = '08';

/** The SQLSTATE of this error, or of the first error in its chain of causes that has one. */
export function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = errorCode(e);
    if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** The meaning of an SQLSTATE (an empty one for states this layer does not act on). */
function meaningOf(state: string): SqlStateMeaning {
  if (state.startsWith(CONNECTION_CLASS)) return { kind: 'unavailable', connection: true };
  return SQLSTATES[state] ?? {};
}

/** True for the SQLSTATEs after which nothing of the statement ran (see SQLSTATES). */
export const nothingRan = (state: string | undefined): boolean => state !== undefined && meaningOf(state).nothingRan === true;

/** A statement a standby cancelled because recovery removed rows it could still see. */
export const isRecoveryConflict = (err: unknown): boolean => {
  const state = errorCode(err);
  return state !== undefined && meaningOf(state).recoveryConflictOnStandby === true;
};

/** Whether an SQLSTATE says a lock was not had, and how. */
export const lockConflict = (state: string | undefined): SqlStateMeaning['lock'] => (state === undefined ? undefined : meaningOf(state).lock);

/** The kind of a database error (a typed error of this layer, or a raw one from node-postgres), or undefined when it is not one. */
export function classifyDbError(err: unknown): DbErrorKind | undefined {
  if (err instanceof PoolExhaustedError) return 'pool_exhausted';
  if (err instanceof DatabaseUnavailableError) return 'unavailable';
  if (err instanceof QueryTimeoutError) return 'timeout';
  if (err instanceof UniqueViolationError) return 'conflict';
  const state = sqlState(err);
  return state === undefined ? undefined : meaningOf(state).kind;
}

const SOCKET_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

// node-postgres reports a dead connection with plain Errors that carry no code (pg-internals.ts).
const CONNECTION_FAILURES = ['terminated', 'readTimeout', 'notQueryable', 'noTls', 'connectTimeout'] as const;

/** The error's own `code` (a SQLSTATE, or a socket error's), when it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when a named prepared statement was not where node-postgres left it (26000: no such statement;
 * 42P05: one of that name exists already): the connection was shared behind a pooler in transaction
 * mode (PgBouncer < 1.21), which keeps no statement across transactions. Nothing of the failed
 * statement ran: it failed at Parse or Bind.
 */
export function isLostPreparedStatement(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && meaningOf(code).lostStatement === true;
}

/**
 * True when the connection itself is suspect (SQLSTATE class 08, 57P01–57P03, socket errors):
 * such a client must be destroyed, not given back. Ordinary SQL errors keep a healthy connection.
 */
export function isConnectionLevelError(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined) {
    if (meaningOf(code).connection === true) return true;
    if (SOCKET_ERROR_CODES.has(code)) return true;
  }
  return CONNECTION_FAILURES.some((which) => isPgError(err, which));
}

/** SQLSTATE 25006 (read_only_sql_transaction), on the error or its cause: the server refused a write as read-only. */
export function isReadOnlyRefusal(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (errorCode(e) === READ_ONLY_SQL_TRANSACTION) return true;
  return false;
}

/** Turns a pg error into the typed error a caller can branch on; other errors pass through. */
export function toTypedDbError(err: unknown): unknown {
  if (err instanceof PoolExhaustedError || err instanceof DatabaseUnavailableError) return err;
  const code = errorCode(err);
  if (code === READ_ONLY_SQL_TRANSACTION) return new DatabaseUnavailableError('The database server is read-only (a standby, or failing over)', { cause: err }, 'read_only');
  if (code === QUERY_CANCELED) return new QueryTimeoutError({ cause: err });
  if (code === UNIQUE_VIOLATION) return new UniqueViolationError((err as { constraint?: string }).constraint, { cause: err });
  if (isConnectionLevelError(err)) return new DatabaseUnavailableError(undefined, { cause: err });
  return err;
}

/**
 * PgBouncer refuses start-up parameters it does not know (unless `ignore_startup_parameters` lists them);
 * a server older than PostgreSQL 12 does not know plan_cache_mode (nor one older than 11 jit).
 */
export const isStartupParameterRefused = (err: unknown): boolean =>
  err instanceof Error && (/unsupported startup parameter/i.test(err.message) || /unrecognized configuration parameter "(plan_cache_mode|jit)"/.test(err.message));

