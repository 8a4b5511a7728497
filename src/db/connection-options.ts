import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { DbConfig, SslMode } from '../config/config';
import { parseDatabaseUrl, type HostPort, type TargetSessionAttrs } from '../config/database-url';

const SSL_URL_PARAMS = ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat'];
// Read here, never passed on: node-postgres would take them for settings of its own.
const HOST_URL_PARAMS = ['target_session_attrs', 'load_balance_hosts'];
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

export interface ConnectionTarget {
  /** The URL without its TLS parameters (node-postgres would read them with other meanings) and `options`. */
  readonly connectionString: string | undefined;
  /** The user's own start-up `options` (the URL's, else PGOPTIONS), which the pool's settings are added to. */
  readonly options: string | undefined;
  readonly sslMode: SslMode;
  /** What to try first: TLS options, or false for a plain connection. */
  readonly ssl: ConnectionOptions | false;
  /** prefer: when the server refuses TLS, connect in plain, as libpq does. */
  readonly fallBackToPlain: boolean;
  /** The hosts each new connection walks, in order (empty: node-postgres's own default, PGHOST). */
  readonly hosts: readonly HostPort[];
  /** Which server of the hosts a connection takes (libpq's meaning). */
  readonly targetSessionAttrs: TargetSessionAttrs;
  /** True when target_session_attrs was set by the rule for a primary with several hosts, not by the user. */
  readonly targetSessionAttrsImplied: boolean;
  /** load_balance_hosts=random: each connection walks the hosts in a random order. */
  readonly loadBalanceHosts: boolean;
}

function tlsOptions(mode: SslMode, caFile: string | undefined): ConnectionOptions | false {
  if (mode === 'disable' || mode === 'allow') return false;
  const ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
  if (mode === 'verify-full') return { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
  // verify-ca checks the chain but not the host name.
  if (mode === 'verify-ca') return { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...(ca ? { ca } : {}) };
  // prefer and require encrypt without verifying, as libpq does.
  return { rejectUnauthorized: false };
}

/**
 * Resolves where and how to connect. An `sslmode` in DATABASE_URL wins over DB_SSLMODE and keeps
 * its libpq meaning; the parameter is removed from the URL so that node-postgres neither reinterprets
 * it nor prints its "SECURITY WARNING" about SSL modes. `options` is taken out too: node-postgres would
 * let it replace the pool's, instead of adding to them.
 */
export function resolveConnectionTarget(
  db: Pick<DbConfig, 'url' | 'sslMode' | 'sslCaFile' | 'pgOptions' | 'targetSessionAttrs'>,
  serves: 'writes' | 'reads' = 'writes',
): ConnectionTarget {
  let sslMode = db.sslMode;
  let caFile = db.sslCaFile;
  let connectionString = db.url;
  let options = db.pgOptions;
  const parsed = db.url ? parseDatabaseUrl(db.url) : undefined;
  // libpq's default is any; a pool that serves writes, given several hosts, must find the one that takes them.
  const implied = parsed !== undefined && parsed.hosts.length > 1 && serves === 'writes' && !parsed.targetSessionAttrs && !db.targetSessionAttrs;
  const targetSessionAttrs = parsed?.targetSessionAttrs ?? db.targetSessionAttrs ?? (implied ? 'read-write' : 'any');
  if (parsed) {
    const url = new URL(parsed.url);
    const fromUrl = url.searchParams.get('sslmode');
    if (fromUrl !== null) {
      if (!SSL_MODES.includes(fromUrl as SslMode)) {
        throw new Error(`DATABASE_URL: unknown sslmode "${fromUrl}" (one of ${SSL_MODES.join(', ')})`);
      }
      sslMode = fromUrl as SslMode;
    }
    if (url.searchParams.get('ssl') === 'true' && fromUrl === null) sslMode = 'require';
    caFile = url.searchParams.get('sslrootcert') ?? caFile;
    options = url.searchParams.get('options') ?? options;
    for (const param of [...SSL_URL_PARAMS, ...HOST_URL_PARAMS, 'options']) url.searchParams.delete(param);
    connectionString = url.toString();
  }
  return {
    connectionString,
    options,
    sslMode,
    ssl: tlsOptions(sslMode, caFile),
    fallBackToPlain: sslMode === 'prefer',
    hosts: parsed?.hosts ?? [],
    targetSessionAttrs,
    targetSessionAttrsImplied: implied,
    loadBalanceHosts: parsed?.loadBalanceHosts ?? false,
  };
}
