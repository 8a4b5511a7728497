import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, selectEnvFile } from '../../../src/config/config';

const BASE = { ENV_FILE: '/dev/null', DATABASE_URL: 'postgres://u@localhost:5432/db' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  test('reads DATABASE_REPLICA_URLS as a list, and names a bad entry without printing it', () => {
    const config = loadConfig({ ...BASE, DATABASE_REPLICA_URLS: ' postgres://r1:5432/db , postgres://r2/db,', DB_REPLICA_MAX_LAG_MS: '250' });
    expect(config.db.replicaUrls).toEqual(['postgres://r1:5432/db', 'postgres://r2/db']);
    expect(config.db.replicaMaxLagMs).toBe(250);
    const problems = problemsOf({ DATABASE_REPLICA_URLS: 'postgres://r1/db,mysql://secret-host/db' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DATABASE_REPLICA_URLS/);
    expect(problems[0]).not.toContain('secret-host');
  });

  test('takes a DATABASE_URL with several hosts, and names a bad host list without printing the URL', () => {
    const url = 'postgres://postgres:pw@127.0.0.1:5521,127.0.0.1:5522/app?target_session_attrs=read-write';
    expect(loadConfig({ ...BASE, DATABASE_URL: url }).db.url).toBe(url);
    const problems = problemsOf({ DATABASE_URL: 'postgres://postgres:secret-pw@h1,:5522/app' });
    expect(problems).toEqual(['DATABASE_URL: has an empty or malformed host in its host list']);
    expect(problemsOf({ PGTARGETSESSIONATTRS: 'primary-ish' })[0]).toMatch(/^PGTARGETSESSIONATTRS/);
  });

  test('gives the documented defaults', () => {
    const config = loadConfig(BASE);
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      db: {
        minConnections: 2,
        maxConnections: 10,
        idleTimeoutMs: 30_000,
        acquireTimeoutMs: 5000,
        maxWaiting: 200,
        maxLifetimeSeconds: 1800,
        maxUses: 0,
        statementTimeoutMs: 15_000,
        sslMode: 'prefer',
        embedded: false,
        seedDemoData: false,
        preparedStatements: true,
        replicaUrls: [],
        replicaMaxLagMs: 5000,
      },
      jwt: { expiresInSeconds: 900, previousSecrets: [], issuer: 'customer-api', audience: 'customer-api-clients' },
      sessions: { refreshTtlSeconds: 1_209_600, maxAgeSeconds: 7_776_000 },
      passwordHashConcurrency: 2,
      historyRetentionDays: 730,
      http: { bodyLimit: '100kb', defaultLocale: 'en', corsOrigins: [] },
      transfer: { exportMaxConcurrent: 2, exportTimeoutSeconds: 600, importTimeoutSeconds: 600, importMaxBytes: 100 * 1024 * 1024 },
      notices: [],
    });
    expect(Object.isFrozen(config.db)).toBe(true);
  });

  test('IMPORT_TIMEOUT_S limits imports on their own; EXPORT_TIMEOUT_S alone still limits both, with a notice', () => {
    expect(loadConfig({ ...BASE, EXPORT_TIMEOUT_S: '60', IMPORT_TIMEOUT_S: '3600' })).toMatchObject({ transfer: { exportTimeoutSeconds: 60, importTimeoutSeconds: 3600 }, notices: [] });
    expect(loadConfig({ ...BASE, IMPORT_TIMEOUT_S: '30' }).transfer).toMatchObject({ exportTimeoutSeconds: 600, importTimeoutSeconds: 30 });
    const old = loadConfig({ ...BASE, EXPORT_TIMEOUT_S: '90' });
    expect(old.transfer).toMatchObject({ exportTimeoutSeconds: 90, importTimeoutSeconds: 90 });
    expect(old.notices).toEqual([expect.stringMatching(/^EXPORT_TIMEOUT_S \(90\) also limits imports.*set IMPORT_TIMEOUT_S/)]);
    expect(problemsOf({ IMPORT_TIMEOUT_S: '0' })).toEqual([expect.stringMatching(/^IMPORT_TIMEOUT_S: /)]);
  });

  test('names each bad variable with its problem, one line each', () => {
    const problems = problemsOf({ PORT: 'eighty', DB_POOL_MAX_CONNECTIONS: '0', DB_SSLMODE: 'sometimes', LOG_LEVEL: 'loud' });
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('PORT:'))).toContain('"eighty"');
    expect(problems.find((p) => p.startsWith('DB_POOL_MAX_CONNECTIONS:'))).toMatch(/>=\s*1/);
    expect(problems.find((p) => p.startsWith('DB_SSLMODE:'))).toContain('prefer');
    expect(problems.some((p) => p.startsWith('LOG_LEVEL:'))).toBe(true);
  });

  test('max below min is refused with both numbers', () => {
    expect(problemsOf({ DB_POOL_MIN_CONNECTIONS: '5', DB_POOL_MAX_CONNECTIONS: '3' })).toEqual([
      'DB_POOL_MAX_CONNECTIONS: must be >= DB_POOL_MIN_CONNECTIONS (5) (got "3")',
    ]);
  });

  test('never prints a secret value', () => {
    const problems = problemsOf({ JWT_SECRET: 'short-secret-value', DATABASE_URL: 'mysql://user:hunter2@host/db' });
    const text = problems.join('\n');
    expect(text).toContain('JWT_SECRET');
    expect(text).toContain('DATABASE_URL');
    expect(text).not.toContain('short-secret-value');
    expect(text).not.toContain('hunter2');
  });

  test('production requires DATABASE_URL and JWT_SECRET', () => {
    const problems = loadConfigProblems({ ENV_FILE: '/dev/null', NODE_ENV: 'production' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'JWT_SECRET']);
  });

  test('without DATABASE_URL or PGHOST the embedded database is used, with demo data', () => {
    const config = loadConfig({ ENV_FILE: '/dev/null' });
    expect(config.db).toMatchObject({ url: undefined, embedded: true, seedDemoData: true, embeddedDir: '.data/postgres' });
    expect(loadConfig({ ENV_FILE: '/dev/null', PGHOST: 'db.internal' }).db.embedded).toBe(false);
  });

  test('reads the env file, and real environment variables win over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'customer-api-config-'));
    const file = join(dir, '.env.test');
    writeFileSync(file, 'DB_POOL_MIN_CONNECTIONS=5\nDB_POOL_MAX_CONNECTIONS=20\nPORT=4000\n');
    const config = loadConfig({ ENV_FILE: file, DATABASE_URL: BASE.DATABASE_URL, PORT: '5000' });
    expect(config.db).toMatchObject({ minConnections: 5, maxConnections: 20 });
    expect(config.port).toBe(5000);
  });

  test('reads CORS_ORIGINS as origins written as a browser sends them, `*` apart; refuses anything else, naming it', () => {
    const config = loadConfig({ ...BASE, CORS_ORIGINS: ' https://app.example.com, http://localhost:5173,*,https://app.example.com ' });
    expect(config.http).toMatchObject({ corsOrigins: ['https://app.example.com', 'http://localhost:5173'], corsAnyOrigin: true });
    expect(loadConfig(BASE).http).toMatchObject({ corsOrigins: [], corsAnyOrigin: false });
    for (const bad of ['https://app.example.com/', 'https://App.example.com', 'https://app.example.com:443', 'app.example.com', 'ftp://files.example.com']) {
      const problems = problemsOf({ CORS_ORIGINS: `http://localhost:5173,${bad}` });
      expect([bad, problems.length, problems[0]]).toEqual([bad, 1, expect.stringMatching(/^CORS_ORIGINS: .* is not an origin/)]);
      expect(problems[0]).toContain(bad);
    }
  });

  test('REFRESH_COOKIE_SAMESITE is strict by default, or none', () => {
    expect(loadConfig(BASE).sessions.refreshCookieSameSite).toBe('strict');
    expect(loadConfig({ ...BASE, REFRESH_COOKIE_SAMESITE: 'none' }).sessions.refreshCookieSameSite).toBe('none');
    expect(problemsOf({ REFRESH_COOKIE_SAMESITE: 'lax' })[0]).toMatch(/^REFRESH_COOKIE_SAMESITE: .*strict.*none/);
  });

  test('a missing env file named by ENV_FILE is an error', () => {
    expect(() => loadConfig({ ENV_FILE: '/nonexistent/.env' })).toThrow(ConfigError);
  });

  test("the repository's per-environment files carry the seed's pool sizes", () => {
    const sizes = (appEnv: string) => loadConfig({ APP_ENV: appEnv, DATABASE_URL: BASE.DATABASE_URL, JWT_SECRET: 'x'.repeat(32) }).db;
    expect(sizes('dev')).toMatchObject({ minConnections: 2, maxConnections: 10 });
    expect(sizes('preprod')).toMatchObject({ minConnections: 5, maxConnections: 20 });
    const prod = loadConfig({ ENV_FILE: '.env.production.template', DATABASE_URL: BASE.DATABASE_URL, JWT_SECRET: 'x'.repeat(32), DB_SSL_CA_FILE: '' }).db;
    expect(prod).toMatchObject({ minConnections: 8, maxConnections: 24 });
  });
});

describe('selectEnvFile', () => {
  test('ENV_FILE, else .env.$APP_ENV, else .env when present', () => {
    expect(selectEnvFile({ ENV_FILE: 'a.env', APP_ENV: 'dev' })).toBe('a.env');
    expect(selectEnvFile({ APP_ENV: 'preprod' })).toBe('.env.preprod');
    expect(selectEnvFile({}, () => true)).toBe('.env');
    expect(selectEnvFile({}, () => false)).toBeUndefined();
  });
});

function loadConfigProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    return err instanceof ConfigError ? [...err.problems] : [];
  }
}

describe('tracing (OTEL_*)', () => {
  test('off without an endpoint, whatever else is set; on with one, the traces path added', () => {
    expect(loadConfig({ ...BASE, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).tracing).toBeUndefined();
    expect(loadConfig({ ...BASE, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'customer-api',
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
    });
    expect(loadConfig({ ...BASE, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/x' }).tracing?.url).toBe('http://t:4318/x');
    expect(loadConfig({ ...BASE, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }).tracing).toBeUndefined();
  });

  test('a value this service does not ship never stops a start: the default, with a notice; empty is unset', () => {
    const config = loadConfig({ ...BASE, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER: 'xray', OTEL_TRACES_SAMPLER_ARG: '7', OTEL_SERVICE_NAME: '' });
    expect(config.tracing).toMatchObject({ protocol: 'http/protobuf', sampler: 'parentbased_always_on', samplerRatio: 1, serviceName: 'customer-api' });
    expect(config.notices.filter((n) => n.startsWith('OTEL_'))).toHaveLength(3);
    expect(config.notices).toContainEqual(expect.stringMatching(/^OTEL_EXPORTER_OTLP_PROTOCOL=grpc /));
    expect(loadConfig({ ...BASE, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '' }).tracing?.samplerRatio).toBe(1);
  });
});
