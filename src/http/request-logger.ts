import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { getRequestLogger } from '../logging/logger';
import type { Span } from '@opentelemetry/api';
import { acceptableRequestId } from './request-context';
import { endRequestSpan } from './request-span';

/** Called once per answered request (the HTTP metrics hook in here). */
export type RequestObserver = (method: string, route: string, status: number, durationMs: number) => void;

/** What a request turned out to be, asked when it ends. */
type DescribeRequest = () => { route: string; userId: number | undefined; keyId: string | undefined };

function levelOf(status: number, aborted: boolean): 'info' | 'warn' | 'error' {
  if (aborted || (status >= 400 && status < 500)) return 'warn';
  return status >= 500 ? 'error' : 'info';
}

/**
 * Gives a request its id (the caller's X-Request-Id when well formed, else a UUID, echoed in the
 * answer) and writes one structured line when it ends: id, route template, status, duration, user
 * id, the API key's public id (never the key); "request aborted" when the client went away first. One `close` listener serves the line and
 * the observer: this runs on every request, so it does nothing that could be done once.
 */
export function traceRequest(req: IncomingMessage, res: ServerResponse, describe: DescribeRequest, observe: RequestObserver | undefined, span?: Span): string {
  const started = performance.now();
  const id = acceptableRequestId(req.headers['x-request-id']) ?? randomUUID();
  res.setHeader('X-Request-Id', id);
  res.once('close', () => {
    const durationMs = performance.now() - started;
    const { route, userId, keyId } = describe();
    const method = req.method ?? 'GET';
    // Gone before the answer was written, or while its request was still arriving.
    const aborted = !res.writableFinished || req.readableAborted;
    if (!aborted) observe?.(method, route, res.statusCode, durationMs);
    const traced = span?.isRecording() ? { trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId } : undefined;
    if (span) endRequestSpan(span, { method, route, status: res.statusCode, userId, keyId, requestId: id, aborted });
    const level = levelOf(res.statusCode, aborted);
    const log = getRequestLogger();
    if (!log.isLevelEnabled(level)) return;
    log[level](
      { reqId: id, method, route, status: res.statusCode, durationMs: Math.round(durationMs * 1000) / 1000, userId, ...(keyId === undefined ? {} : { keyId }), ...traced },
      aborted ? 'request aborted' : 'request completed',
    );
  });
  return id;
}
