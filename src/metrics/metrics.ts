import client, { Counter, Gauge, Registry } from 'prom-client';
import { BoundHistogram, type BoundObserver } from './bound-histogram';
import { getConfig } from '../config/config';
import { addTelemetryListener, currentTelemetry, poolStats, primaryHostStats, replicaPoolName, replicaStats } from '../db';

interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: BoundHistogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  /** Requests let through without the shared rate limit because its store (Redis) failed. */
  readonly rateLimitStoreErrors: Counter;
  /** Rotated refresh tokens presented again (each ended its session). */
  readonly refreshTokenReuses: Counter;
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
  const db = getConfig().db;
  const primary = { pool_name: db.applicationName };
  const poolNames = [db.applicationName, ...db.replicaUrls.map((_, i) => replicaPoolName(db, i))];
  const labelNames = ['pool_name'] as const;

  // Registered first, so that at scrape time it reads the pools once and sets every pool gauge
  // before they are collected: they always agree with poolStats() and replicaStats().
  new Gauge({
    name: 'db_client_connection_count',
    help: 'Open connections by state',
    labelNames: ['pool_name', 'state'],
    registers: [registry],
    collect() {
      const replicas = replicaStats();
      for (const { pool_name, ...s } of [{ pool_name: db.applicationName, ...poolStats() }, ...replicas]) {
        const pool = { pool_name };
        this.set({ ...pool, state: 'idle' }, s.available);
        this.set({ ...pool, state: 'used' }, s.in_use);
        max.set(pool, s.max_connections);
        idleMin.set(pool, s.min_connections);
        pending.set(pool, s.waiting);
        usage.set(pool, s.in_use / s.max_connections);
      }
      for (const { pool_name, hosts } of [{ pool_name: db.applicationName, ...primaryHostStats() }, ...replicas]) {
        for (const h of hosts) {
          if (h.state === 'unknown') hostUp.remove({ pool_name, host: h.host });
          else hostUp.set({ pool_name, host: h.host }, h.state === 'up' ? 1 : 0);
        }
      }
      for (const r of replicas) {
        const pool = { pool_name: r.pool_name };
        if (r.lag_ms === null) lag.remove(pool);
        else lag.set(pool, r.lag_ms / 1000);
        healthy.set(pool, r.state === 'healthy' ? 1 : 0);
      }
    },
  });

  const max = new Gauge({ name: 'db_client_connection_max', help: 'Most connections the pool may open', labelNames, registers: [registry] });
  const idleMin = new Gauge({ name: 'db_client_connection_idle_min', help: 'Connections kept open when idle', labelNames, registers: [registry] });
  const pending = new Gauge({ name: 'db_client_connection_pending_requests', help: 'Callers waiting for a connection', labelNames, registers: [registry] });
  const usage = new Gauge({ name: 'db_client_connection_usage_ratio', help: 'Connections in use divided by the maximum (0-1)', labelNames, registers: [registry] });
  const lag = new Gauge({ name: 'db_replica_lag_seconds', help: 'How far a read replica is behind the primary, at its last check', labelNames, registers: [registry] });
  const healthy = new Gauge({ name: 'db_replica_healthy', help: '1 when a read replica takes reads (reachable, within DB_REPLICA_MAX_LAG_MS), else 0', labelNames, registers: [registry] });
  const hostUp = new Gauge({
    name: 'db_pool_host_up',
    help: '1 when a host of a pool\'s URL took its last connection attempt, 0 when it refused or timed out (tried last until it answers); absent before the first attempt',
    labelNames: ['pool_name', 'host'],
    registers: [registry],
  });
  const wait = new BoundHistogram('db_client_connection_wait_time_seconds', 'Time to acquire a connection', labelNames, WAIT_BUCKETS, registry);
  const use = new BoundHistogram('db_client_connection_use_time_seconds', 'Time a connection was held', labelNames, WAIT_BUCKETS, registry);
  const create = new BoundHistogram('db_client_connection_create_time_seconds', 'Time to open a connection', labelNames, WAIT_BUCKETS, registry);
  const timeouts = new Counter({ name: 'db_client_connection_timeouts_total', help: 'Acquisitions that timed out', labelNames, registers: [registry] });
  const queueFull = new Counter({ name: 'db_client_connection_queue_full_rejections_total', help: 'Callers refused at once because the wait queue was full', labelNames, registers: [registry] });
  const created = new Counter({ name: 'db_client_connections_created_total', help: 'Connections opened', labelNames, registers: [registry] });
  const destroyed = new Counter({ name: 'db_client_connections_destroyed_total', help: 'Connections closed', labelNames, registers: [registry] });
  const connectionErrors = new Counter({
    name: 'db_client_connection_errors_total',
    help: 'Connections that could not be opened, and idle ones that died (a restart, pg_terminate_backend)',
    labelNames,
    registers: [registry],
  });
  const leaks = new Counter({ name: 'db_client_connection_leaks_total', help: 'Connections held past DB_POOL_LEAK_DETECTION_MS', labelNames, registers: [registry] });
  const switches = new Counter({
    name: 'db_pool_host_switches_total',
    help: 'Times a pool\'s new connections reached another host than before (a failover, or a host back)',
    labelNames,
    registers: [registry],
  });
  const operations = new BoundHistogram('db_client_operation_duration_seconds', 'Duration of database statements', ['pool_name', 'db_operation_name'], WAIT_BUCKETS, registry);
  // The pool is warmed before the app (and this registry) exists: the counters start from what it has counted.
  const counted = currentTelemetry()?.counters;
  timeouts.inc(primary, counted?.acquireTimeouts ?? 0);
  queueFull.inc(primary, counted?.queueFullRejections ?? 0);
  created.inc(primary, counted?.connectionsCreated ?? 0);
  destroyed.inc(primary, counted?.connectionsDestroyed ?? 0);
  leaks.inc(primary, counted?.leaksDetected ?? 0);
  connectionErrors.inc(primary, counted?.connectionErrors ?? 0);
  switches.inc(primary, counted?.hostSwitches ?? 0);

  // Every pool histogram has its series from the first scrape (zeros until something is observed), and
  // the warm-up's connections, opened before this registry, are in the creation times.
  for (const pool_name of poolNames) {
    for (const histogram of [wait, use, create]) histogram.zero({ pool_name });
    for (const operation of ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'WITH']) operations.zero({ pool_name, db_operation_name: operation });
  }
  for (const ms of currentTelemetry()?.earlyCreationMs ?? []) create.observe(primary, ms / 1000);
  // Bound to their labels once per pool (bound-histogram.ts).
  const observers = new Map<string, ReturnType<typeof observersOf>>();
  const observersOf = (pool_name: string) => ({
    wait: wait.labels({ pool_name }),
    use: use.labels({ pool_name }),
    create: create.labels({ pool_name }),
    operations: new Map<string, BoundObserver>(),
  });
  const of = (pool_name: string) => {
    let o = observers.get(pool_name);
    if (!o) observers.set(pool_name, (o = observersOf(pool_name)));
    return o;
  };
  addTelemetryListener({
    onAcquire: (s, pool_name) => of(pool_name).wait.observe(s),
    onUse: (s, pool_name) => of(pool_name).use.observe(s),
    onConnectionCreated: (s, pool_name) => {
      created.inc({ pool_name });
      of(pool_name).create.observe(s);
    },
    onConnectionDestroyed: (pool_name) => destroyed.inc({ pool_name }),
    onAcquireTimeout: (pool_name) => timeouts.inc({ pool_name }),
    onQueueFull: (pool_name) => queueFull.inc({ pool_name }),
    onLeak: (pool_name) => leaks.inc({ pool_name }),
    onConnectionError: (pool_name) => connectionErrors.inc({ pool_name }),
    onHostSwitch: (pool_name) => switches.inc({ pool_name }),
    onQuery: (operation, s, pool_name) => {
      const byOperation = of(pool_name).operations;
      let child = byOperation.get(operation);
      if (!child) {
        child = operations.labels({ pool_name, db_operation_name: operation });
        byOperation.set(operation, child);
      }
      child.observe(s);
    },
  });

  const httpDuration = new BoundHistogram(
    'http_server_request_duration_seconds',
    'Duration of HTTP requests',
    ['http_request_method', 'http_route', 'http_response_status_code'],
    HTTP_BUCKETS,
    registry,
  );
  const rateLimitStoreErrors = new Counter({
    name: 'rate_limit_store_errors_total',
    help: 'Errors of the shared rate-limit store (Redis); each let a request through unlimited',
    registers: [registry],
  });
  const refreshTokenReuses = new Counter({
    name: 'auth_refresh_token_reuses_total',
    help: 'Rotated refresh tokens presented again after the grace window (a stolen token?); each ended its session',
    registers: [registry],
  });
  metrics = { registry, httpDuration, rateLimitStoreErrors, refreshTokenReuses };
  return metrics;
}
