import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { getConfig, type DbConfig } from '../config/config';
import { getLogger } from '../logging/logger';
import { resolveConnectionTarget, type ConnectionTarget } from './connection-options';
import { DatabaseUnavailableError, PoolExhaustedError, isConnectionLevelError, isReadOnlyRefusal, toTypedDbError } from './db-errors';
import { connectToFittingHost, needsWritable, type ConnectedServer } from './host-walk';
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
  /** prefer: the hosts that refused TLS; later clients connect to them in plain. */
  readonly plainHosts: Set<string>;
  /** The server the pool's newest connection reached, when it last changed, and how often it has. */
  readonly host: HostState;
  /** Set once the server (a pooler) has refused the session settings as start-up parameters; later clients send none. */
  noStartupSettings: boolean;
}

export interface HostState {
  current: ConnectedServer | undefined;
  switchedAt: Date | undefined;
  switches: number;
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
const SERVER = Symbol('server');

/** A client of ours, with the server its walk reached. */
type WalkedClient = pg.Client & { [SERVER]?: ConnectedServer };
const serverOf = (client: pg.Client): ConnectedServer | undefined => (client as WalkedClient)[SERVER];

const listeners = new Set<TelemetryListener>();
/** Clients whose state is unknown (a failed ROLLBACK): destroyed instead of reused. */
const discarded = new WeakSet<pg.PoolClient>();
let state: PoolState | undefined;

/**
 * A pool for the server at `url` (the primary's DATABASE_URL when omitted), with the DB_POOL_* settings.
 * Replica pools are built by replicas.ts with their own name and URL.
 */
export function buildPool(db: DbConfig, name = db.applicationName, url = db.url, serves: 'writes' | 'reads' = 'writes'): PoolState {
  const target = resolveConnectionTarget({ ...db, url }, serves);
  const telemetry = new PoolTelemetry(name, listeners);
  const log = getLogger();
  const partial = { noStartupSettings: false, plainHosts: new Set<string>(), host: { current: undefined, switchedAt: undefined, switches: 0 } as HostState };
  // plan_cache_mode travels in `options`, after the user's own.
  const planCacheMode = db.planCacheMode === 'auto' ? undefined : `-c plan_cache_mode=${db.planCacheMode}`;
  const options = [target.options, planCacheMode].filter(Boolean).join(' ') || undefined;
  if (target.targetSessionAttrsImplied) {
    log.info({ pool: name, hosts: target.hosts.length }, 'DATABASE_URL lists several hosts and no target_session_attrs: taking read-write (the pool serves writes)');
  }

  // pg-pool hands every client the pool's options, where connectionTimeoutMillis is the acquire
  // timeout; one connection attempt (one host) has its own, shorter budget. connect() walks the hosts.
  class PooledClient extends pg.Client {
    readonly [CREATED_AT] = performance.now();
    [SERVER]: ConnectedServer | undefined;
    constructor(options: pg.ClientConfig = {}) {
      super({
        ...options,
        password: options.password,
        connectionTimeoutMillis: db.connectTimeoutMs,
        // A pooler that refused them once (see acquire) gets none: it would refuse every connection.
        ...(partial.noStartupSettings ? { statement_timeout: undefined, idle_in_transaction_session_timeout: undefined, options: target.options } : {}),
      });
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): Promise<pg.Client> | void {
      const walked = connectToFittingHost(this, {
        target,
        plainHosts: partial.plainHosts,
        onPlainFallback: (key) => log.info({ pool: name, host: key }, 'database server has no TLS; DB_SSLMODE=prefer falls back to a plain connection'),
        isFatal: isStartupParameterRefused,
        deadline: Date.now() + db.acquireTimeoutMs,
      }).then((server) => {
        this[SERVER] = server;
        watchRole(st, this, server);
        return this;
      });
      if (!callback) return walked;
      // pg-pool passes one callback for both outcomes.
      const done = callback as (err: Error | null, c?: pg.Client) => void;
      walked.then(
        (client) => done(null, client),
        (err: Error) => done(err),
      );
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
    noteServer(st, serverOf(client));
    const createdAt = (client as unknown as { [CREATED_AT]?: number })[CREATED_AT];
    telemetry.connectionCreated(createdAt === undefined ? 0 : performance.now() - createdAt);
    log.debug({ total: pool.totalCount }, 'database connection opened');
  });
  pool.on('remove', () => {
    telemetry.connectionDestroyed();
    log.debug({ total: pool.totalCount }, 'database connection closed');
  });

  const st: PoolState = Object.assign(partial, { name, pool, db, target, telemetry, held: new Set<pg.PoolClient>() });
  return st;
}

/** The pool's newest connection reached `server`: a change of host is a switch (a failover, or a host back). */
function noteServer(st: PoolState, server: ConnectedServer | undefined): void {
  if (!server) return;
  const previous = st.host.current;
  st.host.current = server;
  if (previous === undefined || previous.key === server.key) return;
  st.host.switches += 1;
  st.host.switchedAt = new Date();
  st.telemetry.hostSwitched();
  getLogger().warn({ pool: st.name, from: previous.key, to: server.key, role: server.role }, `database host switched from ${previous.key} to ${server.key}`);
}

/**
 * A server that turns read-only under a pool that needs writes (default_transaction_read_only set
 * and reloaded, or a standby reporting in): PostgreSQL 14+ reports the change on the connection.
 */
function watchRole(st: PoolState, client: pg.Client, server: ConnectedServer): void {
  if (!needsWritable(st.target.targetSessionAttrs)) return;
  (client as unknown as { connection: pg.Connection }).connection.on('parameterStatus', (msg: { parameterName: string; parameterValue: string }) => {
    if ((msg.parameterName === 'in_hot_standby' || msg.parameterName === 'default_transaction_read_only') && msg.parameterValue === 'on') {
      retireHost(st, server.key, `${msg.parameterName} turned on`);
    }
  });
}

// pg-pool keeps no public way to close idle clients or to mark busy ones for closing. These are the
// fields its maxLifetimeSeconds uses for the same purpose (pg-pool 3.x index.js): _idle, _expired,
// _remove. Re-check them when upgrading pg (docs/data-layer.md).
interface PoolInternals {
  _idle: { client: pg.PoolClient }[];
  _clients: pg.PoolClient[];
  _expired: WeakSet<pg.PoolClient>;
  _remove(client: pg.PoolClient): void;
}

/**
 * Leaves a host that no longer takes writes: its idle clients are closed now, its busy ones when
 * released, so that the next connection walks the hosts again.
 */
export function retireHost(st: PoolState, key: string, reason: string): void {
  const pool = st.pool as unknown as PoolInternals;
  const onHost = pool._clients.filter((c) => serverOf(c)?.key === key);
  if (onHost.length === 0) return;
  const idle = new Set(pool._idle.map((item) => item.client));
  for (const client of onHost) {
    if (idle.has(client)) pool._remove(client);
    else pool._expired.add(client);
  }
  getLogger().warn({ pool: st.name, host: key, reason, clients: onHost.length }, `database host ${key} no longer takes writes (${reason}): its connections are retired`);
}

/** Where the pool is connected now, for health: host, its role, when it last switched. */
export function hostStatsOf(st: PoolState | undefined): { host: string | null; host_role: ConnectedServer['role'] | null; host_switched_at: string | null; host_switches: number } {
  const h = st?.host;
  return { host: h?.current?.key ?? null, host_role: h?.current?.role ?? null, host_switched_at: h?.switchedAt?.toISOString() ?? null, host_switches: h?.switches ?? 0 };
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

/**
 * PgBouncer refuses start-up parameters it does not know (unless `ignore_startup_parameters` lists them);
 * a server older than PostgreSQL 12 does not know plan_cache_mode.
 */
const isStartupParameterRefused = (err: unknown): boolean =>
  err instanceof Error && (/unsupported startup parameter/i.test(err.message) || /unrecognized configuration parameter "plan_cache_mode"/.test(err.message));

async function acquire(st: PoolState, retried: { params?: boolean } = {}): Promise<pg.PoolClient> {
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
    // SQLSTATE 25006 on a pool that writes: the server has turned read-only (a standby now, or
    // default_transaction_read_only). This client goes, and so do the others on that host.
    if (isReadOnlyRefusal(err)) {
      broken ??= err as Error;
      const server = serverOf(client);
      if (server) retireHost(st, server.key, 'it refused a write as read-only (SQLSTATE 25006)');
    }
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

/** Where the primary pool is connected (null before it is built). */
export function primaryHostStats(): ReturnType<typeof hostStatsOf> {
  return hostStatsOf(state);
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
