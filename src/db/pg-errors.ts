import { DatabaseUnavailableError, PoolExhaustedError, QueryTimeoutError, UniqueViolationError } from './db-errors';

/** What a database error means to its caller, whatever the SQLSTATE; the HTTP layer turns it into an answer. */
export type DbErrorKind = 'pool_exhausted' | 'unavailable' | 'timeout' | 'conflict' | 'invalid_input' | 'missing_reference';

/** SQLSTATE → its kind. Class 08 (connection exceptions) is handled below. */
const SQLSTATE_KIND: Record<string, DbErrorKind> = {
  '23505': 'conflict',
  '23503': 'missing_reference',
  '23502': 'invalid_input',
  '23514': 'invalid_input',
  '22P02': 'invalid_input',
  '22021': 'invalid_input',
  '22001': 'invalid_input',
  '22003': 'invalid_input',
  '22007': 'invalid_input',
  '22008': 'invalid_input',
  '57014': 'timeout',
  '57P01': 'unavailable',
  '57P02': 'unavailable',
  '57P03': 'unavailable',
  '53300': 'unavailable',
  // A read-only server refused a write: a standby, during a failover (the pool walks on).
  '25006': 'unavailable',
  // A transaction-mode pooler lost a prepared statement: the process now sends unnamed ones; try again.
  '26000': 'unavailable',
  '42P05': 'unavailable',
};

function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** The kind of a database error (a typed error of this layer, or a raw one from node-postgres), or undefined when it is not one. */
export function classifyDbError(err: unknown): DbErrorKind | undefined {
  if (err instanceof PoolExhaustedError) return 'pool_exhausted';
  if (err instanceof DatabaseUnavailableError) return 'unavailable';
  if (err instanceof QueryTimeoutError) return 'timeout';
  if (err instanceof UniqueViolationError) return 'conflict';
  const state = sqlState(err);
  if (state === undefined) return undefined;
  if (state.startsWith('08')) return 'unavailable';
  return SQLSTATE_KIND[state];
}
