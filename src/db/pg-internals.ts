import pg from 'pg';

/**
 * Every node-postgres internal this layer relies on, and only here: the fields and methods of pg 8.x
 * (client.js, query.js, connection.js) and pg-pool 3.x (index.js) that their types do not declare.
 * test/unit/db/pg-internals.test.ts checks each against the installed pg, so an upgrade that renames
 * one fails a named test instead of changing behaviour in silence. docs/data-layer.md says why each.
 */

/** The socket-level connection of a client (pg's Connection), with the keepalive settings the pool gave it. */
type ClientConnection = pg.Connection & { stream: { destroyed: boolean; destroy(): void }; _keepAlive: boolean; _keepAliveInitialDelayMillis: number };

interface ClientInternals {
  connection: ClientConnection;
  connectionParameters: { host: string; port: number; ssl: unknown };
  host: string;
  port: number;
  ssl: unknown;
  _connectionTimeoutMillis: number;
  _connecting: boolean;
  _connected: boolean;
  _connectionError: boolean;
  _ending: boolean;
  _ended: boolean;
  _queryable: boolean;
}

/** The names the test checks on a new pg.Client. */
export const CLIENT_FIELDS = ['connection', 'connectionParameters', 'host', 'port', 'ssl', '_connectionTimeoutMillis', '_connecting', '_connected', '_connectionError', '_ending', '_ended', '_queryable'] as const;
export const CONNECTION_FIELDS = ['stream', '_keepAlive', '_keepAliveInitialDelayMillis'] as const;

const clientInternals = (client: pg.ClientBase): ClientInternals => client as unknown as ClientInternals;

/** The client's connection (its socket, and the messages the server sends on it). */
const connectionOf = (client: pg.ClientBase): ClientConnection => clientInternals(client).connection;

/** Calls `listener` for each ParameterStatus the server sends on this client's connection (a setting it reports). */
export function onParameterStatus(client: pg.ClientBase, listener: (name: string, value: string) => void): void {
  connectionOf(client).on('parameterStatus', (msg: { parameterName: string; parameterValue: string }) => listener(msg.parameterName, msg.parameterValue));
}

/** Closes the client's socket now: what it runs stops, the server sees the connection go. */
export function destroySocket(client: pg.ClientBase): void {
  connectionOf(client).stream.destroy();
}

/** Closes the socket of an attempt that will not be used; the client stays unconnected. */
export function abandonAttempt(client: pg.ClientBase): void {
  const old = connectionOf(client);
  old.removeAllListeners();
  // A late socket error on the abandoned connection must not reach anyone.
  old.on('error', () => undefined);
  if (!old.stream.destroyed) old.stream.destroy();
}

/**
 * A pg Client connects once. For another attempt (another host, TLS or not) it gets a fresh Connection,
 * with the pool's keepalive settings, and the flags its _connect() checks are reset.
 */
export function resetForAttempt(client: pg.ClientBase, to: { host?: string; port?: number; ssl: unknown; timeoutMs: number }): ClientConnection {
  const c = clientInternals(client);
  const { _keepAlive: keepAlive, _keepAliveInitialDelayMillis: keepAliveInitialDelayMillis } = c.connection;
  abandonAttempt(client);
  if (to.host !== undefined && to.port !== undefined) {
    c.host = c.connectionParameters.host = to.host;
    c.port = c.connectionParameters.port = to.port;
  }
  c.ssl = c.connectionParameters.ssl = to.ssl;
  c.connection = new pg.Connection({ ssl: to.ssl as pg.ConnectionConfig['ssl'], keepAlive, keepAliveInitialDelayMillis }) as ClientConnection;
  c._connectionTimeoutMillis = to.timeoutMs;
  c._connecting = c._connected = c._connectionError = c._ending = c._ended = false;
  c._queryable = true;
  return c.connection;
}

// pg-pool keeps no public way to close idle clients or to mark busy ones for closing. These are the
// fields its maxLifetimeSeconds uses for the same purpose: _idle, _expired, _remove; and `ending`.
interface PoolInternals {
  _idle: { client: pg.PoolClient }[];
  _clients: pg.PoolClient[];
  _expired: WeakSet<pg.PoolClient>;
  _remove(client: pg.PoolClient): void;
  ending: boolean;
}

export const POOL_FIELDS = ['_idle', '_clients', '_expired', '_remove', 'ending'] as const;

const poolInternals = (pool: pg.Pool): PoolInternals => pool as unknown as PoolInternals;

/** True once pool.end() was called. */
export const poolIsEnding = (pool: pg.Pool): boolean => poolInternals(pool).ending;

/** Every client the pool holds, idle or busy. */
export const clientsOf = (pool: pg.Pool): readonly pg.PoolClient[] => poolInternals(pool)._clients;

/** Closes these clients of the pool: idle ones now, busy ones when released. */
export function retireClients(pool: pg.Pool, clients: readonly pg.PoolClient[]): void {
  const p = poolInternals(pool);
  const idle = new Set(p._idle.map((item) => item.client));
  for (const client of clients) {
    if (idle.has(client)) p._remove(client);
    else p._expired.add(client);
  }
}

/**
 * node-postgres arms its client-side read timeout on any submitted object from its `query_timeout`
 * field, and clears it only through the object's `callback` (client.js, query()). A COPY stream or a
 * cursor has no callback of its own: submitWithReadTimeout() sets the field, settleSubmitted() calls the
 * callback node-postgres put there once the statement has ended.
 */
export const READ_TIMEOUT_SOURCE = { file: 'pg/lib/client.js', texts: ['config.query_timeout', 'clearTimeout(readTimeoutTimer)'] } as const;

/** Sends `submittable` (a cursor, a COPY stream) on `client` with a read timeout of `timeoutMs`. */
export function submitWithReadTimeout<Q extends object>(client: pg.ClientBase, submittable: Q, timeoutMs: number): Q {
  Object.assign(submittable, { query_timeout: timeoutMs });
  void client.query(submittable as never);
  return submittable;
}

/** Clears the read timeout of a submitted cursor or COPY stream that has ended. */
export const settleSubmitted = (submittable: object): void => (submittable as { callback?: (err: null) => void }).callback?.(null);

/** node-postgres' Query, with the parts it has but its types do not declare (a subclass overrides them). */
interface QueryInternals {
  prepare(connection: unknown): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, connection: unknown): void;
  requiresPreparation(): boolean;
  callback: (err: Error | undefined, result: pg.QueryResult) => void;
  /** A per-statement wait, read from the query object. */
  query_timeout?: number;
}
export const QUERY_METHODS = ['prepare', 'handleDataRow', 'handleCommandComplete', 'requiresPreparation'] as const;

/** pg.Query's own methods, for a subclass to call. */
export const queryBase = pg.Query.prototype as unknown as QueryInternals;
export const queryInternals = (query: pg.Query): QueryInternals => query as unknown as QueryInternals;

/** The extended-protocol messages a Query's prepare() writes on the connection. */
export interface Wire {
  parse(msg: { text: string }): void;
  bind(msg: { values?: unknown[] }): void;
  execute(msg: Record<string, never>): void;
}
export const WIRE_METHODS = ['parse', 'bind', 'execute'] as const;

/**
 * node-postgres reports some failures with plain Errors that carry no code: known only by their text.
 * Each text is checked against the installed pg and pg-pool sources by the test, where it is written.
 */
export const PG_ERROR_TEXTS = {
  /** client.js: the connection ended under the client (a restart, a dropped socket). */
  terminated: { text: 'Connection terminated', source: 'pg/lib/client.js' },
  /** client.js: query_timeout passed with no answer. */
  readTimeout: { text: 'Query read timeout', source: 'pg/lib/client.js' },
  /** client.js: a statement sent on a client that had already failed (nothing was sent). */
  notQueryable: { text: 'is not queryable', source: 'pg/lib/client.js' },
  /** client.js: connectionTimeoutMillis passed while connecting. */
  connectTimeout: { text: 'timeout expired', source: 'pg/lib/client.js' },
  /** connection.js: sslmode asked for TLS and the server has none. */
  noTls: { text: 'The server does not support SSL connections', source: 'pg/lib/connection.js' },
  /** pg-pool: connectionTimeoutMillis passed while a new client connected. */
  poolConnectTimeout: { text: 'Connection terminated due to connection timeout', source: 'pg-pool/index.js' },
  /** pg-pool: connectionTimeoutMillis passed while waiting for a client. */
  acquireTimeout: { text: 'timeout exceeded when trying to connect', source: 'pg-pool/index.js' },
} as const;

type PgErrorText = keyof typeof PG_ERROR_TEXTS;

/** Whether `err` (not its causes) is the code-less pg error `which`. */
export const isPgError = (err: unknown, which: PgErrorText): boolean => err instanceof Error && err.message.includes(PG_ERROR_TEXTS[which].text);
