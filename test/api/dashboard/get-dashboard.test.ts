import { addTelemetryListener } from '../../../src/db';
import { api, expectApiError } from '../../helpers/api';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { executeWrite } from '../../../src/db';

// Every request here computes afresh (the cache has its own test file).
process.env.DASHBOARD_MAX_AGE_S = '0';

let caller: TestUser;

// This file's database holds exactly these rows.
beforeAll(async () => {
  caller = await createUser();
  await createUser({ is_active: false });
  const rows: [string, 'lead' | 'active' | 'inactive', string | null][] = [
    ['İstanbul', 'lead', null],
    ['İstanbul', 'active', null],
    ['İstanbul', 'active', null],
    ['Ankara', 'inactive', null],
    ['Ankara', 'active', null],
    ['İzmir', 'lead', '60 days'],
    [null as unknown as string, 'lead', '40 days'],
  ];
  for (const [city, status, age] of rows) {
    const c = await createCustomer({ city, status });
    if (age) await executeWrite(`UPDATE customers SET created_at = NOW() - INTERVAL '${age}' WHERE id = $1`, [c.id]);
  }
});

describe('GET /api/dashboard', () => {
  test('answers the counts, top cities and the 5 newest customers', async () => {
    const res = await api().get('/api/dashboard').set('Authorization', caller.auth);
    expect(res).toMatchObject({
      status: 200,
      body: {
        customers: { total: 7, by_status: { lead: 3, active: 3, inactive: 1 }, new_last_30_days: 5 },
        users: { total: 2, active: 1 },
        top_cities: [
          { city: 'İstanbul', count: 3 },
          { city: 'Ankara', count: 2 },
          { city: 'İzmir', count: 1 },
        ],
      },
    });
    expect(res.body.recent_customers).toHaveLength(5);
    expect(res.body.recent_customers[0]).toMatchObject({ id: expect.any(Number), version: 1, status: expect.any(String) });
    const times = res.body.recent_customers.map((c: { created_at: string }) => Date.parse(c.created_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(Math.abs(Date.parse(res.body.generated_at) - Date.now())).toBeLessThan(60_000);
    expect(res.headers['cache-control']).toBe('private, max-age=0');
  });

  test('takes one database round trip (authentication aside)', async () => {
    await api().get('/api/dashboard').set('Authorization', caller.auth); // fills the auth cache
    const queries: string[] = [];
    const stop = addTelemetryListener({ onQuery: (operation) => queries.push(operation) });
    try {
      expect((await api().get('/api/dashboard').set('Authorization', caller.auth)).status).toBe(200);
    } finally {
      stop();
    }
    expect(queries).toEqual(['WITH']);
  });

  test('needs a token', async () => {
    expectApiError(await api().get('/api/dashboard'), 401, 'UNAUTHORIZED');
  });
});
