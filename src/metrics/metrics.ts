import client, { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { getConfig } from '../config/config';
import { addTelemetryListener, currentTelemetry, poolStats } from '../db';

export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  /** Requests let through without the shared rate limit because its store (Redis) failed. */
  readonly rateLimitStoreErrors: Counter;
}

// Seconds: from 0.1 ms (an idle client handed over) to 10 s (the acquire timeout and beyond).
const WAIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let metrics: Metrics | undefined;

/**
 * The process's registry, made on first use: pool gauges (OpenTelemetry database-client names),
 * pool histograms and counters fed by the pool's telemetry, HTTP durations, and process defaults.
 */
export function getMetrics(): Metrics {
  if (metrics) return metrics;
  const registry = new Registry();
  client.collectDefaultMetrics({ register: registry });
  const pool = { pool_name: getConfig().db.applicationName };
  const labelNames = ['pool_name'] as const;

  // Registered first, so that at scrape time it reads the pool once and sets every pool gauge
  // before they are collected: they always agree with poolStats().
  new Gauge({
    name: 'db_client_connection_count',
    help: 'Open connections by state',
    labelNames: ['pool_name', 'state'],
    registers: [registry],
    collect() {
      const s = poolStats();
      this.set({ ...pool, state: 'idle' }, s.available);
      this.set({ ...pool, state: 'used' }, s.in_use);
      max.set(pool, s.max_connections);
      idleMin.set(pool, s.min_connections);
      pending.set(pool, s.waiting);
      usage.set(pool, s.in_use / s.max_connections);
    },
  });

  const max = new Gauge({ name: 'db_client_connection_max', help: 'Most connections the pool may open', labelNames, registers: [registry] });
  const idleMin = new Gauge({ name: 'db_client_connection_idle_min', help: 'Connections kept open when idle', labelNames, registers: [registry] });
  const pending = new Gauge({ name: 'db_client_connection_pending_requests', help: 'Callers waiting for a connection', labelNames, registers: [registry] });
  const usage = new Gauge({ name: 'db_client_connection_usage_ratio', help: 'Connections in use divided by the maximum (0-1)', labelNames, registers: [registry] });
  const wait = new Histogram({ name: 'db_client_connection_wait_time_seconds', help: 'Time to acquire a connection', labelNames, buckets: WAIT_BUCKETS, registers: [registry] });
  const use = new Histogram({ name: 'db_client_connection_use_time_seconds', help: 'Time a connection was held', labelNames, buckets: WAIT_BUCKETS, registers: [registry] });
  const create = new Histogram({ name: 'db_client_connection_create_time_seconds', help: 'Time to open a connection', labelNames, buckets: WAIT_BUCKETS, registers: [registry] });
  const timeouts = new Counter({ name: 'db_client_connection_timeouts_total', help: 'Acquisitions that timed out', labelNames, registers: [registry] });
  const queueFull = new Counter({ name: 'db_client_connection_queue_full_rejections_total', help: 'Callers refused at once because the wait queue was full', labelNames, registers: [registry] });
  const created = new Counter({ name: 'db_client_connections_created_total', help: 'Connections opened', labelNames, registers: [registry] });
  const destroyed = new Counter({ name: 'db_client_connections_destroyed_total', help: 'Connections closed', labelNames, registers: [registry] });
  const leaks = new Counter({ name: 'db_client_connection_leaks_total', help: 'Connections held past DB_POOL_LEAK_DETECTION_MS', labelNames, registers: [registry] });
  const operations = new Histogram({
    name: 'db_client_operation_duration_seconds',
    help: 'Duration of database statements',
    labelNames: ['pool_name', 'db_operation_name'],
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  // The pool is warmed before the app (and this registry) exists: the counters start from what it has counted.
  const counted = currentTelemetry()?.counters;
  timeouts.inc(pool, counted?.acquireTimeouts ?? 0);
  queueFull.inc(pool, counted?.queueFullRejections ?? 0);
  created.inc(pool, counted?.connectionsCreated ?? 0);
  destroyed.inc(pool, counted?.connectionsDestroyed ?? 0);
  leaks.inc(pool, counted?.leaksDetected ?? 0);

  // Bound to their labels once: labels() would otherwise check them and build an observer on every call.
  const waitObs = wait.labels(pool);
  const useObs = use.labels(pool);
  const createObs = create.labels(pool);
  // Every pool histogram has its series from the first scrape (zeros until something is observed), and
  // the warm-up's connections, opened before this registry, are in the creation times.
  for (const histogram of [wait, use, create]) histogram.zero(pool);
  for (const operation of ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'WITH']) operations.zero({ ...pool, db_operation_name: operation });
  for (const ms of currentTelemetry()?.earlyCreationMs ?? []) createObs.observe(ms / 1000);
  const operationObs = new Map<string, Histogram.Internal<'pool_name' | 'db_operation_name'>>();
  addTelemetryListener({
    onAcquire: (s) => waitObs.observe(s),
    onUse: (s) => useObs.observe(s),
    onConnectionCreated: (s) => {
      created.inc(pool);
      createObs.observe(s);
    },
    onConnectionDestroyed: () => destroyed.inc(pool),
    onAcquireTimeout: () => timeouts.inc(pool),
    onQueueFull: () => queueFull.inc(pool),
    onLeak: () => leaks.inc(pool),
    onQuery: (operation, s) => {
      let child = operationObs.get(operation);
      if (!child) {
        child = operations.labels({ ...pool, db_operation_name: operation });
        operationObs.set(operation, child);
      }
      child.observe(s);
    },
  });

  const httpDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP requests',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  const rateLimitStoreErrors = new Counter({
    name: 'rate_limit_store_errors_total',
    help: 'Errors of the shared rate-limit store (Redis); each let a request through unlimited',
    registers: [registry],
  });
  metrics = { registry, httpDuration, rateLimitStoreErrors };
  return metrics;
}
