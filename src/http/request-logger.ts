import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { getLogger } from '../logging/logger';
import { acceptableRequestId, routeTemplateOf, userIdOf } from './request-context';

function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const id = acceptableRequestId(req.headers['x-request-id']) ?? randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * One structured line per request: id, route template, status, duration, user id. When the level
 * leaves those lines out (LOG_LEVEL above info), only the request id is set: pino-http's per-request
 * child loggers would be pure cost on the hot path.
 */
export function requestLogger(): RequestHandler {
  if (!getLogger().isLevelEnabled('info')) {
    return (req, res, next) => {
      req.id = requestIdOf(req, res);
      next();
    };
  }
  const line = (req: IncomingMessage, res: ServerResponse, val: { responseTime?: number }) => {
    const r = req as Request;
    return {
      method: r.method,
      route: routeTemplateOf(r),
      status: res.statusCode,
      durationMs: val.responseTime,
      userId: userIdOf(r),
    };
  };
  return pinoHttp({
    logger: getLogger(),
    quietReqLogger: true,
    quietResLogger: true,
    // pino-http binds the whole request to a child logger on every request; the line below carries
    // what is needed, so the request and response serializers are made free.
    wrapSerializers: false,
    serializers: { req: () => undefined, res: () => undefined },
    genReqId: requestIdOf,
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    customSuccessObject: line,
    // The error handler has already logged the error with its stack; this stays one short line.
    customErrorObject: (req, res, _err, val: { responseTime?: number }) => line(req, res, val),
  });
}
