import { randomBytes } from 'node:crypto';
import { loadConfig, setConfig } from '../../../src/config/config';
import { settleKeyUses } from '../../../src/modules/keys';
import { api, expectApiError } from '../../helpers/api';
import { createUser, type TestUser } from '../../helpers/factories';
import { describeIf, listeningOn } from '../../helpers/needs';
import { expectNoClientInUse } from '../../helpers/pool';
import { freePort, startServer, stopServer, waitForHealth, type ServerProcess } from '../../helpers/server-process';

// The app of this file is built with a limit of 5 a minute per key (api() builds it on first use).
beforeAll(() => setConfig(loadConfig({ ...process.env, API_KEY_RATE_LIMIT_PER_MINUTE: '5' })));

const inADay = () => new Date(Date.now() + 86_400_000).toISOString();

async function keyFor(owner: TestUser, base?: string): Promise<string> {
  const body = { name: `limited ${randomBytes(3).toString('hex')}`, scopes: ['customers:read'], expires_at: inADay() };
  if (base === undefined) return `Bearer ${(await api().post('/api/keys').set('Authorization', owner.auth).send(body)).body.key as string}`;
  const res = await fetch(`${base}/api/keys`, { method: 'POST', headers: { authorization: owner.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return `Bearer ${((await res.json()) as { key: string }).key}`;
}

describe('the per-key rate limit', () => {
  afterEach(async () => {
    await settleKeyUses();
    expectNoClientInUse();
  });

  test('API_KEY_RATE_LIMIT_PER_MINUTE requests, then 429 with Retry-After; per key: another key and a token go on', async () => {
    const owner = await createUser();
    const [a, b] = [await keyFor(owner), await keyFor(owner)];
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await api().get('/api/customers?limit=1').set('Authorization', a)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const refused = await api().get('/api/customers?limit=1').set('Authorization', a);
    expectApiError(refused, 429, 'TOO_MANY_REQUESTS');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.headers['ratelimit']).toMatch(/^limit=5, remaining=0, reset=\d+$/);
    expect(refused.headers['ratelimit-policy']).toBe('5;w=60');
    expect((await api().get('/api/customers?limit=1').set('Authorization', b)).status).toBe(200);
    for (let i = 0; i < 7; i += 1) expect((await api().get('/api/customers?limit=1').set('Authorization', owner.auth)).status).toBe(200);
  });

  test('a refused key costs no count: requests without the scope do not use up the budget', async () => {
    const owner = await createUser();
    const key = await keyFor(owner);
    for (let i = 0; i < 8; i += 1) expectApiError(await api().get('/api/users').set('Authorization', key), 403, 'INSUFFICIENT_SCOPE');
    expect((await api().get('/api/customers?limit=1').set('Authorization', key)).status).toBe(200);
  });
});

const REDIS = 'redis://127.0.0.1:6379';

describeIf(listeningOn(6379), 'shared key limit', 'no Redis at 127.0.0.1:6379 (.ci/run installs and starts it)')('with REDIS_URL', () => {
  const running: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => stopServer(s)));
  });

  test('two instances share one count per key: 3 on one and 2 on the other, then 429 on both', async () => {
    const prefix = `customer-api-test-${randomBytes(4).toString('hex')}:`;
    for (let i = 0; i < 2; i += 1) {
      const server = startServer(
        { DATABASE_URL: process.env.DATABASE_URL!, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'warn', DB_MIGRATE_ON_START: 'false', REDIS_URL: REDIS, REDIS_KEY_PREFIX: prefix, API_KEY_RATE_LIMIT_PER_MINUTE: '5' },
        await freePort(),
      );
      running.push(server);
    }
    await Promise.all(running.map((s) => waitForHealth(s)));
    const [a, b] = running as [ServerProcess, ServerProcess];
    const owner = await createUser();
    const key = await keyFor(owner, a.base);
    const get = async (server: ServerProcess) => (await fetch(`${server.base}/api/customers?limit=1`, { headers: { authorization: key } })).status;
    const statuses: number[] = [];
    for (const server of [a, a, a, b, b]) statuses.push(await get(server));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(await get(a)).toBe(429);
    expect(await get(b)).toBe(429);
  }, 60_000);
});
