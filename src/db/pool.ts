import { performance } from 'node:perf_hooks';
import { context, trace } from '@opentelemetry/api';
import type pg from 'pg';
import { getDbConfig, type DbConfig } from '../config/config';
import { settleWithin } from '../lib/settle-within';
import { getLogger } from '../logging/logger';
import { isPgError } from './pg-internals';
import { DatabaseUnavailableError, PoolExhaustedError, isConnectionLevelError, isReadOnlyRefusal, isStartupParameterRefused, toTypedDbError } from './db-errors';
import { buildPool, hostStatsOf, retireHost, serverOf, type PoolState } from './pool-factory';
import type { PoolTelemetry } from './pool-telemetry';
import { DB_ATTR, endDbSpan, startDbSpan, tracedContext } from './db-tracing';

// The process's primary pool, and checking clients out and in (any pool's); pool-factory.ts builds pools.

/** The numbers of docs/api.md §2 (pool_stats); health-schemas.ts describes the same shape, held to this one. */
export interface PoolStats {
  min_connections: number;
  max_connections: number;
  available: number;
  in_use: number;
  total: number;
  waiting: number;
  usage_percent: number;
}

const CLOSE_TIMEOUT_MS = 5000;

/** Clients whose state is unknown (a failed ROLLBACK): destroyed instead of reused. */
const discarded = new WeakSet<pg.PoolClient>();
let state: PoolState | undefined;

function currentState(): PoolState {
  state ??= buildPool(getDbConfig());
  return state;
}

/** True while the primary pool exists (from the first query to closePool()). */
export const poolBuilt = (): boolean => state !== undefined;

/** The process's pg.Pool, built on first call from the config; the same pool until closePool(). */
export function getPool(): pg.Pool {
  return currentState().pool;
}

/** The telemetry of the current pool, or undefined before it is built. */
export function currentTelemetry(): PoolTelemetry | undefined {
  return state?.telemetry;
}

async function acquire(st: PoolState, retried: { params?: boolean } = {}): Promise<pg.PoolClient> {
  const { pool, db, telemetry } = st;
  if (pool.totalCount >= db.maxConnections && pool.idleCount === 0 && pool.waitingCount >= db.maxWaiting) {
    telemetry.queueFull();
    throw new PoolExhaustedError('queue_full');
  }
  const started = performance.now();
  // Traced: the wait is a span of its own, and the connection a new client opens (the host walk's
  // events) is made in it. The caller's context is taken here, before any queueing.
  const parent = tracedContext();
  const wait = parent && startDbSpan('db.client.connection.wait', parent, { [DB_ATTR.poolName]: st.name });
  try {
    const client = await (wait ? context.with(trace.setSpan(parent, wait), () => pool.connect()) : pool.connect());
    telemetry.acquired(performance.now() - started);
    if (wait) endDbSpan(wait);
    return client;
  } catch (err) {
    if (wait) endDbSpan(wait, err);
    // The session settings travel as start-up parameters; a pooler that refuses them gets none, and
    // they are then the pooler's and the role's to set (docs/operations.md: Behind PgBouncer). The
    // client-side query timeout (DB_STATEMENT_TIMEOUT_MS + 2 s) still bounds every wait.
    if (!retried.params && isStartupParameterRefused(err)) {
      if (!st.noStartupSettings) getLogger().warn(
        { reason: (err as Error).message },
        'the database (a pooler such as PgBouncer) refuses statement_timeout, idle_in_transaction_session_timeout, plan_cache_mode and jit as start-up parameters: ' +
          'connecting without them; they are written to the role for this database at start-up instead (docs/operations.md: Behind PgBouncer)',
      );
      st.noStartupSettings = true;
      return acquire(st, { ...retried, params: true });
    }
    if (isPgError(err, 'acquireTimeout')) {
      telemetry.acquireTimedOut();
      throw new PoolExhaustedError('timeout', { cause: err });
    }
    telemetry.connectionFailed();
    throw new DatabaseUnavailableError(undefined, { cause: err }, 'connect');
  }
}

function watchForLeak(st: PoolState): NodeJS.Timeout | undefined {
  const ms = st.db.leakDetectionMs;
  if (ms <= 0) return undefined;
  const acquiredAt = new Error('client acquired here');
  const timer = setTimeout(() => {
    st.telemetry.leaked();
    getLogger().warn({ heldForMs: ms, acquiredAt: acquiredAt.stack }, `database client held for more than ${ms} ms (possible leak)`);
  }, ms);
  timer.unref();
  return timer;
}

/** Marks a checked-out client to be destroyed at release, when its session state is unknown. */
export function discardOnRelease(client: pg.PoolClient): void {
  discarded.add(client);
}

/** A client checked out of a pool; `release` gives it back (or destroys it), once, on every path. */
export interface Lease {
  readonly client: pg.PoolClient;
  readonly st: PoolState;
  /** Call with the error that ended the work, if any: a connection-level one destroys the client. */
  release(err?: unknown): void;
}

/**
 * Checks a client out for work that does not fit one callback (a stream, an async iterator): the caller
 * must release it on every path. withClient() is the same for a callback.
 */
export async function lease(st: PoolState = currentState()): Promise<Lease> {
  const client = await acquire(st);
  const heldSince = performance.now();
  let broken: Error | undefined;
  let released = false;
  // While checked out, the pool's own error listener is detached: without this one, a connection
  // that dies between queries would crash the process.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  st.held.add(client);
  const leakTimer = watchForLeak(st);
  return {
    client,
    st,
    release(err?: unknown): void {
      if (released) return;
      released = true;
      if (err !== undefined && isConnectionLevelError(err)) broken ??= err as Error;
      // SQLSTATE 25006 on a pool that writes: the server has turned read-only (a standby now, or
      // default_transaction_read_only). This client goes, and so do the others on that host.
      if (err !== undefined && isReadOnlyRefusal(err)) {
        broken ??= err as Error;
        const server = serverOf(client);
        if (server) retireHost(st, server.key, 'it refused a write as read-only (SQLSTATE 25006)');
      }
      clearTimeout(leakTimer);
      client.off('error', onError);
      st.held.delete(client);
      client.release(broken ?? discarded.has(client));
      st.telemetry.used(performance.now() - heldSince);
    },
  };
}

/**
 * Checks a client out, runs `fn`, and gives the client back on every path. The client is destroyed
 * instead of reused only when its connection failed; a SQL error keeps a healthy connection.
 */
export async function withClient<T>(fn: (client: pg.PoolClient, st: PoolState) => Promise<T>, st: PoolState = currentState()): Promise<T> {
  const held = await lease(st);
  try {
    const result = await fn(held.client, st);
    held.release();
    return result;
  } catch (err) {
    held.release(err);
    throw toTypedDbError(err);
  }
}

/** Opens `DB_POOL_MIN_CONNECTIONS` clients now, so the first requests do not pay for connecting. */
export async function warmPool(): Promise<void> {
  const st = currentState();
  const count = Math.max(1, st.db.minConnections);
  const clients = await Promise.allSettled(Array.from({ length: count }, () => acquire(st)));
  for (const c of clients) if (c.status === 'fulfilled') c.value.release();
  const failed = clients.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Ends the pool: idle clients close at once, checked-out ones when released, bounded by `timeoutMs`.
 * A later getPool() builds a new pool.
 */
export async function closePool(timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
  const st = state;
  state = undefined;
  await Promise.all([st ? endPool(st, timeoutMs) : undefined, closeReplicas?.(timeoutMs)]);
}

// Set by replicas.ts when it has built replica pools: closePool() ends them too.
let closeReplicas: ((timeoutMs: number) => Promise<void>) | undefined;
export function onClosePool(close: (timeoutMs: number) => Promise<void>): void {
  closeReplicas = close;
}

/** Ends one pool: idle clients at once, checked-out ones when released, bounded by `timeoutMs`. */
export async function endPool(st: PoolState, timeoutMs: number): Promise<void> {
  const probes = st.stopProbes();
  if ((await settleWithin(st.pool.end(), timeoutMs)).status === 'timeout') {
    getLogger().warn({ pool: st.name, in_use: st.held.size }, `pool did not close within ${timeoutMs} ms; ending its checked-out clients`);
    await Promise.allSettled([...st.held].map((client) => client.end()));
  }
  await probes;
}

/** True once the server (a pooler) refused the session settings as start-up parameters: see applySessionSettingsToRole(). */
export function startupSettingsRefused(): boolean {
  return state?.noStartupSettings ?? false;
}

/** Where the primary pool is connected (null before it is built). */
export function primaryHostStats(): ReturnType<typeof hostStatsOf> {
  return hostStatsOf(state);
}

/** The pool's numbers (docs/api.md §2). Does not build the pool. */
export function poolStats(): PoolStats {
  return statsOf(state?.db ?? getDbConfig(), state?.pool);
}

/** The numbers of one pool (of its config alone before it is built). */
export function statsOf(db: DbConfig, pool: pg.Pool | undefined): PoolStats {
  const total = pool?.totalCount ?? 0;
  const available = pool?.idleCount ?? 0;
  const inUse = total - available;
  return {
    min_connections: db.minConnections,
    max_connections: db.maxConnections,
    available,
    in_use: inUse,
    total,
    waiting: pool?.waitingCount ?? 0,
    usage_percent: Math.round((100 * inUse) / db.maxConnections),
  };
}
