import { COUNT_CAP, buildPageQuery, executeQuery, executeWrite, withTransaction, type PageQuery } from '../../../src/db';
import { customersPageQuery } from '../../../src/modules/customers/customers-repository';
import { ListCustomersQuerySchema } from '../../../src/modules/customers/customers-schemas';
import { api } from '../../helpers/api';
import { createUser } from '../../helpers/factories';

const ROWS = 100_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Filter?: string;
  'Recheck Cond'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** Plans as the service's sessions do (DB_PLAN_CACHE_MODE: generic by default), or with custom plans (per parameter values). */
type PlanMode = 'force_generic_plan' | 'force_custom_plan';
const MODES: PlanMode[] = ['force_generic_plan', 'force_custom_plan'];

async function planOf(text: string, params: unknown[], analyze = false, mode: PlanMode = 'force_generic_plan'): Promise<PlanNode[]> {
  return withTransaction(async (tx) => {
    await executeQuery(`SET LOCAL plan_cache_mode = ${mode}`, [], tx);
    const [row] = await executeQuery<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON${analyze ? ', ANALYZE, BUFFERS' : ''}) ${text}`, params, tx);
    return nodes(row!['QUERY PLAN'][0]!.Plan);
  });
}

/** Table rows a plan touched: what each scan returned or threw away, over all its loops. */
function rowsRead(plan: PlanNode[]): number {
  return plan
    .filter((n) => n['Relation Name'] !== undefined)
    .reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * (n['Actual Loops'] ?? 1), 0);
}

function pageQuery(raw: Record<string, string>): PageQuery {
  const query = ListCustomersQuerySchema.parse(raw);
  return customersPageQuery(query, { offset: ((query.page ?? 1) - 1) * query.limit });
}

beforeAll(async () => {
  // In four statements: each stays well inside the statement timeout (every row feeds two gram indexes).
  for (let from = 0; from < ROWS; from += ROWS / 4) {
    await executeWrite(
    `INSERT INTO customers (name, email, phone, company, city, status, created_at, updated_at)
     SELECT 'Customer ' || i, 'customer' || i || '@example.com', '+90 5' || lpad((i::bigint * 7919 % 1000000000)::text, 9, '0'),
            (ARRAY['Anadolu Lojistik','Ege Tekstil','Boğaziçi Yazılım','Toros Enerji'])[1 + i % 4] || ' ' || (i % 500),
            CASE WHEN i % 11 = 0 THEN NULL ELSE
            (ARRAY['İstanbul','Ankara','İzmir','Bursa','Antalya','Konya','Adana','Trabzon'])[1 + i % 8] || CASE WHEN i % 3 = 0 THEN '' ELSE ' ' || (i % 97) END END,
            (ARRAY['lead','active','inactive'])[1 + i % 3],
            NOW() - (i || ' minutes')::interval, NOW() - (i || ' minutes')::interval
       FROM generate_series($1::int + 1, $2::int) AS i`,
      [from, from + ROWS / 4],
    );
  }
  await executeWrite('VACUUM ANALYZE customers');
}, 120_000);

const COUNTER_TABLES = ['customer_status_counts', 'customer_city_counts'];

const LIST_QUERIES: Record<string, string>[] = [
  {},
  ...['id', 'name', 'created_at', 'updated_at', 'city', 'status'].flatMap((sort) => [
    { sort, order: 'asc' },
    { sort, order: 'desc' },
  ]),
  { status: 'lead' },
  { city: 'Ankara' },
  { status: 'active', city: 'İzmir' },
  { status: 'inactive', city: 'Ankara', sort: 'name', order: 'asc' },
  { q: 'customer 4242' },
  { q: 'ege tekstil 17', status: 'inactive' },
  // A q that matches most rows is rightly planned as a sequential scan; a selective one is not.
  { q: 'lojistik 42', sort: 'name', order: 'asc' },
  // A search matching more than the cap (11,111 emails): the page walks the sort index, it does not collect every match.
  { q: 'customer1' },
  { q: 'customer1', sort: 'name', order: 'asc' },
  { page: '50', limit: '100', sort: 'name' },
  { page: '101', limit: '100' },
  ...['estimated', 'exact', 'none'].map((count) => ({ count, status: 'active' })),
];

describe(`with ${ROWS.toLocaleString('en')} customers, a list reads what its page costs`, () => {
  test('the id lookup is an index scan on the primary key', async () => {
    const plan = await planOf('SELECT id, name FROM customers WHERE id = $1', [4242]);
    expect(plan.some((n) => n['Index Name'] === 'customers_pkey')).toBe(true);
    expect(plan.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
  });

  test.each(MODES.flatMap((mode) => LIST_QUERIES.map((q) => [JSON.stringify(q), mode, q] as const)))('list %s (%s): no sequential scan, at most page + count cap rows read', async (_name, mode, raw) => {
    const q = pageQuery(raw);
    const { text, params } = buildPageQuery(q);
    const plan = await planOf(text, params, true, mode);
    const ran = plan.filter((n) => (n['Actual Loops'] ?? 1) > 0);
    // The counters (migration 002) hold a few dozen rows whatever the customers: reading them whole is their point.
    const scanned = ran.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
    expect(scanned.filter((table) => !COUNTER_TABLES.includes(table ?? ''))).toEqual([]);
    // The count reads at most the cap (count=exact, the one mode whose cost may grow with the matches,
    // reads them all); the page reads its rows, passing over non-matches on the sort index while more
    // than the cap match (none of these filters keeps fewer than 1 row in 4), or sorts the few matches.
    const counted = q.count === 'exact' ? ROWS : COUNT_CAP + 1;
    expect(rowsRead(plan)).toBeLessThanOrEqual(counted + Math.max(q.offset + 4 * (q.limit + 1), COUNT_CAP + 1));
  });

  test.each<Record<string, string>>([{ q: 'customer1' }, { q: 'customer1', sort: 'name', order: 'asc' }, { q: 'customer1', count: 'none' }])(
    'search %j, a common term (11,111 matches): the page walks the sort index to its rows; no gram index, nothing counted, the total the estimate',
    async (raw) => {
      const q = pageQuery(raw);
      const { text, params } = buildPageQuery(q);
      for (const mode of MODES) {
        const plan = await planOf(text, params, true, mode);
        const ran = plan.filter((n) => (n['Actual Loops'] ?? 0) > 0);
        expect(ran.filter((n) => n['Index Name']?.startsWith('customers_search_'))).toEqual([]);
        // 1 row in 9 matches: about 9 rows read for each of the page's 21 (4 × that is the walk's bound), then the page's own 21.
        expect(rowsRead(plan)).toBeLessThanOrEqual(4 * 9 * 21 + 21);
      }
      const [first] = await executeQuery<{ page_total: string | null; page_estimated: boolean }>(text, params);
      const expected = q.count === 'none' ? [null, false] : [true, true];
      expect([first!.page_total === null ? null : first!.page_estimated, first!.page_total === null ? false : Number(first!.page_total) > 5_000]).toEqual(expected);
    },
  );

  test('search, a common term in the default order: the walk reads the index that carries the search text (index-only), and a row only where its text matches', async () => {
    const { text, params } = buildPageQuery(pageQuery({ q: 'customer1' }));
    for (const mode of MODES) {
      const plan = await planOf(text, params, true, mode);
      const walk = plan.filter((n) => n['Index Name'] === 'customers_created_at_search_idx' && (n['Actual Loops'] ?? 0) > 0);
      expect([mode, walk.map((n) => n['Node Type'])]).toEqual([mode, ['Index Only Scan']]);
      // Rows read by id: the walk's recheck of each entry whose text matched (21), then the page's own 21.
      const byId = plan.filter((n) => n['Index Name'] === 'customers_pkey').reduce((sum, n) => sum + (n['Actual Loops'] ?? 0), 0);
      expect(byId).toBeLessThanOrEqual(2 * 21);
    }
  });

  const deepCursorOf = async (first: PageQuery): Promise<PageQuery> => {
    // Half-way down the order (the 50,000th newest customer), as a cursor deep in the list.
    const [middle] = await executeQuery<{ key: string; id: string }>(
      `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS key, id FROM customers ORDER BY created_at DESC, id DESC OFFSET 50000 LIMIT 1`,
    );
    return { ...first, after: { key: middle!.key, id: Number(middle!.id) } };
  };

  test('search, a common term spread over the table (lojistik, 1 row in 4): a cursor page deep in the list reads what the first page reads, and follows it without a gap', async () => {
    const first = pageQuery({ q: 'lojistik', count: 'none' });
    const built = buildPageQuery(first);
    const rows = await executeQuery<{ page_key: string; id: string }>(built.text, built.params);
    const firstRead = rowsRead(await planOf(built.text, built.params, true));
    const deep = buildPageQuery(await deepCursorOf(first));
    for (const mode of MODES) expect(rowsRead(await planOf(deep.text, deep.params, true, mode))).toBeLessThanOrEqual(firstRead + 50);
    // The second page starts right after the first's last row.
    const next = buildPageQuery({ ...first, after: { key: rows[19]!.page_key, id: Number(rows[19]!.id) } });
    const second = await executeQuery<{ id: string }>(next.text, next.params);
    expect(second[0]!.id).toBe(rows[20]!.id);
  });

  test('search, a common term whose matches are elsewhere in the order (customer1: none among the 50,000 past the cursor but one): the walk gives up at its bound and the index finds it', async () => {
    const cursor = await deepCursorOf(pageQuery({ q: 'customer1' }));
    const deep = buildPageQuery(cursor);
    for (const mode of MODES) {
      const plan = await planOf(deep.text, deep.params, true, mode);
      // The walk's bound (about 4 × 9 × 21 rows), then the matches through the index: never the 50,000 rows past the cursor.
      expect(rowsRead(plan)).toBeLessThan(11_111 + 1_000 + 21);
    }
    const rows = await executeQuery<{ id: string | null }>(deep.text, deep.params);
    const [expected] = await executeQuery<{ ids: string[] | null }>(
      `SELECT array_agg(id::text ORDER BY created_at DESC, id DESC) AS ids FROM customers WHERE lower(email) LIKE '%customer1%' AND (created_at, id) < ($1::timestamptz, $2::bigint)`,
      [cursor.after!.key, cursor.after!.id],
    );
    expect(expected!.ids?.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.id !== null).map((r) => String(r.id))).toEqual(expected!.ids ?? []);
  });

  test.each<[Record<string, string>, string]>([
    [{ q: 'customer 4242' }, 'customers_search_grams_idx'],
    [{ q: 'ege tekstil 17', status: 'inactive' }, 'customers_search_grams_idx'],
    [{ q: 'kaya 12', count: 'exact' }, 'customers_search_grams_idx'],
    [{ q: 'Ege', sort: 'name', order: 'asc' }, 'customers_search_trgm_idx'],
    [{ q: '424' }, 'customers_search_trgm_idx'],
  ])('search %j uses %s', async (raw, index) => {
    const { text, params } = buildPageQuery(pageQuery(raw));
    for (const mode of MODES) {
      const plan = await planOf(text, params, false, mode);
      expect([...new Set(plan.filter((n) => n['Index Name']?.startsWith('customers_search_')).map((n) => n['Index Name']))]).toEqual([index]);
    }
  });

  test.each(['e', 'er', 'customer', 'example.com'])('search %j, in every row: the page walks the sort index to its rows, nothing is counted, no search index is read', async (q) => {
    const { text, params } = buildPageQuery(pageQuery({ q }));
    for (const mode of MODES) {
      const plan = await planOf(text, params, true, mode);
      // One or two characters: no piece an index holds. Longer: the planner expects every row to be a
      // candidate, so the rows are read without the index, or its test (a function of each row's text).
      const ran = plan.filter((n) => (n['Actual Loops'] ?? 0) > 0);
      expect(ran.filter((n) => n['Index Name']?.startsWith('customers_search_'))).toEqual([]);
      expect(ran.filter((n) => /search_grams/.test(`${n.Filter ?? ''} ${n['Recheck Cond'] ?? ''}`))).toEqual([]);
      // Every row matches: nothing is counted (the estimate stands), the page walks the sort index to its
      // 21, reads each by id to test its fields (the index held its search text), then reads the page's 21.
      expect(rowsRead(plan)).toBeLessThanOrEqual(3 * 21 + 10);
    }
  });

  test.each(['customer 4242', 'lojistik 4242', 'tekstil 7 +', 'ege tekstil 17', 'yazılım 99', '4242', 'EGE', '424', '+90 5'])(
    'search %j through its index finds exactly what a test of every row finds',
    async (q) => {
      const { text, params } = buildPageQuery(pageQuery({ q, count: 'exact', limit: '100' }));
      const rows = await executeQuery<{ page_total: string; id: string | null }>(text, params);
      const pattern = `%${q.toLowerCase()}%`;
      const [expected] = await executeQuery<{ n: number; ids: string[] }>(
        `SELECT count(*)::int AS n, (array_agg(id::text ORDER BY created_at DESC, id DESC))[1:100] AS ids FROM customers
          WHERE lower(name) LIKE $1 OR lower(coalesce(email, '')) LIKE $1 OR lower(coalesce(company, '')) LIKE $1 OR lower(coalesce(phone, '')) LIKE $1`,
        [pattern],
      );
      expect(Number(rows[0]!.page_total)).toBe(expected!.n);
      // The page query reads one row past the page (whether a next page exists).
      expect(rows.filter((r) => r.id !== null).map((r) => String(r.id)).slice(0, 100)).toEqual(expected!.ids ?? []);
    },
  );

  test('a q whose words are common but never meet: its 4-grams read a fraction of the index pages its trigrams read', async () => {
    const expression = "lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(company, '') || ' ' || coalesce(phone, ''))";
    const pagesRead = async (condition: string, param: string) => {
      const plan = await planOf(`SELECT count(*) FROM customers WHERE ${condition}`, [param], true);
      const scan = plan.find((n) => n['Node Type'] === 'Bitmap Index Scan')!;
      return { candidates: scan['Actual Rows'], pages: (scan['Shared Hit Blocks'] ?? 0) + (scan['Shared Read Blocks'] ?? 0) };
    };
    const q = 'tekstil 7 +';
    const trigrams = await pagesRead(`${expression} LIKE $1`, `%${q}%`);
    const grams = await pagesRead(`search_grams(${expression}) @> search_grams($1)`, q);
    expect(grams.candidates).toBe(0);
    expect(grams.pages * 2).toBeLessThan(trigrams.pages);
  });

  test.each(['id', 'name', 'created_at', 'updated_at', 'city', 'status'].flatMap((sort) => [`${sort} asc`, `${sort} desc`]))(
    'sort %s: the cursor of the last page reads no more rows than the first page',
    async (sortOrder) => {
      const [sort, order] = sortOrder.split(' ') as [string, string];
      const first = pageQuery({ sort, order, count: 'none' });
      // The last page starts after the row 21st from the end: the same sort, reversed, gives it.
      const reversed = pageQuery({ sort, order: order === 'asc' ? 'desc' : 'asc', count: 'none', limit: '21' });
      const tail = buildPageQuery(reversed);
      const row = (await executeQuery<{ page_key: string; id: string }>(tail, tail.params))[20];
      const last = { ...first, after: { key: row!.page_key, id: Number(row!.id) } };
      const firstRead = rowsRead(await planOf(buildPageQuery(first).text, buildPageQuery(first).params, true));
      const lastRead = rowsRead(await planOf(buildPageQuery(last).text, buildPageQuery(last).params, true));
      expect(lastRead).toBeLessThanOrEqual(firstRead);
      const [lastPage] = await executeQuery<{ n: number }>(`SELECT count(*)::int AS n FROM (${buildPageQuery(last).text}) p WHERE id IS NOT NULL`, buildPageQuery(last).params);
      expect(lastPage!.n).toBe(20);
    },
  );

  test('the data is really there', async () => {
    const [row] = await withTransaction((tx) => executeQuery<{ n: number }>('SELECT count(*)::int AS n FROM customers', [], tx));
    expect(row!.n).toBe(ROWS);
  });
});

describe(`GET /api/customers with ${ROWS.toLocaleString('en')} customers: the total by count mode`, () => {
  let auth: string;
  beforeAll(async () => {
    auth = (await createUser()).auth;
  });
  const pagination = async (query: string) => (await api().get(`/api/customers?${query}`).set('Authorization', auth)).body.pagination;

  test('no filter, status alone, city alone: exact from the counters in every mode, however many match', async () => {
    const [status, city] = [
      (await executeQuery<{ n: number }>("SELECT count(*)::int AS n FROM customers WHERE status = 'active'"))[0]!.n,
      (await executeQuery<{ n: number }>("SELECT count(*)::int AS n FROM customers WHERE city = 'Ankara'"))[0]!.n,
    ];
    for (const count of ['estimated', 'exact']) {
      expect(await pagination(`count=${count}`)).toMatchObject({ total: ROWS, total_pages: ROWS / 20, total_is_estimate: false });
      expect(await pagination(`count=${count}&status=active`)).toMatchObject({ total: status, total_is_estimate: false });
      expect(await pagination(`count=${count}&city=Ankara`)).toMatchObject({ total: city, total_is_estimate: false });
    }
  });

  test('estimated (the default), a filter no counter covers: the planner estimate above the cap, flagged', async () => {
    const p = await pagination('q=customer1');
    expect(p.total_is_estimate).toBe(true);
    expect(p.total).toBeGreaterThan(COUNT_CAP);
    expect(p.total_pages).toBe(Math.ceil(p.total / 20));
  });

  test('estimated, few matches (the planner expects at most 1,000): exact; more: the estimate, flagged', async () => {
    const exact = async (filter: string) => (await executeQuery<{ n: number }>(`SELECT count(*)::int AS n FROM customers WHERE ${filter}`))[0]!.n;
    const few = await exact("status = 'active' AND city = 'Ankara 5'");
    expect(few).toBeGreaterThan(0);
    expect(await pagination(`status=active&city=${encodeURIComponent('Ankara 5')}`)).toMatchObject({ total: few, total_is_estimate: false });
    const many = await exact("status = 'lead' AND city = 'Ankara'");
    expect(many).toBeGreaterThan(2_000);
    const p = await pagination('status=lead&city=Ankara');
    expect(p.total_is_estimate).toBe(true);
    // The planner's estimate for these values (it takes status and city as independent; here they are not).
    expect(p.total).toBeGreaterThan(1_000);
    expect(p.total).toBeLessThan(many * 2);
  });

  test('exact counts everything; none counts nothing', async () => {
    const [row] = await executeQuery<{ n: number }>("SELECT count(*)::int AS n FROM customers WHERE lower(email) LIKE '%customer1%'");
    expect(await pagination('count=exact&q=customer1')).toMatchObject({ total: row!.n, total_is_estimate: false });
    expect(await pagination('count=none')).toMatchObject({ total: null, total_pages: null });
  });
});

describe(`with ${ROWS.toLocaleString('en')} customers and 3,000 more written since the last ANALYZE: a search the planner cannot see`, () => {
  const CAMPAIGN = 3_000;
  beforeAll(async () => {
    // The newest customers, all from one campaign: the planner's statistics (gathered before) have never
    // seen the word, and put it at 0.01 % of the table.
    await executeWrite(
      `INSERT INTO customers (name, company, status, created_at, updated_at)
       SELECT 'Kampanya Müşterisi ' || i, 'Bahar Kampanyası', 'lead', NOW() + (i || ' seconds')::interval, NOW() + (i || ' seconds')::interval
         FROM generate_series(1, $1::int) AS i`,
      [CAMPAIGN],
    );
  });
  afterAll(async () => {
    await executeWrite("DELETE FROM customers WHERE company = 'Bahar Kampanyası'");
    await executeWrite('VACUUM ANALYZE customers');
  });

  test('the probe of the newest entries finds it common: the page walks the sort index (no gram index, nothing counted), the total an estimate capped at 3 % of the table', async () => {
    const q = pageQuery({ q: 'kampanya' });
    const { text, params } = buildPageQuery(q);
    const [planned] = await executeQuery<{ n: string }>("SELECT count_estimate('SELECT 1 FROM customers WHERE search_text LIKE $1', '%kampanya%') AS n");
    expect(Number(planned!.n)).toBeLessThan(1_000);
    for (const mode of MODES) {
      const plan = await planOf(text, params, true, mode);
      const ran = plan.filter((n) => (n['Actual Loops'] ?? 0) > 0);
      expect(ran.filter((n) => n['Index Name']?.startsWith('customers_search_'))).toEqual([]);
      // The probe's 1,000 index entries, the table's row count (pg_class), then the walk's 21 entries,
      // each checked by id, and the page's 21 rows.
      expect(rowsRead(plan)).toBeLessThanOrEqual(1_000 + 1 + 3 * 21);
    }
    const rows = await executeQuery<{ page_total: string; page_estimated: boolean; name: string }>(text, params);
    expect(rows).toHaveLength(21);
    expect(rows.every((r) => r.name.startsWith('Kampanya Müşterisi'))).toBe(true);
    expect(rows[0]!.page_estimated).toBe(true);
    const [table] = await executeQuery<{ n: string }>("SELECT reltuples AS n FROM pg_class WHERE oid = 'customers'::regclass");
    expect(Math.abs(Number(rows[0]!.page_total) - 0.03 * Number(table!.n))).toBeLessThanOrEqual(1);
  });

  test('with status too, no probe (it tests the text alone): the matches are collected through the index and counted exactly', async () => {
    const q = pageQuery({ q: 'kampanya', status: 'lead' });
    const { text, params } = buildPageQuery(q);
    expect(text).not.toContain('probe');
    const rows = await executeQuery<{ page_total: string; page_estimated: boolean }>(text, params);
    expect([Number(rows[0]!.page_total), rows[0]!.page_estimated]).toEqual([3_000, false]);
  });

  test('a term the probe does not find (in no newest entry) is still collected through its index and counted exactly', async () => {
    const q = pageQuery({ q: 'customer 4242' });
    const { text, params } = buildPageQuery(q);
    const rows = await executeQuery<{ page_total: string; page_estimated: boolean; id: string | null }>(text, params);
    expect(rows[0]!.page_estimated).toBe(false);
    const [exact] = await executeQuery<{ n: number }>("SELECT count(*)::int AS n FROM customers WHERE lower(name) LIKE '%customer 4242%'");
    expect(Number(rows[0]!.page_total)).toBe(exact!.n);
    expect(rows.filter((r) => r.id !== null)).toHaveLength(exact!.n);
  });
});

describe(`with ${ROWS.toLocaleString('en')} customers: where few ends depends on what a walked entry costs`, () => {
  beforeAll(async () => {
    // The newest 1,000 customers, 12 of them with a new word: the probe puts it at 12 in 1,000, 1,200
    // of the table — above the line in the default order (max(1,000, √(21 × 100,000 / 16)) = 1,000) and
    // below it by name (max(1,000, √(21 × 100,000)) = 1,449).
    await executeWrite(
      `INSERT INTO customers (name, status, created_at, updated_at)
       SELECT CASE WHEN i % 77 = 0 THEN 'Lavanta ' ELSE 'Dolgu ' END || i, 'lead', NOW() + (i || ' seconds')::interval, NOW() + (i || ' seconds')::interval
         FROM generate_series(1, 1000) AS i`,
    );
  });
  afterAll(async () => {
    await executeWrite("DELETE FROM customers WHERE name LIKE 'Lavanta %' OR name LIKE 'Dolgu %'");
    await executeWrite('VACUUM ANALYZE customers');
  });

  test.each([
    ['created_at', true],
    ['name', false],
  ] as const)('sort=%s: walks first: %s; either way the 12 matches are counted exactly in the end', async (sort, walks) => {
    const q = pageQuery({ q: 'lavanta', sort, order: sort === 'name' ? 'asc' : 'desc' });
    const { text, params } = buildPageQuery(q);
    const [planned] = await executeQuery<{ n: string }>("SELECT count_estimate('SELECT 1 FROM customers WHERE search_text LIKE $1', '%lavanta%') AS n");
    expect(Number(planned!.n)).toBeLessThan(1_000);
    for (const mode of MODES) {
      const plan = await planOf(text, params, true, mode);
      // The walk (the subquery whose rows are kept where `hit`) read entries of the sort index only where it was chosen.
      const walk = plan.find((n) => n['Node Type'] === 'Subquery Scan' && /\bhit\b/.test(n.Filter ?? ''));
      const walked = nodes(walk!).filter((n) => /Index (Only )?Scan/.test(n['Node Type']) && n['Index Name'] === (sort === 'name' ? 'customers_name_id_idx' : 'customers_created_at_search_idx'));
      expect(walked.reduce((sum, n) => sum + (n['Actual Rows'] ?? 0) * (n['Actual Loops'] ?? 0), 0) > 0).toBe(walks);
    }
    const rows = await executeQuery<{ page_total: string; page_estimated: boolean; name: string | null }>(text, params);
    // The walk comes back short (12 matches, not 21), and the matches are collected through the index.
    expect(rows.map((r) => r.name?.split(' ')[0])).toEqual(Array(12).fill('Lavanta'));
    expect([Number(rows[0]!.page_total), rows[0]!.page_estimated]).toEqual([12, false]);
  });
});
