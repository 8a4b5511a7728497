/**
 * libpq's connection URL with several hosts: `postgres://user@h1:p1,h2:p2/db?target_session_attrs=read-write`.
 * WHATWG's URL (and so node-postgres) takes one host only: the list is read here, and the rest of the
 * URL is parsed as a one-host URL. Pure: the config validates with it, the data layer connects with it.
 */

/** libpq's target_session_attrs values. */
export const TARGET_SESSION_ATTRS = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'] as const;
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

interface DatabaseUrl {
  /** Every host, in the URL's order; empty when the URL names none (node-postgres then reads PGHOST). */
  readonly hosts: readonly HostPort[];
  /** The same URL with only the first host, as node-postgres and WHATWG's URL take it. */
  readonly url: string;
  /** target_session_attrs as the URL writes it (undefined when absent). */
  readonly targetSessionAttrs: TargetSessionAttrs | undefined;
  /** load_balance_hosts=random: each connection tries the hosts in a random order (libpq 16). */
  readonly loadBalanceHosts: boolean;
}

/** What is wrong with a URL; the message never carries the URL (it may hold a password). */
export class DatabaseUrlError extends Error {}

const DEFAULT_PORT = 5432;

/** `host:port` for messages and health (an IPv6 address in brackets); never a password. */
export const hostKey = (h: HostPort): string => `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`;

function parseHost(entry: string): HostPort {
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(entry);
  if (!match || match[1] === '' || match[1] === '[]') throw new DatabaseUrlError('has an empty or malformed host in its host list');
  const host = decodeURIComponent(match[1]!.replace(/^\[|\]$/g, ''));
  const port = match[2] === undefined || match[2] === '' ? DEFAULT_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DatabaseUrlError('has a port outside 1-65535 in its host list');
  return { host, port };
}

/** Parses a postgres:// URL with one host or a comma-separated list of them. Throws DatabaseUrlError. */
export function parseDatabaseUrl(raw: string): DatabaseUrl {
  const match = /^(postgres(?:ql)?):\/\/(?:([^@/?#]*)@)?([^/?#]*)(.*)$/s.exec(raw.trim());
  if (!match) throw new DatabaseUrlError('must be a postgres:// URL');
  const [, scheme, userinfo, hostList, rest] = match;
  const hosts = hostList === '' ? [] : hostList!.split(',').map(parseHost);
  const first = hostList!.split(',')[0]!;
  const url = `${scheme}://${userinfo === undefined ? '' : `${userinfo}@`}${first}${rest}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError('is not a valid URL');
  }
  const tsa = parsed.searchParams.get('target_session_attrs');
  if (tsa !== null && !(TARGET_SESSION_ATTRS as readonly string[]).includes(tsa)) {
    throw new DatabaseUrlError(`has an unknown target_session_attrs "${tsa}" (one of ${TARGET_SESSION_ATTRS.join(', ')})`);
  }
  const balance = parsed.searchParams.get('load_balance_hosts');
  if (balance !== null && balance !== 'disable' && balance !== 'random') {
    throw new DatabaseUrlError(`has an unknown load_balance_hosts "${balance}" (disable or random)`);
  }
  return { hosts, url, targetSessionAttrs: (tsa ?? undefined) as TargetSessionAttrs | undefined, loadBalanceHosts: balance === 'random' };
}

/** `h1:p1,h2:p2/db` for logs and health: where a URL points, without user or password. */
export function describeDatabaseUrl(raw: string): string {
  const parsed = parseDatabaseUrl(raw);
  return `${parsed.hosts.map(hostKey).join(',')}${new URL(parsed.url).pathname}`;
}

/**
 * DATABASE_REPLICA_URLS: URLs separated by white space, or by commas that start a new URL (`,scheme://`);
 * any other comma separates the hosts of one URL.
 */
export const splitReplicaUrls = (value: string): string[] =>
  value
    .split(/\s+|,(?=\s*[a-z][a-z0-9+.-]*:\/\/)/i)
    .map((u) => u.trim().replace(/,$/, ''))
    .filter(Boolean);
