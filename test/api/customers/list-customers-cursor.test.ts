import { api, expectApiError } from '../../helpers/api';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { executeWrite } from '../../../src/db';

let caller: TestUser;
const TOTAL = 23;

// This file's database holds exactly these customers: ties on every sort key, cities missing, and
// created_at values that differ only in their microseconds.
beforeAll(async () => {
  caller = await createUser();
  const cities = ['Ankara', 'İzmir', null];
  const statuses = ['lead', 'active', 'inactive'] as const;
  for (let i = 0; i < TOTAL; i += 1) {
    await createCustomer({ name: `Person ${i % 5}`, city: cities[i % 3], status: statuses[i % 3] });
  }
  await executeWrite("UPDATE customers SET created_at = '2026-01-01T00:00:00Z'::timestamptz + (id % 4) * INTERVAL '1 microsecond'");
});

const list = (query: string) => api().get(`/api/customers?${query}`).set('Authorization', caller.auth);

/** Follows next_cursor from the first page to the end; returns the ids in order. */
async function walk(query: string): Promise<number[]> {
  const ids: number[] = [];
  let res = await list(query);
  for (let pages = 0; pages < 50; pages += 1) {
    expect(res.status).toBe(200);
    ids.push(...res.body.data.map((c: { id: number }) => c.id));
    const next = res.body.pagination.next_cursor;
    if (next === null) return ids;
    res = await list(`${query}&cursor=${encodeURIComponent(next)}`);
    expect(res.body.pagination.page).toBeNull();
  }
  throw new Error('the cursor never reached the end');
}

describe('GET /api/customers with cursor (keyset pagination)', () => {
  test.each(['id', 'name', 'created_at', 'updated_at', 'city', 'status'].flatMap((sort) => [`sort=${sort}&order=asc`, `sort=${sort}&order=desc`]))(
    '%s: following next_cursor gives what one big page gives, each customer once',
    async (query) => {
      const whole = (await list(`${query}&limit=100`)).body.data.map((c: { id: number }) => c.id);
      expect(whole).toHaveLength(TOTAL);
      expect(await walk(`${query}&limit=4`)).toEqual(whole);
    },
  );

  test('with filters, the cursor walks the filtered list', async () => {
    const whole = (await list('status=lead&sort=city&limit=100')).body.data.map((c: { id: number }) => c.id);
    expect(whole.length).toBeGreaterThan(3);
    expect(await walk('status=lead&sort=city&limit=2')).toEqual(whole);
  });

  test('page mode also answers next_cursor, and it continues where the page ended', async () => {
    const first = await list('sort=name&page=2&limit=5');
    const next = await list(`sort=name&limit=5&cursor=${encodeURIComponent(first.body.pagination.next_cursor)}`);
    const page3 = await list('sort=name&page=3&limit=5');
    expect(next.body.data).toEqual(page3.body.data);
  });

  test('the last page has next_cursor null', async () => {
    const res = await list('limit=100');
    expect(res.body.pagination).toMatchObject({ next_cursor: null, total: TOTAL });
  });

  test('a cursor made for other filters or another sort answers 400 VALIDATION_ERROR on cursor', async () => {
    const cursor = encodeURIComponent((await list('sort=name&limit=2')).body.pagination.next_cursor);
    for (const other of ['sort=city', 'sort=name&order=asc', 'sort=name&status=lead', 'sort=name&q=person', 'sort=name&city=Ankara']) {
      const res = await list(`${other}&limit=2&cursor=${cursor}`);
      expectApiError(res, 400, 'VALIDATION_ERROR');
      expect(res.body.error.details).toEqual([{ path: 'cursor', message: expect.any(String) }]);
    }
    expect((await list(`sort=name&limit=2&cursor=${cursor}`)).status).toBe(200);
  });

  test.each([
    ['not base64 JSON', 'abc'],
    ['JSON of another shape', Buffer.from('{"id":1}').toString('base64url')],
    ['a key that is not a time for a time sort', null],
    ['a negative id', null],
  ])('a cursor that is %s answers 400', async (what, raw) => {
    let cursor = raw;
    if (cursor === null) {
      const real = JSON.parse(Buffer.from((await list('limit=2')).body.pagination.next_cursor, 'base64url').toString());
      if (what.includes('time')) real[2] = "2026'; DROP TABLE customers; --";
      else real[3] = -1;
      cursor = Buffer.from(JSON.stringify(real)).toString('base64url');
    }
    expectApiError(await list(`limit=2&cursor=${cursor}`), 400, 'VALIDATION_ERROR');
  });

  test('cursor together with page answers 400', async () => {
    const cursor = encodeURIComponent((await list('limit=2')).body.pagination.next_cursor);
    expectApiError(await list(`page=2&limit=2&cursor=${cursor}`), 400, 'VALIDATION_ERROR');
  });
});

describe('GET /api/customers: page is bounded, count is a choice', () => {
  test('(page - 1) × limit above 10,000 answers 400 pointing to cursor; exactly 10,000 is allowed', async () => {
    const res = await list('page=102&limit=100');
    expectApiError(res, 400, 'VALIDATION_ERROR');
    expect(res.body.error.details).toEqual([{ path: 'page', message: expect.stringContaining('cursor') }]);
    expect(await list('page=101&limit=100')).toMatchObject({ status: 200, body: { data: [], pagination: { page: 101, total: TOTAL } } });
  });

  test('count=exact and count=estimated are exact below the cap; count=none answers no total', async () => {
    for (const count of ['exact', 'estimated']) {
      expect((await list(`status=lead&count=${count}`)).body.pagination).toMatchObject({ total: 8, total_pages: 1, total_is_estimate: false });
    }
    const none = await list('status=lead&count=none&limit=3');
    expect(none.body.pagination).toMatchObject({ total: null, total_pages: null, total_is_estimate: false, next_cursor: expect.any(String) });
    expect(none.body.data).toHaveLength(3);
  });
});
