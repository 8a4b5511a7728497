import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { context, trace, type Attributes } from '@opentelemetry/api';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { from as copyFromStdin, to as copyToStdout } from 'pg-copy-streams';
import { getDbConfig } from '../config/config';
import { DatabaseUnavailableError, PoolExhaustedError, toTypedDbError } from './db-errors';
import { DB_ATTR, endDbSpan, startDbSpan, tracedContext } from './db-tracing';
import { destroySocket, settleSubmitted, submitWithReadTimeout } from './pg-internals';
import { discardOnRelease, lease, type Lease } from './pool';
import { CLIENT_TIMEOUT_MARGIN_MS } from './pool-factory';
import { pickReplica, replicaFailed } from './replicas';
import { READ_REPLICA, type DbClient } from './query';

/**
 * Statements that hold a client for long: a query read in batches, COPY … TO STDOUT and COPY … FROM
 * STDIN. Each runs in its own transaction (one snapshot; behind a transaction-mode pooler, one server
 * connection) with its own time limit instead of DB_STATEMENT_TIMEOUT_MS, and gives its client back on
 * every path: the end, an error, the consumer stopping early, an abort. A stream stopped before its end
 * closes its connection (the statement stops there and then; the client is destroyed, not reused).
 */
export interface LongStatementOptions {
  /**
   * The longest the whole statement may run, in milliseconds, on the server (statement_timeout and
   * idle_in_transaction_session_timeout for its transaction) and in this process. Default
   * DB_STATEMENT_TIMEOUT_MS (0 there: none).
   */
  readonly timeoutMs?: number;
  /** Stops it: the connection is closed and the stream or iterator fails with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Settings for its transaction alone (SET LOCAL), such as `{ enable_sort: 'off' }` to stream in an index's order. */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface ReadStatementOptions extends LongStatementOptions {
  /** READ_REPLICA: on a healthy read replica when there is one (as the other reads), else the primary. */
  readonly db?: typeof READ_REPLICA;
}

/** A query's parameters written into its text as quoted literals: COPY takes no bind parameters. */
export function inlineParams(text: string, params: readonly unknown[] = []): string {
  return text.replace(/\$(\d+)\b/g, (whole, n: string) => {
    const value = params[Number(n) - 1];
    if (Number(n) > params.length) throw new RangeError(`inlineParams: no value for ${whole}`);
    if (value === null || value === undefined) return 'NULL';
    if (typeof value === 'number' || typeof value === 'bigint') return String(value);
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
    if (typeof value === 'string') return pg.escapeLiteral(value);
    throw new TypeError(`inlineParams: ${whole} must be a string, number, boolean, Date or null`);
  });
}

const timeoutOf = (options: LongStatementOptions): number => options.timeoutMs ?? getDbConfig().statementTimeoutMs;

/** A client for a long read: a healthy replica's when asked and there is one (its trouble sends it to the primary). */
async function leaseFor(options: ReadStatementOptions): Promise<Lease> {
  const replica = options.db === READ_REPLICA ? pickReplica() : undefined;
  if (replica) {
    try {
      return await lease(replica);
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) replicaFailed(replica, err);
      else if (!(err instanceof PoolExhaustedError)) throw err;
    }
  }
  return lease();
}

const SETTING_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

/** SET LOCAL of a long statement's limits (statement_timeout, idle_in_transaction_session_timeout) and settings. */
function limitsSql(options: LongStatementOptions): string {
  const ms = Math.max(0, Math.floor(timeoutOf(options)));
  const settings = Object.entries(options.settings ?? {}).map(([name, value]) => {
    if (!SETTING_NAME.test(name)) throw new TypeError(`settings: ${JSON.stringify(name)} is not a setting's name`);
    return `SET LOCAL ${name} = ${pg.escapeLiteral(value)}; `;
  });
  return `SET LOCAL statement_timeout = ${ms}; SET LOCAL idle_in_transaction_session_timeout = ${ms}; ${settings.join('')}`;
}

/**
 * Gives the rest of a transaction (a withTransaction client) a long statement's limits and settings
 * instead of DB_STATEMENT_TIMEOUT_MS: transaction-local, so they end with it, behind a pooler too.
 */
export async function setStatementLimits(tx: DbClient, options: LongStatementOptions): Promise<void> {
  await tx.query(limitsSql(options));
}

/** BEGIN with the statement's own limits and settings, in one round trip. */
async function begin(client: DbClient, options: LongStatementOptions, readOnly: boolean): Promise<void> {
  await client.query(`BEGIN${readOnly ? ' ISOLATION LEVEL REPEATABLE READ READ ONLY' : ''}; ${limitsSql(options)}`);
}

/** Closes the client's connection now: what it runs stops (the server sees the socket go), and it is destroyed at release. */
function closeConnection(client: DbClient): void {
  discardOnRelease(client);
  destroySocket(client);
}

/**
 * Watches the time limit and the caller's signal while `held` runs; either closes the connection.
 * Returns what stops watching.
 */
function guard(held: Lease, options: LongStatementOptions, onStop: (reason: Error) => void): () => void {
  const timeoutMs = timeoutOf(options);
  const stop = (reason: Error): void => {
    onStop(reason);
    closeConnection(held.client);
  };
  const timer = timeoutMs > 0 ? setTimeout(() => stop(new DatabaseUnavailableError('the statement ran past its time limit', undefined, 'query')), timeoutMs + CLIENT_TIMEOUT_MARGIN_MS) : undefined;
  timer?.unref();
  const onAbort = (): void => stop(options.signal!.reason instanceof Error ? options.signal!.reason : new Error('aborted'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  };
}

/**
 * A COPY or cursor gets the statement's own limit as its client-side read timeout (none: the longest
 * timer there is), cleared when it ends (settleSubmitted).
 */
const submit = <Q extends object>(client: DbClient, query: Q, timeoutMs: number): Q =>
  submitWithReadTimeout(client, query, timeoutMs > 0 ? timeoutMs + CLIENT_TIMEOUT_MARGIN_MS : 2 ** 31 - 1);

async function finish(held: Lease, failure: unknown): Promise<void> {
  if (failure === undefined) {
    try {
      await held.client.query('COMMIT');
    } catch (err) {
      held.release(err);
      throw toTypedDbError(err);
    }
    held.release();
    return;
  }
  await held.client.query('ROLLBACK').catch(() => discardOnRelease(held.client));
  held.release(failure);
}

/**
 * The span of a long statement (a COPY) when traced: `run` runs the work in it (its pool wait and
 * statements become its children), `end` ends it. Untraced, both only run and return.
 */
function streamSpan(name: string, text: string): { run: <T>(work: () => Promise<T>) => Promise<T>; end: (failure: unknown, attributes?: Attributes) => void } & { readonly on: boolean } {
  const parent = tracedContext();
  if (!parent) return { on: false, run: (work) => work(), end: () => undefined };
  // The text as written, with its $n: never the parameters inlined into it.
  const span = startDbSpan(name, parent, { [DB_ATTR.operation]: 'COPY', [DB_ATTR.queryText]: text });
  const ctx = trace.setSpan(parent, span);
  return {
    on: true,
    run: (work) => context.with(ctx, work),
    end: (failure, attributes = {}) => {
      span.setAttributes(attributes);
      endDbSpan(span, failure);
    },
  };
}

/**
 * A query's rows, `batchSize` at a time (a cursor on one snapshot): memory holds one batch whatever the
 * result's size. Stopping early (break, return, an error in the loop) closes the cursor and releases
 * the client.
 * @example for await (const rows of queryBatches<{ id: string }>('SELECT id FROM customers ORDER BY id', [], { batchSize: 500 })) send(rows);
 */
export async function* queryBatches<T extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  params: readonly unknown[] = [],
  options: ReadStatementOptions & { readonly batchSize?: number } = {},
): AsyncGenerator<T[], void, undefined> {
  const batchSize = options.batchSize ?? 1000;
  const timeoutMs = timeoutOf(options);
  const held = await leaseFor(options);
  let failure: unknown;
  let stopped: Error | undefined;
  const unguard = guard(held, options, (reason) => (stopped = reason));
  let cursor: Cursor<T> | undefined;
  try {
    await begin(held.client, options, true);
    cursor = submit(held.client, new Cursor<T>(text, params as unknown[]), timeoutMs);
    for (;;) {
      const rows = await cursor.read(batchSize);
      if (rows.length === 0) break;
      yield rows;
      if (rows.length < batchSize) break;
    }
    await cursor.close();
  } catch (err) {
    failure = stopped ?? err;
    throw toTypedDbError(failure);
  } finally {
    // Reached by the end, an error, or the consumer leaving the loop (return): a cursor left open is
    // closed first (it is idle between batches), then COMMIT or ROLLBACK.
    unguard();
    if (cursor) {
      settleSubmitted(cursor);
      if (failure === undefined && stopped === undefined) await cursor.close().catch((err: unknown) => (failure = err));
    }
    await finish(held, failure ?? stopped);
  }
}

/**
 * `COPY (…) TO STDOUT …` as a readable stream of its bytes, on one snapshot. Reading pauses when the
 * consumer does not keep up (the server then waits too); destroying the stream, an error or the
 * signal closes the connection at once. Parameters ($1…) are written in as quoted literals.
 * @example await pipeline(copyTo('COPY (SELECT id, name FROM customers) TO STDOUT WITH (FORMAT csv, HEADER)'), createWriteStream('customers.csv'));
 */
export function copyTo(text: string, params: readonly unknown[] = [], options: ReadStatementOptions = {}): Readable {
  const out = new PassThrough();
  const timeoutMs = timeoutOf(options);
  const traced = streamSpan('COPY TO STDOUT', text);
  let bytes = 0;
  void traced.run(async () => {
    let held: Lease;
    try {
      held = await leaseFor(options);
    } catch (err) {
      traced.end(err);
      out.destroy(toTypedDbError(err) as Error);
      return;
    }
    let stopped: Error | undefined;
    const unguard = guard(held, options, (reason) => {
      stopped = reason;
      out.destroy(reason);
    });
    // The consumer went away: stop the statement where it is.
    const onClose = (): void => {
      if (!out.writableFinished) closeConnection(held.client);
    };
    if (out.destroyed) {
      held.release();
      traced.end(new Error('the consumer left before the COPY started'));
      return;
    }
    out.once('close', onClose);
    let failure: unknown;
    try {
      await begin(held.client, options, true);
      const copy = submit(held.client, copyToStdout(inlineParams(text, params)), timeoutMs);
      // node-postgres may report the connection's end to the COPY after the pipeline has settled (the
      // consumer left first): that late error is already handled here, not a crash.
      copy.on('error', () => undefined);
      try {
        const piped = pipeline(copy, out, { end: false });
        // Counted as the rows leave the server (a second reader of the same chunks; the pipe sets the pace).
        if (traced.on) copy.on('data', (chunk: Buffer) => (bytes += chunk.length));
        await piped;
      } finally {
        settleSubmitted(copy);
      }
    } catch (err) {
      failure = stopped ?? err;
      // The COPY may still be running (the consumer left): only closing the connection stops it.
      closeConnection(held.client);
    }
    unguard();
    out.off('close', onClose);
    try {
      await finish(held, failure);
    } catch (err) {
      failure ??= err;
    }
    traced.end(failure, { 'customer_api.copy.bytes': bytes });
    // The end is written only after COMMIT: a stream that ends cleanly holds everything.
    if (failure === undefined) out.end();
    else out.destroy(toTypedDbError(failure) as Error);
  });
  return out;
}

/**
 * `COPY … FROM STDIN` fed from `source` (a stream, or an iterable or async iterable of strings or bytes): the number
 * of rows copied. With `db` (a withTransaction client) it joins that transaction; without, it runs in
 * its own, committed when the source ends. A source that fails, or the signal, sends CopyFail: the
 * server rolls the COPY back, nothing of it stays.
 * @example await copyFrom('COPY customers (name, city) FROM STDIN WITH (FORMAT csv)', createReadStream('customers.csv'));
 */
export async function copyFrom(
  text: string,
  source: Readable | AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
  options: LongStatementOptions & { readonly db?: DbClient } = {},
): Promise<number> {
  const traced = streamSpan('COPY FROM STDIN', text);
  return traced.run(async () => {
    let failure: unknown;
    let rows = 0;
    try {
      rows = options.db ? await copyOn(options.db, text, source, timeoutOf(options), options.signal) : await copyInOwnTransaction(text, source, options);
      return rows;
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      traced.end(failure, { [DB_ATTR.rows]: rows });
    }
  });
}

async function copyInOwnTransaction(text: string, source: Readable | AsyncIterable<string | Buffer> | Iterable<string | Buffer>, options: LongStatementOptions): Promise<number> {
  const timeoutMs = timeoutOf(options);
  const held = await lease();
  let stopped: Error | undefined;
  const unguard = guard(held, options, (reason) => (stopped = reason));
  let failure: unknown;
  let rows = 0;
  try {
    await begin(held.client, options, false);
    rows = await copyOn(held.client, text, source, timeoutMs, undefined);
  } catch (err) {
    failure = stopped ?? err;
  }
  unguard();
  await finish(held, failure);
  if (failure !== undefined) throw toTypedDbError(failure);
  return rows;
}

async function copyOn(client: DbClient, text: string, source: Readable | AsyncIterable<string | Buffer> | Iterable<string | Buffer>, timeoutMs: number, signal: AbortSignal | undefined): Promise<number> {
  const copy = submit(client, copyFromStdin(text), timeoutMs);
  const input = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  try {
    await pipeline(input, copy, { signal });
  } catch (err) {
    // pipeline destroyed the COPY stream: it sent CopyFail, and the server answered with an error.
    throw toTypedDbError(err);
  }
  return copy.rowCount;
}
