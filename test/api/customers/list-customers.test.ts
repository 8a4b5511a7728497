import { api, expectApiError } from '../../helpers/api';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';

let caller: TestUser;
const TOTAL = 25;

// This file's database holds exactly these customers.
beforeAll(async () => {
  caller = await createUser();
  const cities = ['Ankara', 'İzmir', 'Bursa'];
  const statuses = ['lead', 'active', 'inactive'] as const;
  for (let i = 0; i < TOTAL - 3; i += 1) {
    await createCustomer({ name: `Person ${String(i).padStart(2, '0')}`, city: cities[i % 3], status: statuses[i % 3], company: i % 2 ? 'Acme' : 'Globex' });
  }
  await createCustomer({ name: '100% Pure', company: 'Percent Co', city: null, status: 'active' });
  await createCustomer({ name: 'under_score', company: 'Under Co', city: null, status: 'active' });
  await createCustomer({ name: 'underXscore', company: 'Other Co', city: null, status: 'active' });
});

const list = (query: string) => api().get(`/api/customers?${query}`).set('Authorization', caller.auth);

describe('GET /api/customers', () => {
  test('defaults: page 1, limit 20, newest first, with the total', async () => {
    const res = await list('');
    expect(res).toMatchObject({
      status: 200,
      body: { pagination: { page: 1, limit: 20, total: TOTAL, total_pages: 2, total_is_estimate: false, next_cursor: expect.any(String) } },
    });
    expect(res.body.data).toHaveLength(20);
    const created = res.body.data.map((c: { created_at: string }) => Date.parse(c.created_at));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
  });

  test('pages never overlap and together hold every customer once (ties broken by id)', async () => {
    const seen: number[] = [];
    for (let page = 1; page <= 4; page += 1) {
      const res = await list(`page=${page}&limit=7&sort=status&order=asc`);
      expect(res.body.pagination).toMatchObject({ page, limit: 7, total: TOTAL, total_pages: 4, total_is_estimate: false });
      seen.push(...res.body.data.map((c: { id: number }) => c.id));
    }
    expect(seen).toHaveLength(TOTAL);
    expect(new Set(seen).size).toBe(TOTAL);
  });

  test('a page past the end is 200 with empty data and the real total', async () => {
    const res = await list('page=99&limit=10');
    expect(res).toMatchObject({ status: 200, body: { data: [], pagination: { page: 99, limit: 10, total: TOTAL, total_pages: 3, next_cursor: null } } });
  });

  test.each(['id', 'name', 'created_at', 'updated_at', 'city', 'status'])('sorts by %s in both orders', async (sort) => {
    const asc = (await list(`sort=${sort}&order=asc&limit=100`)).body.data.map((c: { id: number }) => c.id);
    const desc = (await list(`sort=${sort}&order=desc&limit=100`)).body.data.map((c: { id: number }) => c.id);
    expect(asc).toHaveLength(TOTAL);
    expect(desc).toEqual([...asc].reverse());
  });

  test('sorts by name ascending', async () => {
    const names = (await list('sort=name&order=asc&limit=3')).body.data.map((c: { name: string }) => c.name);
    expect(names).toEqual(['100% Pure', 'Person 00', 'Person 01']);
  });

  test('filters by status and city, together', async () => {
    const res = await list('status=lead&city=Ankara&limit=100');
    expect(res.body.data.length).toBeGreaterThan(0);
    for (const c of res.body.data) expect(c).toMatchObject({ status: 'lead', city: 'Ankara' });
    expect(res.body.pagination.total).toBe(res.body.data.length);
  });

  test('q is a case-insensitive substring of name, email, company or phone', async () => {
    expect((await list('q=PERSON 1&limit=100')).body.pagination.total).toBe(10);
    expect((await list('q=acme&limit=100')).body.pagination.total).toBe(11);
    expect((await list('q=percent co')).body.data.map((c: { name: string }) => c.name)).toEqual(['100% Pure']);
  });

  test('% and _ in q are taken literally', async () => {
    expect((await list('q=%25')).body.data.map((c: { name: string }) => c.name)).toEqual(['100% Pure']);
    expect((await list('q=under_score')).body.data.map((c: { name: string }) => c.name)).toEqual(['under_score']);
    expect((await list('q=%25%25')).body.pagination.total).toBe(0);
  });

  test.each([
    'page=0',
    'page=-3',
    'limit=0',
    'limit=101',
    'limit=2.5',
    'sort=password_hash',
    'sort=name;DROP TABLE customers',
    'order=sideways',
    'status=vip',
    'page=1&page=2',
    'count=some',
    'cursor=',
    'page=502&limit=20',
    'page=102&limit=100',
    `q=${'x'.repeat(201)}`,
    'q=%00',
  ])('%s answers 400 VALIDATION_ERROR', async (query) => {
    expectApiError(await list(query), 400, 'VALIDATION_ERROR');
  });

  test('needs a token', async () => {
    expectApiError(await api().get('/api/customers'), 401, 'UNAUTHORIZED');
  });
});
