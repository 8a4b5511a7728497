import { z } from 'zod';
import { DatabaseUrlError, TARGET_SESSION_ATTRS, parseDatabaseUrl, splitReplicaUrls } from './database-url';

// Environment variables arrive as strings; these turn them into checked values.
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/**
 * CORS_ORIGINS: origins exactly as a browser writes them in its Origin header (a trailing slash, a path or
 * a default port would never match), or `*`.
 */
const corsOrigins = z
  .string()
  .transform((v) => v.split(',').map((o) => o.trim()).filter((o) => o.length > 0))
  .superRefine((origins, ctx) => {
    for (const origin of origins) {
      if (origin !== '*' && !isSerializedOrigin(origin)) {
        ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin: write scheme://host[:port], such as https://app.example.com (no path, no trailing slash)` });
      }
    }
  })
  .optional();

function isSerializedOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

/** A postgres:// URL with one host or several; the message never repeats the URL (it may hold a password). */
const databaseUrl = z.string().superRefine((value, ctx) => {
  try {
    parseDatabaseUrl(value);
  } catch (err) {
    if (!(err instanceof DatabaseUrlError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
});

/**
 * The data layer's variables: where the database is, the pool, the logs. The query helpers, used as a
 * library, validate only these (a service with its own secrets needs none of the API's).
 */
const dbFields = {
  // `production` turns on the strict checks (JWT_SECRET required, no embedded database).
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  // Postgres URL, one host or libpq's list of hosts (h1:p1,h2:p2, with target_session_attrs); unset (and no PGHOST) means the embedded database outside production.
  DATABASE_URL: optionalString.pipe(databaseUrl.optional()),
  // Read-replica URLs, separated by white space or by commas between URLs: list, search and dashboard reads go to a healthy one.
  DATABASE_REPLICA_URLS: optionalString.pipe(
    z
      .string()
      .transform(splitReplicaUrls)
      .pipe(z.array(databaseUrl).max(16))
      .optional(),
  ),
  // libpq's PGTARGETSESSIONATTRS: which server of a URL's hosts a connection takes, when the URL does not say.
  PGTARGETSESSIONATTRS: optionalString.pipe(z.enum(TARGET_SESSION_ATTRS).optional()),
  // A replica further behind the primary than this gets no reads until it catches up.
  DB_REPLICA_MAX_LAG_MS: int(0, 3_600_000).default(5000),
  // libpq's PGHOST, read by node-postgres itself; only its presence matters here.
  PGHOST: optionalString,
  // TLS to the database: libpq's meanings.
  DB_SSLMODE: z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']).default('prefer'),
  // CA bundle for verify-ca / verify-full (Node's built-in CAs when unset).
  DB_SSL_CA_FILE: optionalString,
  // libpq's start-up options (e.g. "-c search_path=app"); DATABASE_URL's options parameter wins. The pool adds its own after them.
  PGOPTIONS: optionalString,
  // Opened at start-up and kept open when idle.
  DB_POOL_MIN_CONNECTIONS: int(0, 1000).default(2),
  // Hard cap of open connections per process.
  DB_POOL_MAX_CONNECTIONS: int(1, 1000).default(10),
  // Idle clients above the minimum are closed after this.
  DB_POOL_IDLE_TIMEOUT_MS: int(0, 86_400_000).default(30_000),
  // Longest wait for a client before 503 POOL_EXHAUSTED.
  DB_POOL_ACQUIRE_TIMEOUT_MS: int(1, 600_000).default(5000),
  // Callers allowed to queue for a client; beyond it, fail at once.
  DB_POOL_MAX_WAITING: int(0, 1_000_000).default(200),
  // A client older than this is closed when released (0 = never).
  DB_POOL_MAX_LIFETIME_S: int(0, 604_800).default(1800),
  // A client is closed after this many checkouts (0 = never; 1 = a new connection per checkout).
  DB_POOL_MAX_USES: int(0, 1_000_000_000).default(0),
  // Warn with the acquiring stack when a client is held longer than this (0 = off).
  DB_POOL_LEAK_DETECTION_MS: int(0, 86_400_000).default(0),
  // Per statement, enforced by the server; the client gives up a little later (0 = off).
  DB_STATEMENT_TIMEOUT_MS: int(0, 86_400_000).default(15_000),
  // How the server plans the prepared statements: once per connection (force_generic_plan), or as PostgreSQL chooses (auto).
  DB_PLAN_CACHE_MODE: z.enum(['force_generic_plan', 'auto', 'force_custom_plan']).default('force_generic_plan'),
  // The server ends a session left idle inside a transaction (0 = off).
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: int(0, 86_400_000).default(60_000),
  // One connection attempt (with several hosts, at most its share of the acquire timeout).
  DB_CONNECT_TIMEOUT_MS: int(1, 600_000).default(5000),
  // A host that refused or timed out is tried last, and probed again after this many seconds.
  DB_HOST_RECHECK_S: int(1, 86_400).default(10),
  // Attempts (with backoff) to reach the database at start-up.
  DB_STARTUP_RETRIES: int(1, 100).default(5),
  // application_name seen in pg_stat_activity.
  DB_APPLICATION_NAME: z.string().min(1).max(63).default('customer-api'),
  // Named prepared statements for the fixed queries.
  DB_PREPARED_STATEMENTS: bool.default(true),
  // Logged at warn with its SQL text when slower than this.
  DB_SLOW_QUERY_MS: int(0, 86_400_000).default(500),
  // Apply pending migrations at start-up.
  DB_MIGRATE_ON_START: bool.default(true),
  // A migration waits this long for a table lock, then gives up (and is retried), so that no queue of
  // requests forms behind it (0 = wait as long as it takes).
  DB_MIGRATION_LOCK_TIMEOUT_MS: int(0, 600_000).default(500),
  // Times a migration that gave up on a lock is tried again, with backoff (1 s, 2 s, 4 s … 10 s).
  DB_MIGRATION_RETRIES: int(0, 1000).default(20),
  // Where the embedded PostgreSQL keeps its files (default .data/postgres, moved where the server's OS user can reach it: db/embedded.ts).
  EMBEDDED_DB_DIR: optionalString,
  // Load demo customers into an empty database at start-up (default: true when embedded).
  SEED_DEMO_DATA: bool.optional(),
  // pino level; LOG_PRETTY forces readable lines (true) or JSON (false); unset, a terminal in development gets readable lines.
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.optional(),
  // JSON lines are buffered (written every 4 KB or 100 ms, and at exit); true writes each line at once.
  LOG_SYNC: bool.default(false),

};

type PoolSizes = { DB_POOL_MIN_CONNECTIONS: number; DB_POOL_MAX_CONNECTIONS: number };
function checkPoolSizes(env: PoolSizes, ctx: z.RefinementCtx): void {
  if (env.DB_POOL_MAX_CONNECTIONS < env.DB_POOL_MIN_CONNECTIONS) {
    ctx.addIssue({
      code: 'custom',
      path: ['DB_POOL_MAX_CONNECTIONS'],
      message: `must be >= DB_POOL_MIN_CONNECTIONS (${env.DB_POOL_MIN_CONNECTIONS})`,
    });
  }
}

/** The data layer's variables alone (the library's configuration). */
export const DbEnvSchema = z.object(dbFields).superRefine(checkPoolSizes);
export type DbEnv = z.infer<typeof DbEnvSchema>;

/** Every variable of docs/configuration.md, with its default. Keys are grouped by prefix. */
export const EnvSchema = z
  .object({
    ...dbFields,
    // Where the API listens.
    PORT: int(0, 65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    // Which .env file was chosen (read by the loader before this schema runs).
    APP_ENV: z.enum(['dev', 'preprod', 'production']).optional(),

    // Created at start-up when absent.
    ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
    ADMIN_PASSWORD: optionalString.pipe(z.string().min(8).max(256).optional()),

    // HS256 secret, at least 32 characters; required in production. Signs and verifies the access tokens.
    JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    // Earlier secrets, comma-separated (each at least 32 characters): they only verify, so rotating JWT_SECRET loses no session.
    JWT_PREVIOUS_SECRETS: optionalString
      .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0))
      .pipe(z.array(z.string().min(32, 'each secret must be at least 32 characters'))),
    // Access token lifetime in seconds.
    JWT_EXPIRES_IN: int(60, 86_400).default(900),
    // A refresh token's lifetime in seconds, renewed by each refresh (sliding), within SESSION_MAX_AGE_S.
    REFRESH_TOKEN_TTL_S: int(60, 31_536_000).default(1_209_600),
    // A session's absolute lifetime in seconds from its login, however often it is refreshed.
    SESSION_MAX_AGE_S: int(60, 31_536_000).default(7_776_000),
    // The refresh cookie's SameSite: strict (the frontend on the API's own site) or none (a frontend on another
    // site: the cookie is then always Secure).
    REFRESH_COOKIE_SAMESITE: z.enum(['strict', 'none']).default('strict'),
    // Password hashes (argon2id, 19 MiB each) computed at once per process; more wait in a short queue.
    PASSWORD_HASH_CONCURRENCY: int(1, 64).default(2),
    JWT_ISSUER: z.string().min(1).default('customer-api'),
    JWT_AUDIENCE: z.string().min(1).default('customer-api-clients'),
    // How long the answer of a request sent with an Idempotency-Key is kept (and replayed).
    IDEMPOTENCY_KEY_TTL_S: int(1, 31_536_000).default(86_400),
    // Customer exports running at once per process (one more → 429), and an export's longest run in seconds
    // (default 600).
    EXPORT_MAX_CONCURRENT: int(1, 64).default(2),
    EXPORT_TIMEOUT_S: int(1, 86_400).optional(),
    // An import's longest run in seconds (default 600; unset while EXPORT_TIMEOUT_S is set: that value, as before).
    IMPORT_TIMEOUT_S: int(1, 86_400).optional(),
    // The largest import body, in the `bytes` notation (100mb); one byte more → 413.
    IMPORT_MAX_BYTES: z
      .string()
      .regex(/^\d+(b|kb|mb|gb)?$/i, 'must look like 100mb or 1gb')
      .default('100mb')
      .transform((v) => Number(/^\d+/.exec(v)![0]) * 1024 ** ['b', 'kb', 'mb', 'gb'].indexOf(/[a-z]*$/i.exec(v)![0].toLowerCase() || 'b')),
    // How many days the history of changes is kept; 0 keeps it forever.
    HISTORY_RETENTION_DAYS: int(0, 36_500).default(730),
    // How long an instance trusts its cached copy of a token's user.
    AUTH_CACHE_TTL_MS: int(0, 3_600_000).default(5000),
    // The longest an API key may live, in days (its expiry is required).
    API_KEY_MAX_TTL_DAYS: int(1, 3650).default(365),
    // Requests a minute per API key (shared through REDIS_URL when it is set); 0: no limit.
    API_KEY_RATE_LIMIT_PER_MINUTE: int(0, 100_000_000).default(6000),

    // Comma-separated browser origins allowed to call the API (scheme://host[:port], as a browser sends Origin;
    // `*` lets any origin read answers, never with credentials). Listed origins may send the refresh cookie.
    CORS_ORIGINS: optionalString.pipe(corsOrigins),
    // Request body limit, in the `bytes` notation of Express (100kb, 1mb).
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)?$/i, 'must look like 100kb or 1mb')
      .default('100kb'),
    // Default locale of `message` fields.
    DEFAULT_LOCALE: z.enum(['en', 'tr']).default('en'),

    // /metrics, and the Bearer token that guards it when set.
    METRICS_ENABLED: bool.default(true),
    METRICS_TOKEN: optionalString,
    // Graceful drain limit.
    SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
    // How old the dashboard's numbers may be, in seconds (0 = always fresh).
    DASHBOARD_MAX_AGE_S: int(0, 86_400).default(10),
    // Redis for limits shared by all instances (the login rate limit); unset, each process counts alone.
    REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
    // Prefix of this deployment's keys in Redis (several deployments may share one Redis).
    REDIS_KEY_PREFIX: z.string().min(1).max(100).default('customer-api:'),
    // How many instances of the service (each with WEB_CONCURRENCY processes) share the database: for the start-up budget check.
    INSTANCES: int(1, 10_000).default(1),
    // Worker processes (each with its own pool).
    WEB_CONCURRENCY: int(1, 256).default(1),

    // Tracing (OpenTelemetry's own variables, docs/operations.md: Tracing): on when an OTLP endpoint is set.
    // The collector's base URL (http/protobuf: spans go to <it>/v1/traces).
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    // The traces URL itself, used as written (wins over OTEL_EXPORTER_OTLP_ENDPOINT).
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    // The rest never stop a start (a platform may set them for every service): a value this service does
    // not ship (grpc, an xray sampler) is read as the default, with a notice at start (config.ts).
    // http/protobuf (the default) or http/json; the traces one wins.
    OTEL_EXPORTER_OTLP_PROTOCOL: optionalString,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optionalString,
    // service.name of every span (default customer-api).
    OTEL_SERVICE_NAME: optionalString,
    // Which requests are traced: parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG 0.1 traces one in ten
    // (and whatever the caller's traceparent says it sampled). Default parentbased_always_on.
    OTEL_TRACES_SAMPLER: optionalString,
    // The ratio of the *traceidratio samplers, 0 to 1 (default 1).
    OTEL_TRACES_SAMPLER_ARG: optionalString,
    // true (any case): no tracing whatever the endpoint says.
    OTEL_SDK_DISABLED: optionalString,
  })
  .superRefine((env, ctx) => {
    checkPoolSizes(env, ctx);
    if (env.NODE_ENV === 'production') {
      if (!env.JWT_SECRET) {
        ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required in production' });
      }
      if (!env.DATABASE_URL && !env.PGHOST) {
        ctx.addIssue({
          code: 'custom',
          path: ['DATABASE_URL'],
          message: 'is required in production (the embedded database is for development only)',
        });
      }
    }
  });

export type Env = z.infer<typeof EnvSchema>;

/** Variables whose values are never printed, not even in an error. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['DATABASE_URL', 'DATABASE_REPLICA_URLS', 'JWT_SECRET', 'JWT_PREVIOUS_SECRETS', 'ADMIN_PASSWORD', 'METRICS_TOKEN', 'REDIS_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
