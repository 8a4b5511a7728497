import { randomBytes } from 'node:crypto';
import { createUser, type TestUser } from '../../helpers/factories';
import { describeIf, listeningOn } from '../../helpers/needs';
import { freePort, startServer, stopServer, waitForHealth, type ServerProcess } from '../../helpers/server-process';

// REDIS_URL: every instance counts login attempts in one place. Redis runs at 127.0.0.1:6379 on the
// project's machines (.ci/run installs and starts it); where it does not, the shared-budget test says so and skips.
const REDIS = 'redis://127.0.0.1:6379';

let user: TestUser;
const running: ServerProcess[] = [];

beforeAll(async () => {
  user = await createUser();
});

afterAll(async () => {
  await Promise.all(running.map((s) => stopServer(s)));
});

// Keys of this run only: the per-address limit would otherwise count every earlier run from 127.0.0.1.
const KEY_PREFIX = `customer-api-test-${randomBytes(4).toString('hex')}:`;

async function start(redisUrl: string): Promise<ServerProcess> {
  const server = startServer(
    { DATABASE_URL: process.env.DATABASE_URL!, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'warn', DB_MIGRATE_ON_START: 'false', REDIS_URL: redisUrl, REDIS_KEY_PREFIX: KEY_PREFIX },
    await freePort(),
  );
  running.push(server);
  await waitForHealth(server);
  return server;
}

const login = async (server: ServerProcess, email: string, password: string) =>
  (await fetch(`${server.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })).status;

describeIf(listeningOn(6379), 'shared rate limit', 'no Redis at 127.0.0.1:6379 (.ci/run installs and starts it)')('the login rate limit with a reachable Redis', () => {
  test('two instances share one budget: 3 failures on one and 2 on the other lock the email on both', async () => {
    const [a, b] = [await start(REDIS), await start(REDIS)];
    const email = `nobody-${randomBytes(4).toString('hex')}@example.com`;
    const statuses = [];
    for (const server of [a, a, a, b, b]) statuses.push(await login(server, email, 'wrong-password'));
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    expect(await login(a, email, 'wrong-password')).toBe(429);
    expect(await login(b, email, 'wrong-password')).toBe(429);
    expect(await login(b, user.user.email, user.password)).toBe(200);
  }, 60_000);
});

describe('the login rate limit with an unreachable Redis', () => {
  test('Redis unreachable: logins still work (fail open), with a warn line and rate_limit_store_errors_total', async () => {
    const closedPort = await freePort();
    const server = await start(`redis://127.0.0.1:${closedPort}`);
    expect(await login(server, user.user.email, user.password)).toBe(200);
    expect(await login(server, user.user.email, 'wrong-password')).toBe(401);
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(Number(/^rate_limit_store_errors_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(server.output()).toContain('rate limit store (Redis) unavailable');
    expect(server.output()).not.toMatch(/"level":50/);
  }, 60_000);
});
