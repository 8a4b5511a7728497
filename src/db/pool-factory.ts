import { refreshDbTracer } from './db-tracing';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { DbConfig } from '../config/config';
import { getLogger } from '../logging/logger';
import { resolveConnectionTarget, type ConnectionTarget } from './connection-options';
import { isStartupParameterRefused } from './db-errors';
import { clientsOf, onParameterStatus, poolIsEnding, retireClients } from './pg-internals';
import type { HostPort } from '../config/database-url';
import { HostMemory, type HostStatus } from './host-memory';
import { connectToFittingHost, hostKeyOf, needsWritable, type ConnectedServer, type WalkContext } from './host-walk';
import { PoolTelemetry, type TelemetryListener } from './pool-telemetry';

// Building a pool: its clients (which walk the hosts), its events, and where it is connected.
// Checking clients out and in is pool.ts's.

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
  /** Each host's state (up, down, unknown): down hosts are tried last and probed again. */
  readonly hosts: HostMemory;
  /** Stops probing down hosts and ends a probe under way: called when the pool ends. */
  readonly stopProbes: () => Promise<void>;
  /** Set once the server (a pooler) has refused the session settings as start-up parameters; later clients send none. */
  noStartupSettings: boolean;
}

/** Where the pool's newest connection went, and when that last changed (how often: telemetry.counters.hostSwitches). */
interface HostState {
  current: ConnectedServer | undefined;
  switchedAt: Date | undefined;
}

// The client gives up this long after the server's statement_timeout should have fired.
export const CLIENT_TIMEOUT_MARGIN_MS = 2000;
const JIT_OFF = '-c jit=off';
const CREATED_AT = Symbol('createdAt');
const SERVER = Symbol('server');

/** A client of ours, with the server its walk reached. */
type WalkedClient = pg.Client & { [SERVER]?: ConnectedServer };
/** The server a pooled client reached (undefined for a client not yet connected). */
export const serverOf = (client: pg.Client): ConnectedServer | undefined => (client as WalkedClient)[SERVER];

const listeners = new Set<TelemetryListener>();

/** Subscribes to pool events (acquire and use times, timeouts); kept across pool rebuilds. */
export function addTelemetryListener(listener: TelemetryListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * A pool for the server at `url` (the primary's DATABASE_URL when omitted), with the DB_POOL_* settings.
 * Replica pools are built by replicas.ts with their own name and URL.
 */
export function buildPool(db: DbConfig, name = db.applicationName, url = db.url, serves: 'writes' | 'reads' = 'writes'): PoolState {
  const target = resolveConnectionTarget({ ...db, url }, serves);
  const telemetry = new PoolTelemetry(name, listeners);
  // A tracer provider registered since the last pool was built (a library user's SDK) is used from now on.
  refreshDbTracer();
  const log = getLogger();
  const partial = { noStartupSettings: false, plainHosts: new Set<string>(), host: { current: undefined, switchedAt: undefined } as HostState };
  // plan_cache_mode travels in `options`, after the user's own. jit=off goes before them (a user's
  // `-c jit=on` wins): JIT compiles a statement whose estimated cost passes jit_above_cost, and the page
  // statement's estimate can (11.9 M for status + city at a million rows, its branches summed), which
  // cost 625 ms of compiling for a statement that runs in 0.4 ms.
  const planCacheMode = db.planCacheMode === 'auto' ? undefined : `-c plan_cache_mode=${db.planCacheMode}`;
  const options = [JIT_OFF, target.options, planCacheMode].filter(Boolean).join(' ') || undefined;
  const hostKeys = target.hosts.length === 0 ? [hostKeyOf(undefined)] : target.hosts.map(hostKeyOf);
  const hosts = new HostMemory(hostKeys, db.hostRecheckMs, (key, state, reason) => {
    if (state === 'down') {
      log.warn({ pool: name, host: key, reason, recheckInS: db.hostRecheckMs / 1000 }, `database host ${key} is down (${reason}): tried last until it answers again`);
    } else {
      log.warn({ pool: name, host: key }, `database host ${key} is back`);
    }
  });
  // A probe (of one host, whatever its role) or a connection for the pool (the whole walk).
  const walkContext = (probing?: { host: HostPort | undefined }): WalkContext => ({
    target: probing ? { ...target, hosts: probing.host ? [probing.host] : [], loadBalanceHosts: false, targetSessionAttrs: 'any' } : target,
    plainHosts: partial.plainHosts,
    onPlainFallback: (key) => log.info({ pool: name, host: key }, 'database server has no TLS; DB_SSLMODE=prefer falls back to a plain connection'),
    isFatal: isStartupParameterRefused,
    deadline: Date.now() + (probing ? db.connectTimeoutMs : db.acquireTimeoutMs),
    connectTimeoutMs: db.connectTimeoutMs,
    memory: hosts,
  });
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
      probeDueHosts();
      const walked = connectToFittingHost(this, walkContext()).then((server) => {
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

  // A down host is probed again by a connection of the pool's own, one per DB_HOST_RECHECK_S, so that
  // no request waits on a host that may still not answer (the pool's next new connection starts the
  // probe, and a timer makes sure it happens when the pool opens none). A single host is probed too:
  // its state (health, db_pool_host_up) must not stay down while the pool's idle clients serve.
  const probes = new Set<pg.Client>();
  const probe = (key: string): void => {
    const host = target.hosts.find((h) => hostKeyOf(h) === key);
    if (target.hosts.length > 0 && !host) return;
    const client = new PooledClient(pool.options);
    probes.add(client);
    // Outside the pool, nothing else listens: a late socket error must not crash the process.
    client.on('error', () => undefined);
    connectToFittingHost(client, walkContext({ host }))
      .then(
        () => client.end(),
        () => undefined,
      )
      .catch(() => undefined)
      .finally(() => probes.delete(client));
  };
  const probeDueHosts = (): void => {
    if (poolIsEnding(pool)) return;
    for (const key of hosts.takeDue()) probe(key);
  };
  const recheckTimer = setInterval(probeDueHosts, Math.min(db.hostRecheckMs, 60_000));
  recheckTimer.unref();
  const stopProbes = async (): Promise<void> => {
    clearInterval(recheckTimer);
    await Promise.allSettled([...probes].map((client) => client.end()));
  };

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
    telemetry.connectionFailed();
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

  const st: PoolState = Object.assign(partial, { name, pool, db, target, telemetry, hosts, stopProbes, held: new Set<pg.PoolClient>() });
  return st;
}

/** The pool's newest connection reached `server`: a change of host is a switch (a failover, or a host back). */
function noteServer(st: PoolState, server: ConnectedServer | undefined): void {
  if (!server) return;
  const previous = st.host.current;
  st.host.current = server;
  if (previous === undefined || previous.key === server.key) return;
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
  onParameterStatus(client, (name, value) => {
    if ((name === 'in_hot_standby' || name === 'default_transaction_read_only') && value === 'on') retireHost(st, server.key, `${name} turned on`);
  });
}

/**
 * Leaves a host that no longer takes writes: its idle clients are closed now, its busy ones when
 * released, so that the next connection walks the hosts again.
 */
export function retireHost(st: PoolState, key: string, reason: string): void {
  const onHost = clientsOf(st.pool).filter((c) => serverOf(c)?.key === key);
  if (onHost.length === 0) return;
  retireClients(st.pool, onHost);
  getLogger().warn({ pool: st.name, host: key, reason, clients: onHost.length }, `database host ${key} no longer takes writes (${reason}): its connections are retired`);
}

/** Where the pool is connected now, for health: host, its role, when it last switched. */
export function hostStatsOf(st: PoolState | undefined): {
  host: string | null;
  host_role: ConnectedServer['role'] | null;
  host_switched_at: string | null;
  host_switches: number;
  hosts: HostStatus[];
} {
  const h = st?.host;
  return {
    host: h?.current?.key ?? null,
    host_role: h?.current?.role ?? null,
    host_switched_at: h?.switchedAt?.toISOString() ?? null,
    host_switches: st?.telemetry.counters.hostSwitches ?? 0,
    hosts: st?.hosts.list() ?? [],
  };
}
