import { executeQuery, executeQueryOne, executeWrite, withTransaction } from '../../../src/db';
import { readDashboard } from '../../../src/modules/dashboard/dashboard-repository';

const CITIES = ['İstanbul', 'Ankara', 'İzmir', 'Bursa', null];
const STATUSES = ['lead', 'active', 'inactive'];
const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;

/** The dashboard's customer numbers, counted the slow way from the customers table itself. */
async function fullCount() {
  const row = await executeQueryOne<{ total: number; lead: number; active: number; inactive: number; new30: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'lead')::int AS lead,
            count(*) FILTER (WHERE status = 'active')::int AS active, count(*) FILTER (WHERE status = 'inactive')::int AS inactive,
            count(*) FILTER (WHERE created_at >= NOW() - INTERVAL '30 days')::int AS new30
       FROM customers`,
  );
  const cities = await executeQuery<{ city: string; count: number }>(
    'SELECT city, count(*)::int AS count FROM customers WHERE city IS NOT NULL GROUP BY city ORDER BY count DESC, city LIMIT 5',
  );
  return {
    customers: { total: row!.total, by_status: { lead: row!.lead, active: row!.active, inactive: row!.inactive }, new_last_30_days: row!.new30 },
    top_cities: cities,
  };
}

/**
 * One writer: inserts (one and many rows), updates of counted and uncounted columns, deletes, and
 * transactions that write, delete and roll back.
 */
async function writer(me: string, rounds: number): Promise<void> {
  // Each writer changes only its own rows: the counters are shared, the customers are not.
  const mine = `SELECT id FROM customers WHERE name LIKE '${me}%' ORDER BY random()`;
  for (let i = 0; i < rounds; i += 1) {
    const step = i % 6;
    if (step === 0) {
      await executeWrite('INSERT INTO customers (name, city, status) VALUES ($1, $2, $3)', [me, pick(CITIES), pick(STATUSES)]);
    } else if (step === 1) {
      await executeWrite(
        `INSERT INTO customers (name, city, status, created_at)
         SELECT $1, (ARRAY['Ankara','Bursa',NULL])[1 + g % 3], (ARRAY['lead','active','inactive'])[1 + g % 3], NOW() - g * INTERVAL '4 days'
           FROM generate_series(1, 12) g`,
        [me],
      );
    } else if (step === 2) {
      await executeWrite(`UPDATE customers SET status = $1, city = $2 WHERE id IN (${mine} LIMIT 3)`, [pick(STATUSES), pick(CITIES)]);
    } else if (step === 3) {
      await executeWrite(`UPDATE customers SET created_at = created_at - INTERVAL '20 days', name = name || '.' WHERE id IN (${mine} LIMIT 2)`);
    } else if (step === 4) {
      await executeWrite(`DELETE FROM customers WHERE id IN (${mine} LIMIT 2)`);
    } else {
      await withTransaction(async (tx) => {
        await executeWrite("INSERT INTO customers (name, city, status) VALUES ($1, 'Ankara', 'lead')", [me], tx);
        await executeWrite(`DELETE FROM customers WHERE id IN (${mine} LIMIT 1)`, [], tx);
        throw new Error('roll back');
      }).catch(() => undefined);
    }
  }
}

describe('the dashboard counters (kept by triggers in each write transaction)', () => {
  test('after 8 concurrent writers (inserts, bulk inserts, updates, deletes, rollbacks), they equal a full count', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => writer(`writer-${i}-`, 30)));
    const { customers, top_cities } = await readDashboard();
    const expected = await fullCount();
    expect(customers.total).toBeGreaterThan(100);
    expect({ customers, top_cities }).toEqual(expected);
  });

  test('folding the parts keeps every sum and leaves one row per key', async () => {
    await executeQuery('SELECT customer_counts_fold()');
    const { customers, top_cities } = await readDashboard();
    expect({ customers, top_cities }).toEqual(await fullCount());
    const [parts] = await executeQuery<{ n: number }>('SELECT count(*)::int AS n FROM customer_status_counts');
    expect(parts!.n).toBeLessThanOrEqual(3);
  });

  test('TRUNCATE resets them', async () => {
    await executeWrite('TRUNCATE customers');
    const { customers, top_cities } = await readDashboard();
    expect(customers).toEqual({ total: 0, by_status: { lead: 0, active: 0, inactive: 0 }, new_last_30_days: 0 });
    expect(top_cities).toEqual([]);
    await executeWrite("INSERT INTO customers (name, city, status) VALUES ('after', 'Ankara', 'active')");
    expect((await readDashboard()).customers.by_status).toEqual({ lead: 0, active: 1, inactive: 0 });
  });
});
