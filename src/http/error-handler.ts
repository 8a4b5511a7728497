import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError, z } from 'zod';
import { getConfig } from '../config/config';
import { getLogger } from '../logging/logger';
import { toAppErrorFromDb } from './db-error-answers';
import { AppError, type ErrorDetail } from './errors';
import { detail, renderDetail, translate, type Locale } from './messages';
import { localeOf } from './request-context';
import { sendJson } from './send-json';

// body-parser's error types → API error codes.
const BODY_PARSER_ERRORS: Record<string, AppError['code']> = {
  'entity.parse.failed': 'INVALID_JSON',
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'entity.verify.failed': 'INVALID_JSON',
  'request.size.invalid': 'INVALID_JSON',
  // The client went away while sending the body: a client problem, never a 500 in logs and metrics.
  'request.aborted': 'INVALID_JSON',
  'charset.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'encoding.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'parameters.too.many': 'PAYLOAD_TOO_LARGE',
};

function zodDetails(err: ZodError): ErrorDetail[] {
  return err.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

const zodTurkish = z.locales.tr().localeError;

/** A zod issue's message in `locale`: our schemas' own by their keys (messages.ts), zod's own from its locale. */
function issueMessage(issue: ZodError['issues'][number], locale: Locale): string {
  const ours = renderDetail(issue.message, locale);
  if (ours !== undefined) return ours;
  if (locale === 'en') return issue.message;
  if (issue.code === 'invalid_type') return renderDetail(detail('WRONG_TYPE', { expected: issue.expected }), locale)!;
  const theirs = zodTurkish(issue as Parameters<typeof zodTurkish>[0]);
  return (typeof theirs === 'string' ? theirs : theirs?.message) ?? issue.message;
}

/** `details` in the request's language, like `message`: keyed ones rendered, free texts as written (English). */
function localizedDetails(appError: AppError, locale: Locale): ErrorDetail[] | undefined {
  if (!appError.details) return undefined;
  if (appError.cause instanceof ZodError) {
    const issues = appError.cause.issues;
    return appError.details.map((d, i) => ({ ...d, message: issues[i] ? issueMessage(issues[i], locale) : d.message }));
  }
  return appError.details.map((d) => ({ ...d, message: renderDetail(d.message, locale) ?? d.message }));
}

/** Every error becomes an AppError; anything unknown is an INTERNAL_ERROR. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return new AppError('VALIDATION_ERROR', { details: zodDetails(err), cause: err });
  const bodyType = (err as { type?: unknown } | null)?.type;
  if (typeof bodyType === 'string' && BODY_PARSER_ERRORS[bodyType]) {
    return new AppError(BODY_PARSER_ERRORS[bodyType], { cause: err });
  }
  return toAppErrorFromDb(err) ?? new AppError('INTERNAL_ERROR', { cause: err });
}

/** The request id and headers an error answer needs. */
type AnsweredRequest = IncomingMessage & { id: string };

/**
 * The only place that turns errors into responses (docs/api.md §1) and logs them: 4xx at warn, 5xx at
 * error with the cause. Express's error handler (below) calls it.
 */
function sendError(err: unknown, req: AnsweredRequest, res: ServerResponse): void {
  const appError = toAppError(err);
  const log = getLogger();
  const context = { reqId: req.id, code: appError.code, status: appError.status };
  if (appError.status >= 500) {
    const cause = appError.code === 'INTERNAL_ERROR' ? err : appError.cause;
    log.error({ ...context, err: cause }, 'request failed');
  } else {
    log.warn(context, 'request rejected');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (appError.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(appError.retryAfterSeconds));
  if (appError.status === 401 && appError.code === 'UNAUTHORIZED') {
    res.setHeader('WWW-Authenticate', 'Bearer realm="customer-api", error="invalid_token"');
  }
  const locale = localeOf(req, getConfig().http.defaultLocale);
  sendJson(res, appError.status, {
    error: {
      code: appError.code,
      message: translate(appError.messageKey, locale, appError.params),
      ...(appError.details ? { details: localizedDetails(appError, locale) } : {}),
    },
    ...appError.report,
    request_id: req.id,
  });
}

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  sendError(err, req, res);
};

/** JSON 404 for any route that does not exist. */
export const notFoundHandler: RequestHandler = (_req, _res, next) => {
  next(new AppError('NOT_FOUND', { messageKey: 'ROUTE_NOT_FOUND' }));
};
