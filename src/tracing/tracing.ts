import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import type { TracingConfig } from '../config/config';
import { refreshDbTracer } from '../db';
import { useTraceFields } from '../logging/logger';

/** The name of this service's tracer (its instrumentation scope). */
export const TRACER_NAME = 'customer-api';

interface Running {
  readonly tracer: Tracer;
  readonly flush: () => Promise<void>;
  readonly shutdown: () => Promise<void>;
}

let running: Running | undefined;

/** The API's tracer while tracing runs (OTLP endpoint set), else undefined: every caller does nothing then. */
export const apiTracer = (): Tracer | undefined => running?.tracer;

/** The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name (the specification's six). */
function samplerFor(config: TracingConfig, sdk: typeof import('@opentelemetry/sdk-trace-base')) {
  const ratio = new sdk.TraceIdRatioBasedSampler(config.samplerRatio);
  const root = { always_on: new sdk.AlwaysOnSampler(), always_off: new sdk.AlwaysOffSampler(), traceidratio: ratio };
  switch (config.sampler) {
    case 'always_on':
    case 'always_off':
    case 'traceidratio':
      return root[config.sampler];
    case 'parentbased_always_on':
      return new sdk.ParentBasedSampler({ root: root.always_on });
    case 'parentbased_always_off':
      return new sdk.ParentBasedSampler({ root: root.always_off });
    case 'parentbased_traceidratio':
      return new sdk.ParentBasedSampler({ root: ratio });
  }
}

/**
 * Starts tracing (docs/operations.md: Tracing): the OpenTelemetry SDK's tracer provider with the sampler
 * of OTEL_TRACES_SAMPLER, spans batched to the OTLP endpoint, the W3C trace-context propagator and an
 * AsyncLocalStorage context manager, all registered globally. The SDK is loaded here only: with
 * tracing off, none of it is. Call before the pool is built (its spans look for the tracer then).
 */
export function startTracing(config: TracingConfig): void {
  if (running) return;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded on this path only */
  const sdk = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { defaultResource, resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { OTLPTraceExporter } =
    config.protocol === 'http/json'
      ? (require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http'))
      : (require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  const provider = new sdk.BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': config.serviceName })),
    sampler: samplerFor(config, sdk),
    spanProcessors: [new sdk.BatchSpanProcessor(new OTLPTraceExporter({ url: config.url }))],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  running = { tracer: provider.getTracer(TRACER_NAME), flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
  refreshDbTracer();
  useTraceFields(true);
}

/** Sends the spans still batched (tests, and shutdown through stopTracing). */
export async function flushTracing(): Promise<void> {
  await running?.flush();
}

/** Sends what is batched, then stops tracing and unregisters the SDK (graceful shutdown, tests). */
export async function stopTracing(): Promise<void> {
  const was = running;
  if (!was) return;
  running = undefined;
  await was.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
  refreshDbTracer();
  useTraceFields(false);
}
