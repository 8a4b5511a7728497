import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';

// The server span of a request (docs/operations.md: Tracing): made here, by hand, because the Express
// instrumentation makes none on Express 5; named by method and route template when the request ends.

const SAMPLED = 1;

/** What a request turned out to be, for its span. */
export interface RequestOutcome {
  method: string;
  route: string;
  status: number;
  userId: number | undefined;
  keyId: string | undefined;
  requestId: string;
  aborted: boolean;
}

/**
 * Starts the request's span, a child of the caller's `traceparent` when it sent one, and answers with
 * the span's own `traceparent` (and the caller's `tracestate`). Returns the span and, when it records
 * (sampled), the context the rest of the request runs in (request-prelude.ts).
 */
export function startRequestSpan(tracer: Tracer, req: IncomingMessage, res: ServerResponse): { span: Span; ctx: Context | undefined } {
  const parent = req.headers.traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, req.headers);
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const span = tracer.startSpan(
    req.method ?? 'GET',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': req.method ?? 'GET',
        // The path only: a query string may hold what must not leave the service.
        'url.path': query === -1 ? url : url.slice(0, query),
        'url.scheme': 'http',
        'network.protocol.version': req.httpVersion,
        ...(req.socket.remoteAddress ? { 'client.address': req.socket.remoteAddress } : {}),
        ...(typeof req.headers['user-agent'] === 'string' ? { 'user_agent.original': req.headers['user-agent'] } : {}),
      },
    },
    parent,
  );
  const own = span.spanContext();
  res.setHeader('traceparent', `00-${own.traceId}-${own.spanId}-0${own.traceFlags & SAMPLED}`);
  if (own.traceState) res.setHeader('tracestate', own.traceState.serialize());
  if (!span.isRecording()) return { span, ctx: undefined };
  return { span, ctx: trace.setSpan(parent, span) };
}

/** Names the span by method and route template, writes the outcome, and ends it. */
export function endRequestSpan(span: Span, outcome: RequestOutcome): void {
  if (!span.isRecording()) return;
  span.updateName(`${outcome.method} ${outcome.route}`);
  span.setAttribute('http.route', outcome.route);
  span.setAttribute('http.response.status_code', outcome.status);
  span.setAttribute('customer_api.request_id', outcome.requestId);
  if (outcome.userId !== undefined) span.setAttribute('user.id', String(outcome.userId));
  if (outcome.keyId !== undefined) span.setAttribute('customer_api.api_key.id', outcome.keyId);
  if (outcome.aborted) {
    span.setAttribute('error.type', 'aborted');
  } else if (outcome.status >= 500) {
    span.setAttribute('error.type', String(outcome.status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
