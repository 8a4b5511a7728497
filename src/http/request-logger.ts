import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import { getRequestLogger } from '../logging/logger';
import { acceptableRequestId, routeTemplateOf, userIdOf } from './request-context';

/** Called once per answered request (the HTTP metrics hook in here). */
export type RequestObserver = (method: string, route: string, status: number, durationMs: number) => void;

/** What a request turned out to be, asked when it ends. */
export type DescribeRequest = () => { route: string; userId: number | undefined };

function levelOf(res: ServerResponse): 'info' | 'warn' | 'error' {
  if (!res.writableFinished || (res.statusCode >= 400 && res.statusCode < 500)) return 'warn';
  return res.statusCode >= 500 ? 'error' : 'info';
}

/**
 * Gives a request its id (the caller's X-Request-Id when well formed, else a UUID, echoed in the
 * answer) and writes one structured line when it ends: id, route template, status, duration, user
 * id; "request aborted" when the client went away first. One `close` listener serves the line and
 * the observer: this runs on every request, so it does nothing that could be done once.
 */
export function traceRequest(req: IncomingMessage, res: ServerResponse, describe: DescribeRequest, observe: RequestObserver | undefined): string {
  const started = performance.now();
  const id = acceptableRequestId(req.headers['x-request-id']) ?? randomUUID();
  res.setHeader('X-Request-Id', id);
  res.once('close', () => {
    const durationMs = performance.now() - started;
    const { route, userId } = describe();
    const method = req.method ?? 'GET';
    if (res.writableFinished) observe?.(method, route, res.statusCode, durationMs);
    const level = levelOf(res);
    const log = getRequestLogger();
    if (!log.isLevelEnabled(level)) return;
    log[level](
      { reqId: id, method, route, status: res.statusCode, durationMs: Math.round(durationMs * 1000) / 1000, userId },
      res.writableFinished ? 'request completed' : 'request aborted',
    );
  });
  return id;
}

/** traceRequest for every request that goes through Express. */
export function requestLogger(observe?: RequestObserver): RequestHandler {
  return (req, res, next) => {
    req.id = traceRequest(req, res, () => ({ route: routeTemplateOf(req), userId: userIdOf(req) }), observe);
    next();
  };
}
