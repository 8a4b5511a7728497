import { executeQuery } from '../../../src/db';
import { pruneOldHistory } from '../../../src/modules/history';
import { api, expectApiError } from '../../helpers/api';
import { createAdmin, createUser, type TestUser } from '../../helpers/factories';
import { expectNoClientInUse } from '../../helpers/pool';

let admin: TestUser;
let writer: TestUser;
beforeAll(async () => {
  [admin, writer] = await Promise.all([createAdmin(), createUser()]);
});
afterEach(() => expectNoClientInUse());

const list = (query: string, auth = admin.auth) => api().get(`/api/history${query}`).set('Authorization', auth);
type Entry = { id: number; entity: string; entity_id: number; changed_at: string; actor: { id: number } | null };

describe('GET /api/history', () => {
  test('by actor, newest first, cursor-paged; by entity; since and until', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await api().post('/api/customers').set('Authorization', writer.auth).send({ name: `Listed ${i}` });
      ids.push(res.body.id as number);
    }
    const between = new Date().toISOString();
    await api().patch(`/api/customers/${ids[0]}`).set('Authorization', writer.auth).send({ notes: 'later' });

    const mine: Entry[] = [];
    let cursor: string | null = null;
    do {
      const res = await list(`?actor=${writer.user.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      mine.push(...res.body.data);
      cursor = res.body.pagination.next_cursor;
    } while (cursor);
    expect(mine.map((e) => e.entity_id)).toEqual([ids[0], ...[...ids].reverse()]);
    expect(mine.every((e) => e.actor?.id === writer.user.id)).toBe(true);
    for (let i = 0; i < mine.length - 1; i += 1) expect(Date.parse(mine[i]!.changed_at)).toBeGreaterThanOrEqual(Date.parse(mine[i + 1]!.changed_at));

    const since = await list(`?actor=${writer.user.id}&since=${between}`);
    expect(since.body.data.map((e: Entry) => e.entity_id)).toEqual([ids[0]]);
    const until = await list(`?actor=${writer.user.id}&until=${between}`);
    expect(until.body.data).toHaveLength(5);

    const users = await list('?entity=user&limit=100');
    expect(users.body.data.length).toBeGreaterThan(0);
    expect(users.body.data.every((e: Entry) => e.entity === 'user')).toBe(true);
    expect(users.body.data.some((e: Entry) => e.entity_id === writer.user.id)).toBe(true);
  });

  test('a cursor is good for the same filters only', async () => {
    await api().post('/api/customers').set('Authorization', writer.auth).send({ name: 'One' });
    await api().post('/api/customers').set('Authorization', writer.auth).send({ name: 'Two' });
    const first = await list(`?actor=${writer.user.id}&limit=1`);
    expectApiError(await list(`?entity=customer&cursor=${first.body.pagination.next_cursor}`), 400, 'VALIDATION_ERROR');
  });

  test.each(['entity=order', 'actor=0', 'actor=abc', 'since=yesterday', 'since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z', 'limit=101', 'cursor=bm9wZQ'])('%s answers 400', async (query) => {
    expectApiError(await list(`?${query}`), 400, 'VALIDATION_ERROR');
  });

  test('for admins only', async () => {
    expectApiError(await list('', writer.auth), 403, 'FORBIDDEN');
  });
});

describe('retention (HISTORY_RETENTION_DAYS)', () => {
  test('entries older than the retention are pruned in batches; newer ones stay; 0 keeps everything', async () => {
    const made = await api().post('/api/customers').set('Authorization', writer.auth).send({ name: 'Old news' });
    const id = made.body.id as number;
    await api().patch(`/api/customers/${id}`).set('Authorization', writer.auth).send({ notes: 'recent' });
    // 2,500 entries from three years ago (more than two batches), and the customer's insert a year ago.
    await executeQuery(
      `INSERT INTO history (entity, entity_id, operation, changed_at, changes)
       SELECT 'customer', $1, 'update', now() - interval '3 years' - make_interval(secs => g), '{}' FROM generate_series(1, 2500) g`,
      [id],
    );
    await executeQuery("UPDATE history SET changed_at = now() - interval '1 year' WHERE entity = 'customer' AND entity_id = $1 AND operation = 'insert'", [id]);
    const count = async () => (await executeQuery<{ n: number }>("SELECT count(*)::int AS n FROM history WHERE entity = 'customer' AND entity_id = $1", [id]))[0]!.n;
    expect(await count()).toBe(2502);

    expect(await pruneOldHistory(0)).toBe(0);
    expect(await count()).toBe(2502);
    expect(await pruneOldHistory(730)).toBeGreaterThanOrEqual(2500);
    expect(await count()).toBe(2);
    expect(await pruneOldHistory(180)).toBeGreaterThanOrEqual(1);
    const left = await api().get(`/api/customers/${id}/history`).set('Authorization', writer.auth);
    expect(left.body.data.map((e: { changes: { notes?: { new: string } } }) => e.changes.notes?.new)).toEqual(['recent']);
  });
});
