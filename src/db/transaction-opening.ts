import pg from 'pg';
import { queryBase, queryInternals, type Wire } from './pg-internals';
import type { TransactionActor } from './query';

/**
 * A transaction's BEGIN (and its actor's settings) travels with its first statement, in one write and
 * one round trip, as PgJDBC does: `Parse/Bind/Execute BEGIN`, `Parse/Bind/Execute set_config(…)`, then
 * the statement's own messages and its Sync. Waiting for BEGIN's answer on its own costs every
 * transaction a round trip (a third of a one-statement write's time on a busy machine). The server runs
 * them in order and stops at the first error until the Sync, so a failed BEGIN runs nothing after it.
 */

/**
 * The actor's settings as text: an empty setting reads as none (migration 007's history_actor_id(),
 * migration 012's default of history.actor_key_id).
 */
const actorValues = (actor: TransactionActor): [string, string, string] => [actor.userId === null ? '' : String(actor.userId), actor.requestId ?? '', actor.keyId ?? ''];

const setActor = (userId: string, requestId: string, keyId: string): string =>
  `SELECT set_config('app.actor_id', ${userId}, true), set_config('app.request_id', ${requestId}, true), set_config('app.actor_key_id', ${keyId}, true)`;
const SET_ACTOR = setActor('$1', '$2', '$3');

/** The same opening as one simple query (its values as literals), for a first use that cannot carry it (see openLazily). */
function openingText(client: pg.ClientBase, actor: TransactionActor | undefined): string {
  if (actor === undefined) return 'BEGIN';
  const [userId, requestId, keyId] = actorValues(actor).map((v) => client.escapeLiteral(v)) as [string, string, string];
  return `BEGIN; ${setActor(userId, requestId, keyId)}`;
}


/** The first statement of a transaction, with BEGIN and the actor's settings in front of it. */
class OpeningQuery extends pg.Query {
  // The opening statements' answers (their rows and CommandComplete) are not the caller's.
  private unanswered: number;

  constructor(
    config: pg.QueryConfig,
    private readonly actor: TransactionActor | undefined,
  ) {
    super(config);
    this.unanswered = actor === undefined ? 1 : 2;
  }

  prepare(connection: Wire): void {
    connection.parse({ text: 'BEGIN' });
    connection.bind({});
    connection.execute({});
    if (this.actor !== undefined) {
      connection.parse({ text: SET_ACTOR });
      connection.bind({ values: actorValues(this.actor) });
      connection.execute({});
    }
    queryBase.prepare.call(this, connection);
  }

  handleDataRow(msg: unknown): void {
    if (this.unanswered === 0) queryBase.handleDataRow.call(this, msg);
  }

  handleCommandComplete(msg: unknown, connection: unknown): void {
    if (this.unanswered > 0) this.unanswered -= 1;
    else queryBase.handleCommandComplete.call(this, msg, connection);
  }
}

interface Pending {
  readonly actor: TransactionActor | undefined;
  opened: boolean;
}
const pending = new WeakMap<pg.ClientBase, Pending>();

export interface Opening {
  /** Whether BEGIN has been sent (a transaction that ran no statement has nothing to COMMIT). */
  readonly opened: boolean;
  /** Stops waiting for a first statement; call before the client goes back to the pool. */
  close(): void;
}

/**
 * Makes `client`'s next statement open the transaction. sendOnClient() puts BEGIN in front of a
 * statement sent with the extended protocol; any other first use of the client (tx.query with SQL text
 * alone, a COPY or a cursor on it) gets BEGIN as a message of its own, queued before it.
 */
export function openLazily(client: pg.ClientBase, actor: TransactionActor | undefined): Opening {
  if (actor !== undefined && actor.userId !== null && !Number.isSafeInteger(actor.userId)) {
    throw new TypeError(`withTransaction: actor.userId must be an integer or null, got ${actor.userId}`);
  }
  const state: Pending = { actor, opened: false };
  pending.set(client, state);
  const own = client as { query: pg.ClientBase['query'] };
  own.query = function firstQuery(...args: unknown[]) {
    settle(client, state);
    // Its failure is the next statement's too (the connection, or the transaction, is gone).
    client.query(openingText(client, actor)).catch(() => undefined);
    return (client.query as (...a: unknown[]) => unknown).apply(client, args);
  } as pg.ClientBase['query'];
  return {
    get opened() {
      return state.opened;
    },
    close: () => {
      if (pending.get(client) === state) forget(client);
    },
  };
}

function settle(client: pg.ClientBase, state: Pending): void {
  forget(client);
  state.opened = true;
}

/**
 * No BEGIN pending on `client` any more, and its own query() back. Assigned rather than deleted: a
 * delete would turn the client into a slow-mode object for the rest of its life, and node-postgres
 * reads its fields on every message.
 */
function forget(client: pg.ClientBase): void {
  pending.delete(client);
  (client as { query: unknown }).query = (Object.getPrototypeOf(client) as { query: unknown }).query;
}

/**
 * Sends a statement on `client`: after openLazily(), the first one carries the transaction's BEGIN.
 * The data layer's helpers send every statement through here.
 */
export function sendOnClient<T extends pg.QueryResultRow>(client: pg.ClientBase, config: pg.QueryConfig & { query_timeout?: number }): Promise<pg.QueryResult<T>> {
  const state = pending.get(client);
  if (state === undefined) return client.query<T>(config);
  const query = new OpeningQuery(config, state.actor);
  // SQL text alone goes by the simple protocol, which cannot follow unsynced messages: openLazily's
  // stand-in sends BEGIN on its own first.
  if (!queryInternals(query).requiresPreparation()) return client.query<T>(config);
  settle(client, state);
  return new Promise((resolve, reject) => {
    queryInternals(query).callback = (err, result) => (err ? reject(err) : resolve(result as pg.QueryResult<T>));
    // node-postgres reads a per-statement wait from the query object.
    if (config.query_timeout !== undefined) queryInternals(query).query_timeout = config.query_timeout;
    client.query(query);
  });
}
