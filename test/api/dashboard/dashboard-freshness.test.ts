import { addTelemetryListener } from '../../../src/db';
import { getConfig, setConfig } from '../../../src/config/config';
import * as repository from '../../../src/modules/dashboard/dashboard-repository';
import { api } from '../../helpers/api';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';

process.env.DASHBOARD_MAX_AGE_S = '10';

let caller: TestUser;

beforeAll(async () => {
  caller = await createUser();
  await createCustomer({ status: 'active' });
});

const dashboard = () => api().get('/api/dashboard').set('Authorization', caller.auth);

/** How many dashboard statements ran while `work` ran. */
async function dashboardQueries(work: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const stop = addTelemetryListener({ onQuery: (operation) => (count += operation === 'WITH' ? 1 : 0) });
  try {
    await work();
  } finally {
    stop();
  }
  return count;
}

describe('GET /api/dashboard: at most DASHBOARD_MAX_AGE_S old, never computed twice at once', () => {
  test('20 concurrent requests on a cold process compute it once, and all get the same numbers', async () => {
    // Fills the auth caches without touching the dashboard, which stays cold.
    expect((await api().get('/api/auth/me').set('Authorization', caller.auth)).status).toBe(200);
    const answers: { generated_at: string }[] = [];
    const computed = await dashboardQueries(async () => {
      const all = await Promise.all(Array.from({ length: 20 }, () => dashboard()));
      answers.push(...all.map((r) => r.body));
    });
    expect(computed).toBe(1);
    expect(new Set(answers.map((a) => a.generated_at)).size).toBe(1);
  });

  test('within the max age, an answer comes from memory, with Cache-Control saying how long it stays good', async () => {
    const first = await dashboard();
    let second: Awaited<ReturnType<typeof dashboard>> | undefined;
    const computed = await dashboardQueries(async () => {
      second = await dashboard();
    });
    expect(computed).toBe(0);
    expect(second!.body.generated_at).toBe(first.body.generated_at);
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(second!.headers['cache-control'] ?? '')?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(0);
    expect(maxAge).toBeLessThanOrEqual(10);
    expect(Date.now() - Date.parse(second!.body.generated_at)).toBeLessThanOrEqual(10_000);
  });

  test('an answer older than the max age is never served: after it, a new write shows', async () => {
    setConfig({ ...getConfig(), dashboardMaxAgeSeconds: 1 });
    const before = (await dashboard()).body.customers.total;
    await createCustomer();
    await new Promise((r) => setTimeout(r, 1100));
    const after = await dashboard();
    expect(after.body.customers.total).toBe(before + 1);
    expect(Date.now() - Date.parse(after.body.generated_at)).toBeLessThanOrEqual(1000);
  });

  test('DASHBOARD_MAX_AGE_S=0: each answer is computed after its request came, computations never overlap', async () => {
    setConfig({ ...getConfig(), dashboardMaxAgeSeconds: 0 });
    const sent = Date.now();
    let running = 0;
    let overlapped = false;
    const original = repository.readDashboard;
    const spy = jest.spyOn(repository, 'readDashboard').mockImplementation(async () => {
      running += 1;
      if (running > 1) overlapped = true;
      try {
        return await original();
      } finally {
        running -= 1;
      }
    });
    try {
      const all = await Promise.all(Array.from({ length: 10 }, () => dashboard()));
      for (const res of all) {
        expect(res.status).toBe(200);
        expect(Date.parse(res.body.generated_at)).toBeGreaterThanOrEqual(sent);
        expect(res.headers['cache-control']).toBe('private, max-age=0');
      }
      expect(overlapped).toBe(false);
      expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      spy.mockRestore();
    }
  });
});
