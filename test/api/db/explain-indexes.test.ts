import { executeQuery, executeWrite, withTransaction } from '../../../src/db';
import { buildListCustomersQuery } from '../../../src/modules/customers/customers-repository';
import { ListCustomersQuerySchema } from '../../../src/modules/customers/customers-schemas';

const ROWS = 100_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function planOf(text: string, params: unknown[]): Promise<PlanNode[]> {
  const [row] = await executeQuery<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${text}`, params);
  return nodes(row!['QUERY PLAN'][0]!.Plan);
}

beforeAll(async () => {
  await executeWrite(
    `INSERT INTO customers (name, email, phone, company, city, status, created_at, updated_at)
     SELECT 'Customer ' || i, 'customer' || i || '@example.com', '+90 5' || lpad((i * 7919 % 1000000000)::text, 9, '0'),
            (ARRAY['Anadolu Lojistik','Ege Tekstil','Boğaziçi Yazılım','Toros Enerji'])[1 + i % 4] || ' ' || (i % 500),
            (ARRAY['İstanbul','Ankara','İzmir','Bursa','Antalya','Konya','Adana','Trabzon'])[1 + i % 8] || CASE WHEN i % 3 = 0 THEN '' ELSE ' ' || (i % 97) END,
            (ARRAY['lead','active','inactive'])[1 + i % 3],
            NOW() - (i || ' minutes')::interval, NOW() - (i || ' minutes')::interval
       FROM generate_series(1, $1::int) AS i`,
    [ROWS],
  );
  await executeWrite('VACUUM ANALYZE customers');
}, 120_000);

const LIST_QUERIES = [
  {},
  ...['id', 'name', 'created_at', 'updated_at', 'city', 'status'].flatMap((sort) => [
    { sort, order: 'asc' },
    { sort, order: 'desc' },
  ]),
  { status: 'lead' },
  { city: 'Ankara' },
  { status: 'active', city: 'İzmir' },
  { q: 'customer 4242' },
  { q: 'ege tekstil 17', status: 'inactive' },
  // A q that matches most rows is rightly planned as a sequential scan; a selective one is not.
  { q: 'lojistik 42', sort: 'name', order: 'asc' },
  { page: '50', limit: '100', sort: 'name' },
];

describe(`with ${ROWS.toLocaleString('en')} customers, every query plan uses an index`, () => {
  test('the id lookup is an index scan on the primary key', async () => {
    const plan = await planOf('SELECT id, name FROM customers WHERE id = $1', [4242]);
    expect(plan.some((n) => n['Index Name'] === 'customers_pkey')).toBe(true);
    expect(plan.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
  });

  test.each(LIST_QUERIES.map((q) => [JSON.stringify(q), q] as const))('list %s: no sequential scan', async (_name, raw) => {
    const { text, params } = buildListCustomersQuery(ListCustomersQuerySchema.parse(raw));
    const plan = await planOf(text, params);
    const scans = plan.filter((n) => n['Relation Name'] === 'customers' || n['Node Type'].includes('Index'));
    expect(scans.length).toBeGreaterThan(0);
    expect(plan.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name'])).toEqual([]);
  });

  test('the data is really there', async () => {
    const [row] = await withTransaction((tx) => executeQuery<{ n: number }>('SELECT count(*)::int AS n FROM customers', [], tx));
    expect(row!.n).toBe(ROWS);
  });
});
