import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import type { z } from 'zod';
import type { TargetSessionAttrs } from './database-url';
import { DbEnvSchema, EnvSchema, SECRET_KEYS, type DbEnv, type Env } from './env-schema';
import { OTLP_PROTOCOLS, TRACES_SAMPLERS } from './otel-values';

export type SslMode = Env['DB_SSLMODE'];

export interface DbConfig {
  /** Undefined when the embedded database is to be used. */
  readonly url: string | undefined;
  /** DATABASE_REPLICA_URLS: streaming replicas for list, search and dashboard reads. */
  readonly replicaUrls: readonly string[];
  /** PGTARGETSESSIONATTRS: for URLs that do not say target_session_attrs. */
  readonly targetSessionAttrs: TargetSessionAttrs | undefined;
  /** DB_REPLICA_MAX_LAG_MS: a replica further behind gets no reads. */
  readonly replicaMaxLagMs: number;
  readonly embedded: boolean;
  readonly embeddedDir: string;
  /** EMBEDDED_DB_DIR was not set: the default may be moved where the server's OS user can reach it. */
  readonly embeddedDirIsDefault: boolean;
  readonly sslMode: SslMode;
  readonly sslCaFile: string | undefined;
  /** PGOPTIONS: start-up options for every connection, unless DATABASE_URL has its own. */
  readonly pgOptions: string | undefined;
  readonly minConnections: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  readonly maxWaiting: number;
  readonly maxLifetimeSeconds: number;
  readonly maxUses: number;
  readonly leakDetectionMs: number;
  readonly statementTimeoutMs: number;
  readonly idleInTransactionTimeoutMs: number;
  /** The server's plan_cache_mode for the pool's sessions (DB_PLAN_CACHE_MODE). */
  readonly planCacheMode: 'force_generic_plan' | 'auto' | 'force_custom_plan';
  readonly connectTimeoutMs: number;
  /** How long a host that refused or timed out is tried last before it is probed again (DB_HOST_RECHECK_S). */
  readonly hostRecheckMs: number;
  readonly startupRetries: number;
  readonly applicationName: string;
  readonly preparedStatements: boolean;
  readonly slowQueryMs: number;
  readonly migrateOnStart: boolean;
  /** lock_timeout of every migration (DB_MIGRATION_LOCK_TIMEOUT_MS; 0 = none). */
  readonly migrationLockTimeoutMs: number;
  /** How often a migration that gave up on a lock is tried again (DB_MIGRATION_RETRIES). */
  readonly migrationRetries: number;
  readonly seedDemoData: boolean;
}

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly isProduction: boolean;
  readonly port: number;
  readonly host: string;
  readonly envFile: string | undefined;
  readonly db: DbConfig;
  readonly jwt: {
    /** Undefined outside production means: generate one per start (with a warning). */
    readonly secret: string | undefined;
    /** Earlier secrets: they verify tokens (by kid), never sign. */
    readonly previousSecrets: readonly string[];
    readonly expiresInSeconds: number;
    readonly issuer: string;
    readonly audience: string;
  };
  /** Refresh tokens and sessions (docs/api.md §3). */
  readonly sessions: {
    readonly refreshTtlSeconds: number;
    readonly maxAgeSeconds: number;
    /** REFRESH_COOKIE_SAMESITE: `none` for a frontend on another site (the cookie is then always Secure). */
    readonly refreshCookieSameSite: 'strict' | 'none';
  };
  /** How many password hashes one process computes at once. */
  readonly passwordHashConcurrency: number;
  /** How long an Idempotency-Key's answer is kept, in seconds. */
  readonly idempotencyKeyTtlSeconds: number;
  /** Customer exports and imports (docs/api.md §5). */
  readonly transfer: { readonly exportMaxConcurrent: number; readonly exportTimeoutSeconds: number; readonly importTimeoutSeconds: number; readonly importMaxBytes: number };
  /** How many days the history of changes is kept; 0: forever. */
  readonly historyRetentionDays: number;
  /** What the settings mean that their reader may not expect (an old name still honoured): logged once at start. */
  readonly notices: readonly string[];
  readonly auth: { readonly cacheTtlMs: number; readonly apiKeyMaxTtlDays: number; readonly apiKeyRateLimitPerMinute: number; readonly adminEmail?: string; readonly adminPassword?: string };
  readonly http: {
    /** CORS_ORIGINS without `*`: the origins answered with credentials, and trusted with the refresh cookie. */
    readonly corsOrigins: readonly string[];
    /** CORS_ORIGINS has `*`: any other origin may read answers, without credentials. */
    readonly corsAnyOrigin: boolean;
    readonly bodyLimit: string;
    readonly defaultLocale: 'en' | 'tr';
  };
  /** `pretty` undefined: decided by the logger (a terminal in development). */
  readonly log: Omit<LogConfig, 'env'>;
  readonly metrics: { readonly enabled: boolean; readonly token: string | undefined };
  readonly shutdownTimeoutMs: number;
  /** How old the dashboard's numbers may be (0 = always fresh). */
  readonly dashboardMaxAgeSeconds: number;
  /** Where limits shared by all instances live (unset: per process). */
  readonly redisUrl: string | undefined;
  /** Prefix of this deployment's keys in Redis. */
  readonly redisKeyPrefix: string;
  readonly webConcurrency: number;
  /** Instances of the service sharing the database (INSTANCES), for the start-up budget check. */
  readonly instances: number;
  /** Tracing (OTEL_*): undefined when off (no OTLP endpoint, or OTEL_SDK_DISABLED=true). */
  readonly tracing: TracingConfig | undefined;
}

export interface TracingConfig {
  /** Where spans are sent: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  readonly url: string;
  readonly protocol: (typeof OTLP_PROTOCOLS)[number];
  readonly serviceName: string;
  readonly sampler: (typeof TRACES_SAMPLERS)[number];
  readonly samplerRatio: number;
}

/** Thrown by loadConfig with one line per bad variable; never carries a secret's value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type RawEnv = Record<string, string | undefined>;

/** ENV_FILE if set, else .env.$APP_ENV when APP_ENV is set, else .env if present. */
export function selectEnvFile(env: RawEnv, exists: (path: string) => boolean = existsSync): string | undefined {
  if (env.ENV_FILE) return env.ENV_FILE;
  if (env.APP_ENV) return `.env.${env.APP_ENV}`;
  return exists('.env') ? '.env' : undefined;
}

function readEnvFile(path: string | undefined): RawEnv {
  if (path === undefined) return {};
  try {
    return parseDotenv(readFileSync(path));
  } catch (err) {
    throw new ConfigError([`ENV_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}

function describeIssue(key: string, message: string, value: string | undefined): string {
  if (value === undefined || SECRET_KEYS.has(key)) return `${key}: ${message}`;
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return `${key}: ${message} (got "${shown}")`;
}

/** Reads the env file (real environment variables win) and validates with `schema`; ConfigError names each bad variable. */
function parseEnv<T>(schema: z.ZodType<T>, processEnv: RawEnv): { values: T; envFile: string | undefined } {
  const envFile = selectEnvFile(processEnv);
  const merged: RawEnv = { ...readEnvFile(envFile), ...processEnv };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? 'config');
        return describeIssue(key, issue.message, merged[key]);
      }),
    );
  }
  return { values: parsed.data, envFile };
}

/**
 * Reads the env file (real environment variables win), validates every variable once and returns
 * a frozen config. Throws ConfigError naming each bad variable.
 */
export function loadConfig(processEnv: RawEnv = process.env): Config {
  const { values, envFile } = parseEnv(EnvSchema, processEnv);
  return deepFreeze(toConfig(values, envFile));
}

/** The data layer's part of the configuration, validated alone (the library's: no API setting is needed). */
export interface LibraryConfig {
  readonly db: DbConfig;
  readonly log: LogConfig;
}

/** What the logger needs. */
interface LogConfig {
  readonly level: Env['LOG_LEVEL'];
  readonly pretty: boolean | undefined;
  /** Each line written at once (LOG_SYNC) instead of buffered. */
  readonly sync: boolean;
  readonly env: Env['NODE_ENV'];
}

/** Validates only the data layer's variables (DATABASE_URL, PG*, DB_*, replicas, LOG_*). Throws ConfigError. */
function loadDbConfig(processEnv: RawEnv = process.env): LibraryConfig {
  const { values } = parseEnv(DbEnvSchema, processEnv);
  return deepFreeze({ db: toDbConfig(values), log: toLogConfig(values) });
}

function toLogConfig(e: DbEnv): LogConfig {
  return { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY, sync: e.LOG_SYNC, env: e.NODE_ENV };
}

function toDbConfig(e: DbEnv): DbConfig {
  const embedded = !e.DATABASE_URL && !e.PGHOST;
  return {
    url: e.DATABASE_URL,
    replicaUrls: e.DATABASE_REPLICA_URLS ?? [],
    targetSessionAttrs: e.PGTARGETSESSIONATTRS,
    replicaMaxLagMs: e.DB_REPLICA_MAX_LAG_MS,
    embedded,
    embeddedDir: e.EMBEDDED_DB_DIR ?? '.data/postgres',
    embeddedDirIsDefault: e.EMBEDDED_DB_DIR === undefined,
    sslMode: e.DB_SSLMODE,
    sslCaFile: e.DB_SSL_CA_FILE,
    pgOptions: e.PGOPTIONS,
    minConnections: e.DB_POOL_MIN_CONNECTIONS,
    maxConnections: e.DB_POOL_MAX_CONNECTIONS,
    idleTimeoutMs: e.DB_POOL_IDLE_TIMEOUT_MS,
    acquireTimeoutMs: e.DB_POOL_ACQUIRE_TIMEOUT_MS,
    maxWaiting: e.DB_POOL_MAX_WAITING,
    maxLifetimeSeconds: e.DB_POOL_MAX_LIFETIME_S,
    maxUses: e.DB_POOL_MAX_USES,
    leakDetectionMs: e.DB_POOL_LEAK_DETECTION_MS,
    statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: e.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    planCacheMode: e.DB_PLAN_CACHE_MODE,
    connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    hostRecheckMs: e.DB_HOST_RECHECK_S * 1000,
    startupRetries: e.DB_STARTUP_RETRIES,
    applicationName: e.DB_APPLICATION_NAME,
    preparedStatements: e.DB_PREPARED_STATEMENTS,
    slowQueryMs: e.DB_SLOW_QUERY_MS,
    migrateOnStart: e.DB_MIGRATE_ON_START,
    migrationLockTimeoutMs: e.DB_MIGRATION_LOCK_TIMEOUT_MS,
    migrationRetries: e.DB_MIGRATION_RETRIES,
    seedDemoData: e.SEED_DEMO_DATA ?? embedded,
  };
}

/** EXPORT_TIMEOUT_S's and IMPORT_TIMEOUT_S's default, in seconds. */
const TRANSFER_TIMEOUT_DEFAULT_S = 600;

function toConfig(e: Env, envFile: string | undefined): Config {
  const notices: string[] = [];
  if (e.IMPORT_TIMEOUT_S === undefined && e.EXPORT_TIMEOUT_S !== undefined) {
    notices.push(`EXPORT_TIMEOUT_S (${e.EXPORT_TIMEOUT_S}) also limits imports, as it did before IMPORT_TIMEOUT_S existed; set IMPORT_TIMEOUT_S to limit imports on their own`);
  }
  const tracing = toTracingConfig(e, notices);
  return {
    env: e.NODE_ENV,
    isProduction: e.NODE_ENV === 'production',
    port: e.PORT,
    host: e.HOST,
    envFile,
    db: toDbConfig(e),
    jwt: { secret: e.JWT_SECRET, previousSecrets: e.JWT_PREVIOUS_SECRETS, expiresInSeconds: e.JWT_EXPIRES_IN, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    sessions: { refreshTtlSeconds: e.REFRESH_TOKEN_TTL_S, maxAgeSeconds: e.SESSION_MAX_AGE_S, refreshCookieSameSite: e.REFRESH_COOKIE_SAMESITE },
    passwordHashConcurrency: e.PASSWORD_HASH_CONCURRENCY,
    idempotencyKeyTtlSeconds: e.IDEMPOTENCY_KEY_TTL_S,
    historyRetentionDays: e.HISTORY_RETENTION_DAYS,
    // Each export holds a client for its whole run: at least one client is always left to the rest (a pool of one aside).
    transfer: {
      exportMaxConcurrent: Math.max(1, Math.min(e.EXPORT_MAX_CONCURRENT, e.DB_POOL_MAX_CONNECTIONS - 1)),
      exportTimeoutSeconds: e.EXPORT_TIMEOUT_S ?? TRANSFER_TIMEOUT_DEFAULT_S,
      // EXPORT_TIMEOUT_S once limited imports too: where it alone is set, it still does (with a notice).
      importTimeoutSeconds: e.IMPORT_TIMEOUT_S ?? e.EXPORT_TIMEOUT_S ?? TRANSFER_TIMEOUT_DEFAULT_S,
      importMaxBytes: e.IMPORT_MAX_BYTES,
    },
    notices,
    auth: { cacheTtlMs: e.AUTH_CACHE_TTL_MS, apiKeyMaxTtlDays: e.API_KEY_MAX_TTL_DAYS, apiKeyRateLimitPerMinute: e.API_KEY_RATE_LIMIT_PER_MINUTE, adminEmail: e.ADMIN_EMAIL, adminPassword: e.ADMIN_PASSWORD },
    http: {
      corsOrigins: [...new Set((e.CORS_ORIGINS ?? []).filter((o) => o !== '*'))],
      corsAnyOrigin: (e.CORS_ORIGINS ?? []).includes('*'),
      bodyLimit: e.BODY_LIMIT,
      defaultLocale: e.DEFAULT_LOCALE,
    },
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY, sync: e.LOG_SYNC },
    metrics: { enabled: e.METRICS_ENABLED, token: e.METRICS_TOKEN },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    dashboardMaxAgeSeconds: e.DASHBOARD_MAX_AGE_S,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    webConcurrency: e.WEB_CONCURRENCY,
    instances: e.INSTANCES,
    tracing,
  };
}

function toTracingConfig(e: Env, notices: string[]): TracingConfig | undefined {
  const url = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT && `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  if (!url || e.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return undefined;
  const oneOf = <T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T => {
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    notices.push(`${name}=${value} is not one this service ships (${allowed.join(', ')}): tracing uses ${fallback}`);
    return fallback;
  };
  const ratio = e.OTEL_TRACES_SAMPLER_ARG === undefined ? 1 : Number(e.OTEL_TRACES_SAMPLER_ARG);
  const ratioOk = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1;
  if (!ratioOk) notices.push(`OTEL_TRACES_SAMPLER_ARG=${e.OTEL_TRACES_SAMPLER_ARG} is not a ratio from 0 to 1: tracing uses 1`);
  return {
    url,
    protocol:
      e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL === undefined
        ? oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', e.OTEL_EXPORTER_OTLP_PROTOCOL, OTLP_PROTOCOLS, 'http/protobuf')
        : oneOf('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTLP_PROTOCOLS, 'http/protobuf'),
    serviceName: e.OTEL_SERVICE_NAME ?? 'customer-api',
    sampler: oneOf('OTEL_TRACES_SAMPLER', e.OTEL_TRACES_SAMPLER, TRACES_SAMPLERS, 'parentbased_always_on'),
    samplerRatio: ratioOk ? ratio : 1,
  };
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}

let current: Config | undefined;
let library: LibraryConfig | undefined;

/** The process's config: parsed on first call, then the same frozen object. */
export function getConfig(): Config {
  current ??= loadConfig();
  return current;
}

/**
 * Replaces the process's config (the embedded database sets its URL once it knows its port).
 * Call before the pool is first built.
 */
export function setConfig(next: Config): void {
  current = next;
  library = undefined;
}

/**
 * The data layer's configuration: the API's when the API loaded one; else (the query helpers used as a
 * library) the data layer's variables alone, validated on first use, or what configureDatabase() set.
 */
export function getLibraryConfig(): LibraryConfig {
  if (current) return { db: current.db, log: { ...current.log, env: current.env } };
  library ??= loadDbConfig();
  return library;
}

/** The data layer's settings (getLibraryConfig().db without building the whole view: it is read on every query). */
export const getDbConfig = (): DbConfig => current?.db ?? (library ??= loadDbConfig()).db;

/**
 * The data layer's configuration from settings given in code: the same variables as the environment
 * (DATABASE_URL, DB_POOL_MAX_CONNECTIONS, …), the same validation and errors; the environment fills in
 * the rest. Throws ConfigError.
 */
export function loadDbConfigWith(settings: Readonly<Record<string, string | number | boolean | undefined>>, processEnv: RawEnv = process.env): LibraryConfig {
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
  return loadDbConfig({ ...processEnv, ...given });
}

/** Makes `config` the data layer's (configureDatabase). */
export function setLibraryConfig(config: LibraryConfig): void {
  library = config;
}
