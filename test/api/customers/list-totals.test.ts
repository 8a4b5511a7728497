import { executeQuery, executeQueryOne, executeWrite } from '../../../src/db';
import { api } from '../../helpers/api';
import { createUser, type TestUser } from '../../helpers/factories';

// The unfiltered list, status alone and city alone take their total from the counters every write keeps
// (migration 002), not from counting: exact at any size. Checked against count(*), during concurrent
// writes (in one statement, one snapshot) and through the API after them.
const STATUSES = ['lead', 'active', 'inactive'] as const;
const CITIES = ['Ankara', 'Izmir', 'Bursa', 'Konya'];
let caller: TestUser;

beforeAll(async () => {
  caller = await createUser();
});

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** One random write: insert a few, move one to another status or city, or delete one. */
async function write(): Promise<void> {
  const roll = Math.random();
  if (roll < 0.5) {
    await executeWrite('INSERT INTO customers (name, status, city) SELECT $1, $2, $3 FROM generate_series(1, $4)', [`Totals ${roll}`, pick(STATUSES), pick([...CITIES, null]), 1 + Math.floor(roll * 6)]);
  } else if (roll < 0.8) {
    await executeWrite('UPDATE customers SET status = $1, city = $2 WHERE id = (SELECT id FROM customers ORDER BY random() LIMIT 1)', [pick(STATUSES), pick([...CITIES, null])]);
  } else {
    await executeWrite('DELETE FROM customers WHERE id = (SELECT id FROM customers ORDER BY random() LIMIT 1)');
  }
}

/** Every counter the lists use, beside count(*) of the same filter, in one statement: the rows that differ. */
const MISMATCHES = `
  SELECT key, counted, counters FROM (
    SELECT 'all' AS key, (SELECT count(*) FROM customers) AS counted, (SELECT coalesce(sum(n), 0) FROM customer_status_counts) AS counters
    UNION ALL SELECT 'status ' || s, (SELECT count(*) FROM customers WHERE status = s), (SELECT coalesce(sum(n), 0) FROM customer_status_counts WHERE status = s)
      FROM unnest(ARRAY['lead', 'active', 'inactive']) AS s
    UNION ALL SELECT 'city ' || c, (SELECT count(*) FROM customers WHERE city = c), (SELECT coalesce(sum(n), 0) FROM customer_city_counts WHERE city = c)
      FROM unnest(ARRAY['Ankara', 'Izmir', 'Bursa', 'Konya']) AS c
  ) x WHERE counted <> counters`;

describe('list totals from the counters', () => {
  test('under concurrent inserts, updates and deletes, every counter equals count(*) in the same snapshot', async () => {
    let running = true;
    let checks = 0;
    const writers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 60; i += 1) await write();
    });
    const checker = (async () => {
      while (running) {
        expect(await executeQuery(MISMATCHES)).toEqual([]);
        checks += 1;
      }
    })();
    await Promise.all(writers);
    running = false;
    await checker;
    expect(checks).toBeGreaterThan(5);
    expect(await executeQuery(MISMATCHES)).toEqual([]);
  }, 60_000);

  test.each([
    ['', 'SELECT count(*)::int AS n FROM customers'],
    ['status=active', "SELECT count(*)::int AS n FROM customers WHERE status = 'active'"],
    ['city=Izmir', "SELECT count(*)::int AS n FROM customers WHERE city = 'Izmir'"],
  ])('GET /api/customers?%s: the exact total in every count mode but none, never an estimate', async (filter, sql) => {
    const expected = (await executeQueryOne<{ n: number }>(sql))!.n;
    for (const count of ['estimated', 'exact']) {
      const res = await api().get(`/api/customers?${filter}&count=${count}&limit=5`).set('Authorization', caller.auth);
      expect(res.status).toBe(200);
      expect(res.body.pagination).toMatchObject({ total: expected, total_pages: Math.ceil(expected / 5), total_is_estimate: false });
    }
    const none = await api().get(`/api/customers?${filter}&count=none&limit=5`).set('Authorization', caller.auth);
    expect(none.body.pagination).toMatchObject({ total: null, total_pages: null });
  });
});
