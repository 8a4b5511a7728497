import { classifyDbError, type DbErrorKind } from '../db';
import { AppError } from './errors';
import type { MessageKey } from './messages';

/** Each kind of database error as an API answer (docs/api.md §1); the 503s say when to try again. */
const ANSWERS: Record<DbErrorKind, { code: AppError['code']; messageKey?: MessageKey; retryAfterSeconds?: number }> = {
  pool_exhausted: { code: 'POOL_EXHAUSTED', retryAfterSeconds: 1 },
  // A failover or a restart is over in seconds: clients come back soon (with Idempotency-Key, safely).
  unavailable: { code: 'DATABASE_UNAVAILABLE', retryAfterSeconds: 1 },
  timeout: { code: 'QUERY_TIMEOUT', retryAfterSeconds: 1 },
  conflict: { code: 'CONFLICT' },
  invalid_input: { code: 'VALIDATION_ERROR' },
  missing_reference: { code: 'VALIDATION_ERROR', messageKey: 'REFERENCE_MISSING' },
};

/** Maps a database error to an AppError, or returns undefined when it is not one. */
export function toAppErrorFromDb(err: unknown): AppError | undefined {
  const kind = classifyDbError(err);
  if (kind === undefined) return undefined;
  const { code, messageKey, retryAfterSeconds } = ANSWERS[kind];
  return new AppError(code, { messageKey, retryAfterSeconds, cause: err });
}
