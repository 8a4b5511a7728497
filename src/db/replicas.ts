import { getDbConfig } from '../config/config';
import { describeDatabaseUrl } from '../config/database-url';
import { getLogger } from '../logging/logger';
import { PoolExhaustedError } from './db-errors';
import { endPool, onClosePool, statsOf, withClient, type PoolStats } from './pool';
import { buildPool, hostStatsOf, type PoolState } from './pool-factory';

/**
 * Read replicas (DATABASE_REPLICA_URLS): one pool each, and a check every second of how far each is
 * behind the primary. Lag is measured without trusting clocks: the check remembers where the primary's
 * WAL was at each tick, and a replica's lag is the age of the oldest remembered position it has not
 * yet replayed (0 once it has replayed the newest). Resolution: one tick.
 */

type ReplicaState = 'unknown' | 'healthy' | 'lagging' | 'down';

interface Replica {
  readonly st: PoolState;
  /** host:port/database (each host of a list), never the password. */
  readonly where: string;
  state: ReplicaState;
  lagMs: number | null;
  inRecovery: boolean | null;
  error: string | undefined;
}

type HostStats = ReturnType<typeof hostStatsOf>;

/** One replica in /api/health/db and /metrics. */
export interface ReplicaStats extends PoolStats, HostStats {
  pool_name: string;
  role: 'replica';
  server: string;
  state: ReplicaState;
  /** Milliseconds behind the primary at the last check (null when unknown). */
  lag_ms: number | null;
  /** false: the server replays nothing (a promoted replica, or the primary itself), so it is never behind. */
  in_recovery: boolean | null;
  error?: string;
}

interface Position {
  lsn: bigint;
  at: number;
}

const CHECK_INTERVAL_MS = 1000;

interface ReplicaSet {
  readonly replicas: Replica[];
  readonly maxLagMs: number;
  /** The primary's flushed WAL position at each tick, oldest first; bounded by `keepMs`. */
  readonly positions: Position[];
  readonly keepMs: number;
  timer: NodeJS.Timeout | undefined;
  checking: Promise<void> | undefined;
  next: number;
}

let set: ReplicaSet | undefined;

/** 'A1/2B3C' (pg_lsn as text) → a number that orders as the server does. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/** The pool_name of the replica at `index` (0-based) of DATABASE_REPLICA_URLS. */
export const replicaPoolName = (db: { applicationName: string }, index: number): string => `${db.applicationName}-replica-${index + 1}`;

/**
 * Builds the replica pools and runs the first check (reads stay on the primary until a replica has
 * passed one). Nothing when DATABASE_REPLICA_URLS is unset. Called at start-up; closePool() ends them.
 */
export async function startReplicas(): Promise<void> {
  const db = getDbConfig();
  if (set || db.replicaUrls.length === 0) return;
  const replicas = db.replicaUrls.map((url, i): Replica => ({
    st: buildPool(db, replicaPoolName(db, i), url, 'reads'),
    where: describeDatabaseUrl(url),
    state: 'unknown',
    lagMs: null,
    inRecovery: null,
    error: undefined,
  }));
  const current: ReplicaSet = {
    replicas,
    maxLagMs: db.replicaMaxLagMs,
    positions: [],
    keepMs: Math.max(3 * db.replicaMaxLagMs, 10_000),
    timer: undefined,
    checking: undefined,
    next: 0,
  };
  set = current;
  onClosePool(closeReplicas);
  await checkReplicas();
  current.timer = setInterval(() => void checkReplicas(), CHECK_INTERVAL_MS);
  current.timer.unref();
}

async function closeReplicas(timeoutMs: number): Promise<void> {
  const current = set;
  set = undefined;
  if (!current) return;
  clearInterval(current.timer);
  await current.checking;
  await Promise.all(current.replicas.map((r) => endPool(r.st, timeoutMs)));
}

/** One check of every replica; a check still running is not overlapped. */
function checkReplicas(): Promise<void> {
  const current = set;
  if (!current) return Promise.resolve();
  current.checking ??= runCheck(current).finally(() => (current.checking = undefined));
  return current.checking;
}

async function runCheck(current: ReplicaSet): Promise<void> {
  const now = Date.now();
  try {
    const rows = await withClient((c) => c.query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn'));
    current.positions.push({ lsn: parseLsn(rows.rows[0]!.lsn), at: now });
  } catch {
    // The primary is unreachable: lags keep their last value; reachable replicas keep serving reads.
  }
  while (current.positions.length > 1 && now - current.positions[0]!.at > current.keepMs) current.positions.shift();
  await Promise.all(current.replicas.map((r) => checkOne(current, r, now)));
}

async function checkOne(current: ReplicaSet, r: Replica, now: number): Promise<void> {
  let next: ReplicaState;
  try {
    const { rows } = await withClient(
      (c) =>
        c.query<{ in_recovery: boolean; replayed: string | null }>(
          'SELECT pg_is_in_recovery() AS in_recovery, pg_last_wal_replay_lsn()::text AS replayed',
        ),
      r.st,
    );
    const { in_recovery: inRecovery, replayed } = rows[0]!;
    r.inRecovery = inRecovery;
    r.error = undefined;
    if (!inRecovery || replayed === null) r.lagMs = 0;
    else {
      const lsn = parseLsn(replayed);
      // The oldest remembered primary position this replica has not replayed yet.
      const behind = current.positions.find((p) => p.lsn > lsn);
      if (behind) r.lagMs = now - behind.at;
      else if (current.positions.length > 0) r.lagMs = 0;
    }
    next = r.lagMs !== null && r.lagMs <= current.maxLagMs ? 'healthy' : 'lagging';
  } catch (err) {
    // A full pool is a busy replica, not a lost one: its state stands until the next check.
    if (err instanceof PoolExhaustedError) return;
    r.error = reason(err);
    r.lagMs = null;
    next = 'down';
  }
  setState(r, next);
}

/** What went wrong, from the driver's own error (ECONNREFUSED …) when there is one. */
function reason(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

function setState(r: Replica, next: ReplicaState): void {
  if (r.state === next) return;
  const previous = r.state;
  r.state = next;
  const fields = { pool: r.st.name, server: r.where, from: previous, to: next, lagMs: r.lagMs, error: r.error };
  if (next === 'healthy') getLogger().info(fields, 'read replica healthy: it takes list, search and dashboard reads');
  else getLogger().warn(fields, `read replica ${next}: its reads go to the primary until it recovers`);
}

/** A healthy replica for the next read (round robin), or undefined: read from the primary. */
export function pickReplica(): PoolState | undefined {
  const current = set;
  if (!current) return undefined;
  const { replicas } = current;
  for (let i = 0; i < replicas.length; i += 1) {
    const r = replicas[(current.next + i) % replicas.length]!;
    if (r.state === 'healthy') {
      current.next = (current.next + i + 1) % replicas.length;
      return r.st;
    }
  }
  return undefined;
}

/** A read failed on this replica's connection: it gets no reads until a check finds it reachable. */
export function replicaFailed(st: PoolState, err: unknown): void {
  const r = set?.replicas.find((x) => x.st === st);
  if (!r) return;
  r.error = reason(err);
  r.lagMs = null;
  setState(r, 'down');
}

/** Every replica's pool numbers, state and lag (empty without replicas). */
export function replicaStats(): ReplicaStats[] {
  return (set?.replicas ?? []).map((r) => ({
    pool_name: r.st.name,
    role: 'replica',
    server: r.where,
    state: r.state,
    lag_ms: r.lagMs,
    in_recovery: r.inRecovery,
    ...(r.error ? { error: r.error } : {}),
    ...statsOf(r.st.db, r.st.pool),
    ...hostStatsOf(r.st),
  }));
}
