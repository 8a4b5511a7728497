import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import { sendError } from './error-handler';
import { traceRequest, type RequestObserver } from './request-logger';
import { setHeaders, type HeaderList } from './security-headers';

/** A hot read route answered without Express: the same steps as its Express twin, in plain node:http. */
export interface FastRoute {
  /** Matched against the whole URL; a URL with anything more (a query, encoded characters) goes to Express. */
  readonly pattern: RegExp;
  /** The route template in logs and metrics, as Express would name it. */
  readonly template: string;
  /** Answers with sendJson or throws (then the error handler's answer); sets `caller.userId` for the log line. */
  handle(req: IncomingMessage, res: ServerResponse, params: string[], caller: { userId?: number }): Promise<void>;
}

export interface FastLaneOptions {
  routes: readonly FastRoute[];
  headers: HeaderList;
  observe?: RequestObserver;
}

/**
 * Only a plain GET takes the fast lane. Express answers everything else: a body, CORS (Origin),
 * conditional requests (If-None-Match, If-Modified-Since), HEAD, and every other route.
 */
function plainGet(req: IncomingMessage): boolean {
  const h = req.headers;
  return (
    req.method === 'GET' &&
    h.origin === undefined &&
    h['if-none-match'] === undefined &&
    h['if-modified-since'] === undefined &&
    h['content-length'] === undefined &&
    h['transfer-encoding'] === undefined
  );
}

/**
 * Puts the fast lane in front of the app. Express's dispatch costs more CPU per request than the
 * whole bare node:http + pg answer (README, Performance), so the hottest reads skip it; the log line,
 * metrics, security headers, authentication, validation and error shape are the app's own functions.
 */
export function withFastLane(app: Express, { routes, headers, observe }: FastLaneOptions): RequestListener {
  const answer = (route: FastRoute, params: string[], req: IncomingMessage, res: ServerResponse): void => {
    const caller: { userId?: number } = {};
    const id = traceRequest(req, res, () => ({ route: route.template, userId: caller.userId }), observe);
    setHeaders(res, headers);
    route.handle(req, res, params, caller).catch((err: unknown) => sendError(err, Object.assign(req, { id }), res));
  };
  return (req, res) => {
    if (plainGet(req)) {
      for (const route of routes) {
        const match = route.pattern.exec(req.url ?? '');
        if (match) {
          answer(route, match.slice(1), req, res);
          return;
        }
      }
    }
    app(req, res);
  };
}
