import { ProxyTracerProvider, SpanKind, SpanStatusCode, context, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';

// Spans of the data layer (docs/operations.md: Tracing): a pool wait, each statement, a COPY. Made only
// under a recording span (a traced request, or a library user's own span), as its children; with no
// tracer provider registered, or outside any span, nothing is made at all.

const SCOPE = 'customer-api/db';

// Semantic-convention attribute names (the database ones are stable; the pool's is still incubating,
// so its name is written here rather than imported from the incubating entry point).
export const DB_ATTR = {
  system: 'db.system.name',
  namespace: 'db.namespace',
  operation: 'db.operation.name',
  queryText: 'db.query.text',
  statementName: 'db.postgresql.statement.name',
  rows: 'db.response.returned_rows',
  statusCode: 'db.response.status_code',
  poolName: 'db.client.connection.pool.name',
  role: 'db.postgresql.role',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
} as const;

let tracer: Tracer | undefined;

/**
 * Looks for a registered tracer provider again: the API's (startTracing) or a library user's own SDK.
 * Called when a pool is built and when tracing starts or stops.
 */
export function refreshDbTracer(): void {
  const provider = trace.getTracerProvider();
  tracer = provider instanceof ProxyTracerProvider ? provider.getDelegateTracer(SCOPE) : provider.getTracer(SCOPE);
}

/** The caller's context when a data-layer span belongs in it: tracing on and a recording span active. */
export function tracedContext(): Context | undefined {
  if (!tracer) return undefined;
  const active = context.active();
  return trace.getSpan(active)?.isRecording() ? active : undefined;
}

/** A client span, child of `parent` (from tracedContext()). */
export function startDbSpan(name: string, parent: Context, attributes: Attributes): Span {
  return tracer!.startSpan(name, { kind: SpanKind.CLIENT, attributes: { [DB_ATTR.system]: 'postgresql', ...attributes } }, parent);
}

/** Ends `span`, marked failed with `err`'s SQLSTATE or name when there is one. */
export function endDbSpan(span: Span, err?: unknown): void {
  if (err !== undefined) {
    const code = (err as { code?: unknown }).code;
    const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
    span.setAttribute(DB_ATTR.errorType, sqlState ?? (err instanceof Error ? err.name : 'Error'));
    if (sqlState) span.setAttribute(DB_ATTR.statusCode, sqlState);
    // A server's message may quote a parameter's value (invalid input syntax for type integer: "…"): its SQLSTATE alone.
    span.setStatus({ code: SpanStatusCode.ERROR, ...(err instanceof Error && !sqlState ? { message: err.message } : {}) });
  }
  span.end();
}

/** An event on the active span (a host of the failover walk tried): nothing when no span records. */
export function addDbEvent(name: string, attributes: Attributes): void {
  if (!tracer) return;
  const span = trace.getActiveSpan();
  if (span?.isRecording()) span.addEvent(name, attributes);
}
