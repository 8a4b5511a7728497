import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { getLogger } from '../logging/logger';
import { acceptableRequestId, routeTemplateOf, userIdOf } from './request-context';

/** One structured line per request: id, route template, status, duration, user id. */
export function requestLogger(): RequestHandler {
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
    genReqId: (req, res) => {
      const id = acceptableRequestId(req.headers['x-request-id']) ?? randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    customSuccessObject: line,
    // The error handler has already logged the error with its stack; this stays one short line.
    customErrorObject: (req, res, _err, val: { responseTime?: number }) => line(req, res, val),
  });
}
