import { freePort, startServer, stopServer, waitForHealth } from '../../helpers/server-process';

describe('WEB_CONCURRENCY=2', () => {
  test('forks two workers that share the port, each with its own pool, and stops them all on SIGTERM', async () => {
    const server = startServer(
      { DATABASE_URL: process.env.DATABASE_URL!, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'info', WEB_CONCURRENCY: '2', DB_POOL_MIN_CONNECTIONS: '1' },
      await freePort(),
    );
    try {
      await waitForHealth(server);
      const pids = new Set<number>();
      for (let i = 0; i < 40 && pids.size < 2; i += 1) {
        await fetch(`${server.base}/api/health`, { headers: { connection: 'close' } });
        await new Promise((r) => setTimeout(r, 100));
        for (const match of server.output().matchAll(/"pid":(\d+),"msg":"customer-api listening/g)) pids.add(Number(match[1]));
      }
      expect(pids.size).toBe(2);
      expect(pids.has(server.child.pid!)).toBe(false);
    } finally {
      expect(await stopServer(server)).toBe(0);
    }
    expect(server.output().match(/shutdown complete/g)).toHaveLength(2);
  }, 30_000);
});

describe('the start-up connection budget', () => {
  test('counts INSTANCES × WEB_CONCURRENCY × DB_POOL_MAX_CONNECTIONS against the server, and says so at warn', async () => {
    const run = async (instances: string) => {
      const server = startServer(
        { DATABASE_URL: process.env.DATABASE_URL!, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'info', DB_MIGRATE_ON_START: 'false', INSTANCES: instances, DB_POOL_MAX_CONNECTIONS: '10' },
        await freePort(),
      );
      await waitForHealth(server);
      await stopServer(server);
      return server.output();
    };
    expect(await run('1')).toMatch(/connection budget fits: 1 process\(es\) × 10 = 10 of \d+/);
    expect(await run('20')).toContain('connection budget exceeded: 20 instance(s) × 1 process(es) × 10 = 200');
  }, 30_000);
});
