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
  readonly code = '57014';
  constructor(options?: { cause?: unknown }) {
    super('The statement ran past the statement timeout', options);
    this.name = 'QueryTimeoutError';
  }
}

/** A unique constraint refused the write (SQLSTATE 23505). */
export class UniqueViolationError extends Error {
  readonly code = '23505';
  constructor(
    readonly constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`Unique constraint violated${constraint ? `: ${constraint}` : ''}`, options);
    this.name = 'UniqueViolationError';
  }
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

// node-postgres reports a dead connection with plain Errors that carry no code.
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'Query read timeout',
  'is not queryable',
  'The server does not support SSL connections',
  'timeout expired',
];

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
  return code === '26000' || code === '42P05';
}

/**
 * True when the connection itself is suspect (SQLSTATE class 08, 57P01–57P03, socket errors):
 * such a client must be destroyed, not given back. Ordinary SQL errors keep a healthy connection.
 */
export function isConnectionLevelError(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined) {
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
    if (SOCKET_ERROR_CODES.has(code)) return true;
  }
  const message = err instanceof Error ? err.message : '';
  return CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/** SQLSTATE 25006 (read_only_sql_transaction), on the error or its cause: the server refused a write as read-only. */
export function isReadOnlyRefusal(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (errorCode(e) === '25006') return true;
  return false;
}

/** Turns a pg error into the typed error a caller can branch on; other errors pass through. */
export function toTypedDbError(err: unknown): unknown {
  if (err instanceof PoolExhaustedError || err instanceof DatabaseUnavailableError) return err;
  const code = errorCode(err);
  if (code === '25006') return new DatabaseUnavailableError('The database server is read-only (a standby, or failing over)', { cause: err }, 'read_only');
  if (code === '57014') return new QueryTimeoutError({ cause: err });
  if (code === '23505') return new UniqueViolationError((err as { constraint?: string }).constraint, { cause: err });
  if (isConnectionLevelError(err)) return new DatabaseUnavailableError(undefined, { cause: err });
  return err;
}

/**
 * PgBouncer refuses start-up parameters it does not know (unless `ignore_startup_parameters` lists them);
 * a server older than PostgreSQL 12 does not know plan_cache_mode (nor one older than 11 jit).
 */
export const isStartupParameterRefused = (err: unknown): boolean =>
  err instanceof Error && (/unsupported startup parameter/i.test(err.message) || /unrecognized configuration parameter "(plan_cache_mode|jit)"/.test(err.message));

