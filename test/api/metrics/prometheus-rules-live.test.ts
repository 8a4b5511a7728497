import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createCustomer, createUser } from '../../helpers/factories';
import { describeIf } from '../../helpers/needs';
import { freePort, startServer, stopServer, waitForHealth, type ServerProcess } from '../../helpers/server-process';

// A real Prometheus (Debian's package; .ci/run installs it) scrapes a running API with the scrape config
// of docs/operations.md and loads ops/prometheus/customer-api-rules.yml: the rules load and evaluate,
// and a pool alert fires when the pool is held.
const PROMETHEUS = spawnSync('prometheus', ['--version']).status === 0;
const RULES = join(__dirname, '..', '..', '..', 'ops', 'prometheus', 'customer-api-rules.yml');
const METRICS_TOKEN = 'live-prometheus-scrape-token';

interface Rule {
  name: string;
  health: string;
  lastError?: string;
}
interface Alert {
  labels: { alertname: string; pool_name?: string };
  state: string;
}

const until = async <T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
  const started = Date.now();
  for (;;) {
    const value = await get().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

describeIf(PROMETHEUS, 'live Prometheus', 'no prometheus binary (apt-get install prometheus; .ci/run installs it)')('the alert rules in a real Prometheus', () => {
  let api: ServerProcess;
  let prometheus: ChildProcess;
  let dir: string;
  let promBase: string;

  beforeAll(async () => {
    // One client in the pool, a short acquire timeout: a held client makes the next callers time out.
    api = startServer(
      {
        DATABASE_URL: process.env.DATABASE_URL!,
        JWT_SECRET: process.env.JWT_SECRET!,
        LOG_LEVEL: 'warn',
        DB_MIGRATE_ON_START: 'false',
        DB_POOL_MIN_CONNECTIONS: '1',
        DB_POOL_MAX_CONNECTIONS: '1',
        DB_POOL_ACQUIRE_TIMEOUT_MS: '300',
        METRICS_TOKEN,
      },
      await freePort(),
    );
    await waitForHealth(api);
    dir = await mkdtemp(join(tmpdir(), 'customer-api-prometheus-'));
    const port = await freePort();
    promBase = `http://127.0.0.1:${port}`;
    // docs/operations.md's scrape config, with this API as the target and short intervals.
    await writeFile(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${RULES}']`,
        'scrape_configs:',
        '  - job_name: customer-api',
        '    metrics_path: /metrics',
        `    authorization: { credentials: ${METRICS_TOKEN} }`,
        '    static_configs:',
        `      - targets: ['127.0.0.1:${api.port}']`,
        '',
      ].join('\n'),
    );
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  }, 60_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await stopServer(api);
    await rm(dir, { recursive: true, force: true });
  });

  test('the rules load, and every rule evaluates without error against the live series', async () => {
    const rules = await until('every rule evaluated', async () => {
      const body = (await (await fetch(`${promBase}/api/v1/rules`)).json()) as { data: { groups: { rules: Rule[] }[] } };
      const all = body.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health !== 'unknown') ? all : undefined;
    });
    expect(rules.length).toBe(15);
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
    // The scrape target (Prometheus hands out discovered targets every 5 s), scraped with METRICS_TOKEN.
    const health = await until('the API scraped', async () => {
      const body = (await (await fetch(`${promBase}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string }[] } };
      const states = body.data.activeTargets.map((t) => t.health);
      return states.length > 0 && states.every((h) => h !== 'unknown') ? states : undefined;
    });
    expect(health).toEqual(['up']);
  }, 60_000);

  test('a held pool: callers time out, and CustomerApiPoolAcquireTimeouts fires', async () => {
    const user = await createUser();
    const customer = await createCustomer();
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      // The pool's one client waits behind this lock; every other caller times out after 300 ms.
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE customers IN ACCESS EXCLUSIVE MODE');
      const read = () => fetch(`${api.base}/api/customers/${customer.id}`, { headers: { authorization: user.auth } });
      const held = read();
      await new Promise((r) => setTimeout(r, 200));
      const statuses = await Promise.all(Array.from({ length: 5 }, async () => (await read()).status));
      expect(statuses).toEqual([503, 503, 503, 503, 503]);
      const firing = await until('the alert firing', async () => {
        const body = (await (await fetch(`${promBase}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
        return body.data.alerts.find((a) => a.labels.alertname === 'CustomerApiPoolAcquireTimeouts' && a.state === 'firing');
      });
      expect(firing.labels.pool_name).toBeDefined();
      await admin.query('ROLLBACK');
      expect((await held).status).toBe(200);
    } finally {
      await admin.end();
    }
  }, 60_000);
});
