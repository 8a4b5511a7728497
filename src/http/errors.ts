import { z } from 'zod';
import type { MessageKey } from './messages';

/** The closed list of error codes of docs/api.md §1, with their HTTP status. */
export const ERROR_STATUS = {
  INVALID_JSON: 400,
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  INSUFFICIENT_SCOPE: 403,
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_IN_USE: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  IMPORT_INVALID: 422,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  POOL_EXHAUSTED: 503,
  DATABASE_UNAVAILABLE: 503,
  QUERY_TIMEOUT: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One bad field of a VALIDATION_ERROR (docs/api.md §1); ErrorBodySchema's details are these. */
export const ErrorDetailSchema = z.object({ path: z.string(), message: z.string() });
export type ErrorDetail = z.output<typeof ErrorDetailSchema>;

interface AppErrorOptions {
  /** Which localized message to show; the code's own by default. */
  messageKey?: MessageKey;
  details?: ErrorDetail[];
  retryAfterSeconds?: number;
  cause?: unknown;
  /** Values for the message's `{name}` placeholders. */
  params?: Record<string, string | number>;
  /** Fields answered next to `error` (an import's report). */
  report?: Record<string, unknown>;
}

/** The one error class that becomes an docs/api.md §1 response. */
export class AppError extends Error {
  readonly status: number;
  readonly messageKey: MessageKey;
  readonly details: ErrorDetail[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly report: Record<string, unknown> | undefined;
  readonly params: Record<string, string | number> | undefined;

  constructor(
    readonly code: ErrorCode,
    options: AppErrorOptions = {},
  ) {
    super(code, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
    this.messageKey = options.messageKey ?? code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.report = options.report;
    this.params = options.params;
  }
}

export const notFound = (messageKey: MessageKey = 'NOT_FOUND') => new AppError('NOT_FOUND', { messageKey });
export const conflict = (messageKey: MessageKey = 'CONFLICT', cause?: unknown) => new AppError('CONFLICT', { messageKey, cause });
export const forbidden = (messageKey: MessageKey = 'FORBIDDEN') => new AppError('FORBIDDEN', { messageKey });
/** The one way to refuse input (besides a schema's ZodError): 400 VALIDATION_ERROR with its details (messages by key: detail()). */
export const validationError = (details: ErrorDetail[], messageKey: MessageKey = 'VALIDATION_ERROR', cause?: unknown) =>
  new AppError('VALIDATION_ERROR', { details, messageKey, cause });
export const preconditionFailed = () => new AppError('PRECONDITION_FAILED');
