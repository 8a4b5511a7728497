import { addDbEvent } from './db-tracing';
import pg from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { hostKey, type HostPort, type TargetSessionAttrs } from '../config/database-url';
import type { ConnectionTarget } from './connection-options';
import { isConnectionLevelError } from './db-errors';
import { abandonAttempt, isPgError, onParameterStatus, resetForAttempt } from './pg-internals';
import type { HostMemory } from './host-memory';

/**
 * libpq's host walk for node-postgres, which connects to one host only (brianc/node-postgres#1470):
 * each new connection tries the URL's hosts in order (or shuffled, load_balance_hosts=random), skips
 * one that refuses, times out or is of the wrong kind, and takes the first that fits
 * target_session_attrs. PostgreSQL 14+ reports in_hot_standby and default_transaction_read_only at
 * start-up, so the check costs nothing there; an older server (or a pooler that does not pass them
 * on) is asked in one round trip. Unlike libpq, the walk remembers hosts that refused or timed out
 * (host-memory.ts) and tries them last, and one host never takes the whole acquire deadline: each
 * attempt gets at most DB_CONNECT_TIMEOUT_MS and at most its share of the time left (the time left
 * divided by the hosts still to try), so a host that never answers leaves time for the next.
 */

/** What a server said about itself: undefined where it did not say. */
interface ServerRole {
  readonly hotStandby: boolean | undefined;
  readonly readOnly: boolean | undefined;
}

/** The server a client reached. */
export interface ConnectedServer {
  /** host:port, never a password. */
  readonly key: string;
  readonly role: 'primary' | 'standby' | 'unknown';
}

export interface WalkContext {
  readonly target: ConnectionTarget;
  /** sslmode=prefer: hosts that refused TLS; later connections to them go plain at once. */
  readonly plainHosts: Set<string>;
  /** Said once per host, when it first refuses TLS. */
  onPlainFallback(key: string): void;
  /** An error that walking on cannot help (a pooler refusing the start-up settings): the walk stops. */
  isFatal(err: unknown): boolean;
  /** The walk stops when this time (Date.now()) has passed: the pool's acquire timeout. */
  readonly deadline: number;
  /** One attempt's longest wait (DB_CONNECT_TIMEOUT_MS), before its share of the deadline. */
  readonly connectTimeoutMs: number;
  /** Hosts that refused or timed out: tried last, and told of each outcome. */
  readonly memory: HostMemory;
}

/** No host fitted: each host's reason, never a password. */
class NoFittingHostError extends Error {
  constructor(target: TargetSessionAttrs, reasons: string[]) {
    super(`no database host fits target_session_attrs=${target}: ${reasons.join('; ')}`);
    this.name = 'NoFittingHostError';
  }
}

function prepareAttempt(client: pg.Client, host: HostPort | undefined, ssl: ConnectionOptions | false, timeoutMs: number): Map<string, string> {
  resetForAttempt(client, { host: host?.host, port: host?.port, ssl, timeoutMs });
  const reported = new Map<string, string>();
  onParameterStatus(client, (name, value) => reported.set(name, value));
  return reported;
}

const connectOnce = (client: pg.Client): Promise<void> =>
  new Promise((resolve, reject) => {
    // The base class's connect: subclasses override connect() with the walk itself.
    pg.Client.prototype.connect.call(client, (err: Error | undefined) => (err ? reject(err) : resolve()));
  });

const onOff = (value: string | undefined): boolean | undefined => (value === undefined ? undefined : value === 'on');

/** The role from what the server reported at start-up, or asked in one round trip when it reported nothing. */
async function roleOf(client: pg.Client, reported: Map<string, string>, mustKnow: boolean): Promise<ServerRole> {
  const hotStandby = onOff(reported.get('in_hot_standby'));
  const readOnly = onOff(reported.get('default_transaction_read_only'));
  if ((hotStandby !== undefined && readOnly !== undefined) || !mustKnow) return { hotStandby, readOnly: readOnly === undefined ? undefined : readOnly || hotStandby };
  const { rows } = await client.query<{ in_recovery: boolean; read_only: string }>(
    "SELECT pg_catalog.pg_is_in_recovery() AS in_recovery, pg_catalog.current_setting('transaction_read_only') AS read_only",
  );
  return { hotStandby: rows[0]!.in_recovery, readOnly: rows[0]!.read_only === 'on' || rows[0]!.in_recovery };
}

/** Whether a server of this role fits target_session_attrs (prefer-standby's first pass asks for standby). */
export function fits(target: Exclude<TargetSessionAttrs, 'prefer-standby'>, role: ServerRole): boolean {
  switch (target) {
    case 'any':
      return true;
    case 'read-write':
      return role.readOnly === false && role.hotStandby !== true;
    case 'read-only':
      return role.readOnly === true || role.hotStandby === true;
    case 'primary':
      return role.hotStandby === false;
    case 'standby':
      return role.hotStandby === true;
  }
}

/** True when target_session_attrs asks for a server that takes writes: a read-only one must be left. */
export const needsWritable = (target: TargetSessionAttrs): boolean => target === 'read-write' || target === 'primary';

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const describeRole = (role: ServerRole): string => (role.hotStandby ? 'a standby' : role.readOnly ? 'read-only' : 'read-write');
// Not `instanceof Error`: errors from another realm (a test runner's sandbox) are errors too.
const reasonOf = (err: unknown): string => (typeof (err as { message?: unknown })?.message === 'string' ? (err as Error).message : String(err));

/** A timeout shorter than this (and than DB_CONNECT_TIMEOUT_MS) does not mark a host down. */
const MIN_TIMEOUT_TO_MARK_DOWN_MS = 1000;

/** A host's name in messages, health and the host memory; libpq's environment (PGHOST) when the URL names none. */
export const hostKeyOf = (host: HostPort | undefined): string => (host ? hostKey(host) : 'default host');

/**
 * Connects `client` to the first host that fits, as libpq does. One host (or none: PGHOST) is one
 * attempt whose own error goes on unchanged; several hosts that all fail give a NoFittingHostError.
 */
export async function connectToFittingHost(client: pg.Client, ctx: WalkContext): Promise<ConnectedServer> {
  const { target, memory } = ctx;
  const listed: (HostPort | undefined)[] = target.hosts.length === 0 ? [undefined] : target.loadBalanceHosts ? shuffled(target.hosts) : [...target.hosts];
  const hosts = memory.order(listed, hostKeyOf);
  const passes: Exclude<TargetSessionAttrs, 'prefer-standby'>[] = target.targetSessionAttrs === 'prefer-standby' ? ['standby', 'any'] : [target.targetSessionAttrs];
  // Every attempt of the walk, pass by pass. A host known to be down is tried only in the last
  // pass (prefer-standby: a dead standby must not take the time the 'any' pass needs).
  const attempts = passes.flatMap((pass, p) => hosts.filter((h) => p === passes.length - 1 || !memory.isDown(hostKeyOf(h))).map((host) => ({ pass, host })));
  const reasons: string[] = [];
  // Hosts that refused or timed out in this walk: not tried again in a later pass.
  const unreachable = new Set<string>();
  let lastError: unknown;
  let wrongKind = false;
  for (const [i, { pass, host }] of attempts.entries()) {
    const key = hostKeyOf(host);
    if (unreachable.has(key)) continue;
    // Attempts still to make, this one included: each gets its share of the time left.
    const toTry = attempts.slice(i).filter((a) => !unreachable.has(hostKeyOf(a.host))).length;
    let tls = ctx.plainHosts.has(key) ? false : target.ssl;
    for (;;) {
      const remaining = ctx.deadline - Date.now();
      if (remaining < 0) break;
      const timeoutMs = Math.max(1, Math.min(ctx.connectTimeoutMs, Math.floor(remaining / toTry)));
      const started = Date.now();
      try {
        const reported = prepareAttempt(client, host, tls, timeoutMs);
        await connectOnce(client);
        memory.markUp(key);
        const role = await roleOf(client, reported, pass !== 'any');
        if (fits(pass, role)) {
          const server = { key, role: role.hotStandby === undefined ? 'unknown' : role.hotStandby ? 'standby' : 'primary' } as const;
          if (attempts.length > 1) addDbEvent('db.host.connected', { 'server.address': key, 'db.postgresql.role': server.role, 'db.host.wanted': pass });
          return server;
        }
        const mismatch = describeRole(role);
        addDbEvent('db.host.skipped', { 'server.address': key, 'db.host.wanted': pass, 'db.host.reason': mismatch });
        reasons.push(`${key}: ${mismatch}`);
        wrongKind = true;
        await client.end().catch(() => undefined);
      } catch (err) {
        abandonAttempt(client);
        if (ctx.isFatal(err)) throw err;
        // sslmode=prefer: a server without TLS is tried again in plain, as libpq does.
        if (tls !== false && target.fallBackToPlain && isPgError(err, 'noTls')) {
          ctx.plainHosts.add(key);
          ctx.onPlainFallback(key);
          tls = false;
          continue;
        }
        const reason = reasonOf(err);
        if (isConnectionLevelError(err)) {
          unreachable.add(key);
          // A host that did not answer within a sliver of the deadline has not shown it is down.
          const cutShort = Date.now() - started >= timeoutMs && timeoutMs < Math.min(ctx.connectTimeoutMs, MIN_TIMEOUT_TO_MARK_DOWN_MS);
          if (!cutShort) memory.markDown(key, reason);
        }
        lastError = err;
        addDbEvent('db.host.failed', { 'server.address': key, 'db.host.wanted': pass, 'db.host.reason': reason });
        reasons.push(`${key}: ${reason}`);
      }
      break;
    }
  }
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- the driver's own error, unchanged, for a single host
  if (hosts.length === 1 && lastError !== undefined && !wrongKind) throw lastError;
  throw new NoFittingHostError(target.targetSessionAttrs, reasons);
}
