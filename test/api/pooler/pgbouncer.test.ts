import { QueryTimeoutError, applySessionSettingsToRole, closePool, executeQuery, executeWrite, startupSettingsRefused, warmPool } from '../../../src/db';
import { NO_TRANSACTION_MARKER, migrate, readMigrations, toMigration } from '../../../src/db/migrate';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { describeIf } from '../../helpers/needs';
import { PGBOUNCER, startPgBouncer as startPgBouncerFor, type Bouncer } from '../../helpers/pgbouncer';
import { usePoolConfig } from '../../helpers/pool';
import { freePort, startServer, stopServer, waitForHealth, type ServerProcess } from '../../helpers/server-process';

// Two API processes with their default settings behind Debian's PgBouncer (1.18: no prepared statements
// across transactions, start-up parameters refused), in transaction mode and then in session mode.
const withPgBouncer = () => describeIf(PGBOUNCER !== undefined, 'pgbouncer tests', 'no pgbouncer binary here (apt-get install pgbouncer; .ci/run installs it)');

/** PgBouncer in front of this file's test database. */
const startPgBouncer = (mode: 'transaction' | 'session') =>
  startPgBouncerFor(process.env.DATABASE_URL!, mode, mode === 'session' ? 25 : 10); // session: a server connection per API pool slot (2 × 10)

let admin: TestUser;
let customerIds: number[];

beforeAll(async () => {
  admin = await createUser({ role: 'admin' });
  customerIds = [];
  for (let i = 0; i < 20; i += 1) customerIds.push((await createCustomer({ name: `Pooled ${i}`, city: 'Ankara' })).id);
});

/** One of everything the frontend and ops do, against one API process; returns each answer's status. */
async function exercise(base: string, n: number): Promise<{ what: string; status: number }[]> {
  const call = async (what: string, path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: admin.auth, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    await res.arrayBuffer();
    return { what, status: res.status };
  };
  const id = customerIds[n % customerIds.length]!;
  const created = await fetch(`${base}/api/customers`, { method: 'POST', headers: { authorization: admin.auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: `Made ${n}` }) });
  const made = (await created.json()) as { id: number; version: number };
  const results = [{ what: 'POST customer', status: created.status }];
  results.push(
    ...(await Promise.all([
      // Two logins per process: express-rate-limit counts concurrent attempts before it forgives the successful ones.
      n < 4 ? call('login', '/api/auth/login', { method: 'POST', body: JSON.stringify({ email: admin.user.email, password: admin.password }) }) : call('me', '/api/auth/me'),
      call('me', '/api/auth/me'),
      call('by id', `/api/customers/${id}`),
      call('list', '/api/customers?limit=5&city=Ankara'),
      call('search', '/api/customers?q=pooled'),
      call('dashboard', '/api/dashboard'),
      call('health db', '/api/health/db'),
      call('health db test', '/api/health/db/test'),
      call('users list', '/api/users?limit=5'),
    ])),
  );
  // Readiness has 1 s to run SELECT 1 through the pool: asked after the burst above, not queued behind it.
  results.push(await call('ready', '/api/health/ready'));
  results.push(await call('PATCH If-Match', `/api/customers/${made.id}`, { method: 'PATCH', headers: { 'if-match': `"${made.version}"` }, body: JSON.stringify({ notes: 'n' }) }));
  results.push(await call('PATCH stale', `/api/customers/${made.id}`, { method: 'PATCH', headers: { 'if-match': `"${made.version}"` }, body: JSON.stringify({ notes: 'm' }) }));
  // A transaction (the users service creates a user and checks the admins in one).
  results.push(await call('POST user', '/api/users', { method: 'POST', body: JSON.stringify({ email: `pooled-${n}-${Date.now()}@example.com`, name: 'Pooled', password: 'long-enough-pw' }) }));
  results.push(await call('DELETE customer', `/api/customers/${made.id}`, { method: 'DELETE' }));
  // An API key: made, used for what its scopes allow (and refused for the rest), revoked, then refused.
  const keyMade = await fetch(`${base}/api/keys`, {
    method: 'POST',
    headers: { authorization: admin.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `pooled ${n}`, scopes: ['customers:read', 'health:read'], expires_at: new Date(Date.now() + 86_400_000).toISOString() }),
  });
  const key = (await keyMade.json()) as { id: string; key: string };
  results.push({ what: 'POST key', status: keyMade.status });
  const withKey = async (what: string, path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' } });
    await res.arrayBuffer();
    return { what, status: res.status };
  };
  results.push(
    ...(await Promise.all([
      withKey('key by id', `/api/customers/${id}`),
      withKey('key search', '/api/customers?q=pooled'),
      withKey('key health db test', '/api/health/db/test'),
      withKey('key write', '/api/customers', { method: 'POST', body: JSON.stringify({ name: 'By a key' }) }),
    ])),
  );
  results.push(await call('DELETE key', `/api/keys/${key.id}`, { method: 'DELETE' }));
  results.push(await withKey('key revoked', `/api/customers/${id}`));
  return results;
}

const EXPECTED: Record<string, number> = {
  'POST customer': 201,
  login: 200,
  me: 200,
  'by id': 200,
  list: 200,
  search: 200,
  dashboard: 200,
  'health db': 200,
  'health db test': 200,
  ready: 200,
  'users list': 200,
  'PATCH If-Match': 200,
  'PATCH stale': 412,
  'POST user': 201,
  'DELETE customer': 204,
  'POST key': 201,
  'key by id': 200,
  'key search': 200,
  'key health db test': 200,
  'key write': 403,
  'DELETE key': 204,
  'key revoked': 401,
};

withPgBouncer().each(['transaction', 'session'] as const)('two API processes behind PgBouncer in %s mode', (mode) => {
  let bouncer: Bouncer;
  let servers: ServerProcess[];

  beforeAll(async () => {
    bouncer = await startPgBouncer(mode);
    servers = [];
    for (let i = 0; i < 2; i += 1) {
      const server = startServer({ DATABASE_URL: bouncer.url, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'warn', DB_MIGRATE_ON_START: 'false' }, await freePort());
      servers.push(server);
    }
    await Promise.all(servers.map((s) => waitForHealth(s)));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => stopServer(s)));
    await bouncer.stop();
  });

  test('logins, reads, writes, If-Match, transactions and the health routes: every answer as expected, from both, concurrently', async () => {
    const rounds = await Promise.all(Array.from({ length: 12 }, (_, n) => exercise(servers[n % 2]!.base, n)));
    const unexpected = rounds.flat().filter((r) => r.status !== EXPECTED[r.what]);
    expect(unexpected).toEqual([]);
    expect(rounds.flat()).toHaveLength(12 * Object.keys(EXPECTED).length);
    expect(rounds.flat().filter((r) => r.what === 'login')).toHaveLength(4);
  }, 60_000);

  test('no error lines in either process log', () => {
    for (const server of servers) {
      const errors = server.output().split('\n').filter((line) => /"level":(50|60)/.test(line));
      expect(errors).toEqual([]);
    }
  });
});

withPgBouncer()('timeouts behind PgBouncer in transaction mode', () => {
  afterEach(async () => {
    await closePool();
  });

  test('connected directly, the sessions have their settings already: nothing is written to the role', async () => {
    await usePoolConfig({ DB_STATEMENT_TIMEOUT_MS: '15000' });
    expect(await applySessionSettingsToRole()).toBe(false);
  });

  test('the service writes its session settings to the role; a slow statement through PgBouncer is cancelled by the server', async () => {
    const first = await startPgBouncer('transaction');
    try {
      await usePoolConfig({ DATABASE_URL: first.url, DB_STATEMENT_TIMEOUT_MS: '500', DB_STARTUP_RETRIES: '1' });
      await warmPool();
      expect(startupSettingsRefused()).toBe(true);
      expect(await applySessionSettingsToRole()).toBe(true);
      expect(await applySessionSettingsToRole()).toBe(false);
      await closePool();
    } finally {
      await first.stop();
    }
    // A new PgBouncer: every server session it opens starts with the role's settings.
    const second = await startPgBouncer('transaction');
    try {
      await usePoolConfig({ DATABASE_URL: second.url, DB_STATEMENT_TIMEOUT_MS: '500' });
      expect(await executeQuery('SHOW plan_cache_mode')).toEqual([{ plan_cache_mode: 'force_generic_plan' }]);
      expect(await executeQuery('SHOW jit')).toEqual([{ jit: 'off' }]);
      const started = Date.now();
      await expect(executeQuery('SELECT pg_sleep(3)')).rejects.toBeInstanceOf(QueryTimeoutError);
      // The server's 500 ms, not the client's backstop (500 ms + 2 s).
      expect(Date.now() - started).toBeLessThan(2000);
      await closePool();
    } finally {
      await second.stop();
    }
  }, 60_000);

  test('migrations run through PgBouncer in transaction mode past the role\'s statement timeout, a concurrent index build included', async () => {
    const bouncer = await startPgBouncer('transaction');
    const extra = [
      toMigration('997-test-pgbouncer-slow.sql', 'SELECT pg_sleep(1); CREATE TABLE pgb_mig_probe (id int, v text);'),
      toMigration('998-test-pgbouncer-cic.sql', `${NO_TRANSACTION_MARKER}\nCREATE INDEX CONCURRENTLY IF NOT EXISTS pgb_mig_probe_v_idx ON pgb_mig_probe (v);\n`),
    ];
    try {
      await usePoolConfig({ DATABASE_URL: bouncer.url, DB_STATEMENT_TIMEOUT_MS: '500' });
      await warmPool();
      await applySessionSettingsToRole();
      // Through PgBouncer every server session has the role's 500 ms.
      expect(await executeQuery('SHOW statement_timeout')).toEqual([{ statement_timeout: '500ms' }]);
      expect(await migrate([...readMigrations(), ...extra])).toEqual(extra.map((m) => m.name));
      expect(await executeQuery("SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('pgb_mig_probe_v_idx')")).toEqual([{ valid: true }]);
    } finally {
      await executeWrite('DELETE FROM schema_migrations WHERE name = ANY($1)', [extra.map((m) => m.name)]).catch(() => undefined);
      await executeWrite('DROP TABLE IF EXISTS pgb_mig_probe').catch(() => undefined);
      await closePool();
      await bouncer.stop();
    }
  }, 60_000);
});
