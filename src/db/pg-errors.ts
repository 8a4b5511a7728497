import { AppError } from '../http/errors';
import type { MessageKey } from '../http/messages';
import { DatabaseUnavailableError, PoolExhaustedError, QueryTimeoutError, UniqueViolationError } from './db-errors';

const RETRY_AFTER_SECONDS = 1;

/** SQLSTATE → the API error it becomes. Class 08 (connection exceptions) is handled below. */
const SQLSTATE_TO_ERROR: Record<string, { code: AppError['code']; messageKey?: MessageKey }> = {
  '23505': { code: 'CONFLICT' },
  '23503': { code: 'VALIDATION_ERROR', messageKey: 'REFERENCE_MISSING' },
  '23502': { code: 'VALIDATION_ERROR' },
  '23514': { code: 'VALIDATION_ERROR' },
  '22P02': { code: 'VALIDATION_ERROR' },
  '22021': { code: 'VALIDATION_ERROR' },
  '22001': { code: 'VALIDATION_ERROR' },
  '22003': { code: 'VALIDATION_ERROR' },
  '22007': { code: 'VALIDATION_ERROR' },
  '22008': { code: 'VALIDATION_ERROR' },
  '57014': { code: 'QUERY_TIMEOUT' },
  '57P01': { code: 'DATABASE_UNAVAILABLE' },
  '57P02': { code: 'DATABASE_UNAVAILABLE' },
  '57P03': { code: 'DATABASE_UNAVAILABLE' },
  '53300': { code: 'DATABASE_UNAVAILABLE' },
};

function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** Maps a database error to an AppError, or returns undefined when it is not one. */
export function toAppErrorFromDb(err: unknown): AppError | undefined {
  if (err instanceof PoolExhaustedError) return new AppError('POOL_EXHAUSTED', { retryAfterSeconds: RETRY_AFTER_SECONDS, cause: err });
  if (err instanceof DatabaseUnavailableError) return new AppError('DATABASE_UNAVAILABLE', { retryAfterSeconds: RETRY_AFTER_SECONDS * 5, cause: err });
  if (err instanceof QueryTimeoutError) return new AppError('QUERY_TIMEOUT', { retryAfterSeconds: RETRY_AFTER_SECONDS, cause: err });
  if (err instanceof UniqueViolationError) return new AppError('CONFLICT', { cause: err });
  const state = sqlState(err);
  if (state === undefined) return undefined;
  if (state.startsWith('08')) return new AppError('DATABASE_UNAVAILABLE', { retryAfterSeconds: RETRY_AFTER_SECONDS * 5, cause: err });
  const mapped = SQLSTATE_TO_ERROR[state];
  if (!mapped) return undefined;
  const retry = mapped.code === 'DATABASE_UNAVAILABLE' || mapped.code === 'QUERY_TIMEOUT' ? { retryAfterSeconds: RETRY_AFTER_SECONDS } : {};
  return new AppError(mapped.code, { messageKey: mapped.messageKey, cause: err, ...retry });
}
