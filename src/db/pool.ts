import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { getConfig, type DbConfig } from '../config/config';
import { getLogger } from '../logging/logger';
import { resolveConnectionTarget, type ConnectionTarget } from './connection-options';
import { DatabaseUnavailableError, PoolExhaustedError, isConnectionLevelError, toTypedDbError } from './db-errors';
import { PoolTelemetry, type TelemetryListener } from './pool-telemetry';

/** One pool: the primary's (DATABASE_URL) or a read replica's (replicas.ts). */
export interface PoolState {
  /** pool_name in metrics and health: DB_APPLICATION_NAME for the primary, `<it>-replica-<n>` for replicas. */
  readonly name: string;
  readonly pool: pg.Pool;
  readonly db: DbConfig;
  readonly target: ConnectionTarget;
  readonly telemetry: PoolTelemetry;
  /** Checked-out clients, so that a closePool() past its deadline can end them. */
  readonly held: Set<pg.PoolClient>;
  /** prefer: set once the server has refused TLS; later clients connect in plain. */
  plain: boolean;
  /** Set once the server (a pooler) has refused the session settings as start-up parameters; later clients send none. */
  noStartupSettings: boolean;
}

/** Numbers of API.md §2, plus counters since the pool was built. */
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
// The client gives up this long after the server's statement_timeout should have fired.
const CLIENT_TIMEOUT_MARGIN_MS = 2000;
const CREATED_AT = Symbol('createdAt');

const listeners = new Set<TelemetryListener>();
/** Clients whose state is unknown (a failed ROLLBACK): destroyed instead of reused. */
const discarded = new WeakSet<pg.PoolClient>();
let state: PoolState | undefined;

/**
 * A pool for the server at `url` (the primary's DATABASE_URL when omitted), with the DB_POOL_* settings.
 * Replica pools are built by replicas.ts with their own name and URL.
 */
export function buildPool(db: DbConfig, name = db.applicationName, url = db.url): PoolState {
  const target = resolveConnectionTarget({ ...db, url });
  const telemetry = new PoolTelemetry(name, listeners);
  const log = getLogger();
  const partial: { plain: boolean; noStartupSettings: boolean } = { plain: target.ssl === false, noStartupSettings: false };
  // plan_cache_mode travels in `options`, after the user's own.
  const planCacheMode = db.planCacheMode === 'auto' ? undefined : `-c plan_cache_mode=${db.planCacheMode}`;
  const options = [target.options, planCacheMode].filter(Boolean).join(' ') || undefined;

  // pg-pool hands every client the pool's options, where connectionTimeoutMillis is the acquire
  // timeout; one connection attempt has its own, shorter budget, and TLS follows `prefer`.
  class PooledClient extends pg.Client {
    readonly [CREATED_AT] = performance.now();
    constructor(options: pg.ClientConfig = {}) {
      super({
        ...options,
        password: options.password,
        connectionTimeoutMillis: db.connectTimeoutMs,
        ssl: partial.plain ? false : target.ssl,
        // A pooler that refused them once (see acquire) gets none: it would refuse every connection.
        ...(partial.noStartupSettings ? { statement_timeout: undefined, idle_in_transaction_session_timeout: undefined, options: target.options } : {}),
      });
    }
  }

  const lifetime = db.maxLifetimeSeconds;
  const pool: pg.Pool = new pg.Pool({
    Client: PooledClient,
    connectionString: target.connectionString,
    max: db.maxConnections,
    min: db.minConnections,
    idleTimeoutMillis: db.idleTimeoutMs,
    connectionTimeoutMillis: db.acquireTimeoutMs,
    maxUses: db.maxUses > 0 ? db.maxUses : undefined,
    maxLifetimeSeconds: lifetime,
    // pg-pool reads maxLifetimeSeconds right after this hook, for this client only: a ±10 % jitter
    // keeps the clients opened together at start-up from all expiring in the same instant.
    onConnect: () => {
      if (lifetime > 0) pool.options.maxLifetimeSeconds = lifetime * (0.9 + Math.random() * 0.2);
    },
    application_name: name,
    statement_timeout: db.statementTimeoutMs,
    query_timeout: db.statementTimeoutMs > 0 ? db.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS : undefined,
    idle_in_transaction_session_timeout: db.idleInTransactionTimeoutMs,
    options,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });

  // Without an 'error' listener, node-postgres crashes the process when an idle client's
  // connection dies (a database restart, pg_terminate_backend). The pool has already removed it.
  pool.on('error', (err) => {
    telemetry.counters.connectionErrors += 1;
    log.warn({ pool: name, err: { message: err.message, code: (err as { code?: string }).code } }, 'idle database client failed; removed from the pool');
  });
  pool.on('connect', (client) => {
    const createdAt = (client as unknown as { [CREATED_AT]?: number })[CREATED_AT];
    telemetry.connectionCreated(createdAt === undefined ? 0 : performance.now() - createdAt);
    log.debug({ total: pool.totalCount }, 'database connection opened');
  });
  pool.on('remove', () => {
    telemetry.connectionDestroyed();
    log.debug({ total: pool.totalCount }, 'database connection closed');
  });

  return Object.assign(partial, { name, pool, db, target, telemetry, held: new Set<pg.PoolClient>() });
}

function currentState(): PoolState {
  state ??= buildPool(getConfig().db);
  return state;
}

/** The process's pg.Pool, built on first call from the config; the same pool until closePool(). */
export function getPool(): pg.Pool {
  return currentState().pool;
}

/** Subscribes to pool events (acquire and use times, timeouts); kept across pool rebuilds. */
export function addTelemetryListener(listener: TelemetryListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The telemetry of the current pool, or undefined before it is built. */
export function currentTelemetry(): PoolTelemetry | undefined {
  return state?.telemetry;
}

function isSslRefused(err: unknown): boolean {
  return err instanceof Error && err.message.includes('does not support SSL');
}

/**
 * PgBouncer refuses start-up parameters it does not know (unless `ignore_startup_parameters` lists them);
 * a server older than PostgreSQL 12 does not know plan_cache_mode.
 */
const isStartupParameterRefused = (err: unknown): boolean =>
  err instanceof Error && (/unsupported startup parameter/i.test(err.message) || /unrecognized configuration parameter "plan_cache_mode"/.test(err.message));

async function acquire(st: PoolState, retried: { ssl?: boolean; params?: boolean } = {}): Promise<pg.PoolClient> {
  const { pool, db, telemetry } = st;
  if (pool.totalCount >= db.maxConnections && pool.idleCount === 0 && pool.waitingCount >= db.maxWaiting) {
    telemetry.queueFull();
    throw new PoolExhaustedError('queue_full');
  }
  const started = performance.now();
  try {
    const client = await pool.connect();
    telemetry.acquired(performance.now() - started);
    return client;
  } catch (err) {
    // Several first callers may all have tried TLS (or start-up parameters); each retries once.
    if (st.target.fallBackToPlain && !retried.ssl && isSslRefused(err)) {
      if (!st.plain) getLogger().info('database server has no TLS; DB_SSLMODE=prefer falls back to a plain connection');
      st.plain = true;
      return acquire(st, { ...retried, ssl: true });
    }
    // The session settings travel as start-up parameters; a pooler that refuses them gets none, and
    // they are then the pooler's and the role's to set (docs/operations.md: Behind PgBouncer). The
    // client-side query timeout (DB_STATEMENT_TIMEOUT_MS + 2 s) still bounds every wait.
    if (!retried.params && isStartupParameterRefused(err)) {
      if (!st.noStartupSettings) getLogger().warn(
        { reason: (err as Error).message },
        'the database (a pooler such as PgBouncer) refuses statement_timeout, idle_in_transaction_session_timeout and plan_cache_mode as start-up parameters: ' +
          'connecting without them; they are written to the role for this database at start-up instead (docs/operations.md: Behind PgBouncer)',
      );
      st.noStartupSettings = true;
      return acquire(st, { ...retried, params: true });
    }
    if (err instanceof Error && err.message === 'timeout exceeded when trying to connect') {
      telemetry.acquireTimedOut();
      throw new PoolExhaustedError('timeout', { cause: err });
    }
    telemetry.counters.connectionErrors += 1;
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

/**
 * Checks a client out, runs `fn`, and gives the client back on every path. The client is destroyed
 * instead of reused only when its connection failed; a SQL error keeps a healthy connection.
 */
export async function withClient<T>(fn: (client: pg.PoolClient, st: PoolState) => Promise<T>, st: PoolState = currentState()): Promise<T> {
  const client = await acquire(st);
  const heldSince = performance.now();
  let broken: Error | undefined;
  // While checked out, the pool's own error listener is detached: without this one, a connection
  // that dies between queries would crash the process.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  st.held.add(client);
  const leakTimer = watchForLeak(st);
  try {
    return await fn(client, st);
  } catch (err) {
    if (isConnectionLevelError(err)) broken ??= err as Error;
    throw toTypedDbError(err);
  } finally {
    clearTimeout(leakTimer);
    client.off('error', onError);
    st.held.delete(client);
    client.release(broken ?? discarded.has(client));
    st.telemetry.used(performance.now() - heldSince);
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
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([st.pool.end().then(() => 'ended' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    getLogger().warn({ pool: st.name, in_use: st.held.size }, `pool did not close within ${timeoutMs} ms; ending its checked-out clients`);
    await Promise.allSettled([...st.held].map((client) => client.end()));
  }
}

/** True once the server (a pooler) refused the session settings as start-up parameters: see applySessionSettingsToRole(). */
export function startupSettingsRefused(): boolean {
  return state?.noStartupSettings ?? false;
}

/** The pool's numbers (API.md §2). Does not build the pool. */
export function poolStats(): PoolStats {
  return statsOf(state?.db ?? getConfig().db, state?.pool);
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
