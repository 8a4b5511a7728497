import { executeQuery, withTransaction } from '../../../src/db';
import { api, expectApiError } from '../../helpers/api';
import { createAdmin, createCustomer, createUser, unique, type TestUser } from '../../helpers/factories';
import { expectNoClientInUse } from '../../helpers/pool';

let editor: TestUser;
let other: TestUser;
let admin: TestUser;
beforeAll(async () => {
  [editor, other, admin] = await Promise.all([createUser({ name: 'Editor One' }), createUser({ name: 'Editor Two' }), createAdmin()]);
});
afterEach(() => expectNoClientInUse());

const historyOf = (id: number, auth: string, query = '') => api().get(`/api/customers/${id}/history${query}`).set('Authorization', auth);

async function postCustomer(auth: string, body: Record<string, unknown>): Promise<{ id: number; requestId: string }> {
  const requestId = `create-${unique()}`;
  const res = await api().post('/api/customers').set('Authorization', auth).set('X-Request-Id', requestId).send(body);
  expect(res.status).toBe(201);
  return { id: res.body.id as number, requestId };
}

describe('GET /api/customers/:id/history', () => {
  test('a PATCH by one user and a PUT by another: newest first, each with its actor, request id and exactly the changed fields', async () => {
    const { id, requestId: created } = await postCustomer(editor.auth, { name: 'Ayşe Kaya', city: 'Izmir', phone: '+90 232 000 00 00' });
    const patch = await api().patch(`/api/customers/${id}`).set('Authorization', editor.auth).set('X-Request-Id', 'patch-1').send({ phone: '+90 232 111 11 11', city: 'Izmir' });
    expect(patch.status).toBe(200);
    const put = await api().put(`/api/customers/${id}`).set('Authorization', other.auth).set('X-Request-Id', 'put-1').send({ name: 'Ayşe Kaya', phone: '+90 232 111 11 11', status: 'active' });
    expect(put.status).toBe(200);

    const res = await historyOf(id, other.auth);
    expect(res.status).toBe(200);
    expect(res.body.data.map((e: { operation: string }) => e.operation)).toEqual(['update', 'update', 'insert']);
    const [byPut, byPatch, insert] = res.body.data;
    expect(byPut).toMatchObject({
      entity: 'customer',
      entity_id: id,
      actor: { id: other.user.id, name: 'Editor Two' },
      request_id: 'put-1',
      // PUT: the fields left out became null (city), status was set; name and phone did not change.
      changes: { city: { old: 'Izmir', new: null }, status: { old: 'lead', new: 'active' } },
      last_row: null,
    });
    expect(Object.keys(byPut.changes).sort()).toEqual(['city', 'status']);
    // PATCH sent the same city again: only the phone changed.
    expect(byPatch).toMatchObject({ actor: { id: editor.user.id, name: 'Editor One' }, request_id: 'patch-1', changes: { phone: { old: '+90 232 000 00 00', new: '+90 232 111 11 11' } } });
    expect(Object.keys(byPatch.changes)).toEqual(['phone']);
    expect(insert).toMatchObject({ operation: 'insert', actor: { id: editor.user.id }, request_id: created, changes: { name: { old: null, new: 'Ayşe Kaya' }, city: { old: null, new: 'Izmir' } } });
    expect(Date.parse(byPut.changed_at)).toBeGreaterThanOrEqual(Date.parse(byPatch.changed_at));
    expect(res.body.pagination).toMatchObject({ total: 3, next_cursor: null });
  });

  test('a stale If-Match (412) adds nothing; a PATCH that changes no value adds nothing', async () => {
    const { id } = await postCustomer(editor.auth, { name: 'Stable' });
    expectApiError(await api().patch(`/api/customers/${id}`).set('Authorization', editor.auth).set('If-Match', '"9"').send({ name: 'Lost' }), 412, 'PRECONDITION_FAILED');
    expect((await api().patch(`/api/customers/${id}`).set('Authorization', editor.auth).send({ name: 'Stable' })).status).toBe(200);
    const res = await historyOf(id, editor.auth);
    expect(res.body.data.map((e: { operation: string }) => e.operation)).toEqual(['insert']);
  });

  test('a delete keeps the last full row; the deleted customer\'s history is for admins, 404 for others', async () => {
    const { id } = await postCustomer(editor.auth, { name: 'Gone Soon', email: 'gone@example.com', city: 'Bursa' });
    const del = await api().delete(`/api/customers/${id}`).set('Authorization', admin.auth).set('X-Request-Id', 'delete-1');
    expect(del.status).toBe(204);
    const res = await historyOf(id, admin.auth);
    expect(res.status).toBe(200);
    expect(res.body.data[0]).toMatchObject({
      operation: 'delete',
      actor: { id: admin.user.id },
      request_id: 'delete-1',
      changes: null,
      last_row: { id, name: 'Gone Soon', email: 'gone@example.com', city: 'Bursa', status: 'lead', version: 1, created_by: editor.user.id },
    });
    // Times in the last row have the API's format.
    expect(res.body.data[0].last_row.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expectApiError(await historyOf(id, editor.auth), 404, 'NOT_FOUND');
  });

  test('a customer that never existed answers 404, to admins too; a bad id 400', async () => {
    expectApiError(await historyOf(987_654_321, admin.auth), 404, 'NOT_FOUND');
    expectApiError(await historyOf(987_654_321, editor.auth), 404, 'NOT_FOUND');
    expectApiError(await api().get('/api/customers/abc/history').set('Authorization', editor.auth), 400, 'VALIDATION_ERROR');
    expectApiError(await historyOf(1, editor.auth, '?limit=0'), 400, 'VALIDATION_ERROR');
  });

  test('pages by cursor, newest first, with no entry twice', async () => {
    const { id } = await postCustomer(editor.auth, { name: 'Busy', notes: 'n0' });
    for (let i = 1; i <= 6; i += 1) {
      expect((await api().patch(`/api/customers/${id}`).set('Authorization', editor.auth).send({ notes: `n${i}` })).status).toBe(200);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await historyOf(id, editor.auth, `?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((e: { changes: { notes: { new: string } } }) => e.changes.notes.new));
      cursor = res.body.pagination.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['n6', 'n5', 'n4', 'n3', 'n2', 'n1', 'n0']);
    // A cursor of another customer's history is refused.
    const first = await historyOf(id, editor.auth, '?limit=1');
    const { id: otherId } = await postCustomer(editor.auth, { name: 'Other' });
    expectApiError(await historyOf(otherId, editor.auth, `?cursor=${first.body.pagination.next_cursor}`), 400, 'VALIDATION_ERROR');
  });

  test('a change rolled back leaves no history; a change made outside the API is recorded with no actor', async () => {
    const customer = await createCustomer({ name: 'Quiet' });
    await expect(
      withTransaction(async (tx) => {
        await executeQuery("UPDATE customers SET notes = 'rolled back' WHERE id = $1", [customer.id], tx);
        throw new Error('changed my mind');
      }, { actor: { userId: editor.user.id, requestId: 'rollback-1' } }),
    ).rejects.toThrow('changed my mind');
    await executeQuery("UPDATE customers SET notes = 'by psql' WHERE id = $1", [customer.id]);
    const res = await historyOf(customer.id, editor.auth);
    expect(res.body.data).toHaveLength(2);
    expect(res.body.data[0]).toMatchObject({ operation: 'update', actor: null, request_id: null, changes: { notes: { old: null, new: 'by psql' } } });
    expect(res.body.data[1]).toMatchObject({ operation: 'insert', actor: null });
    const rolledBack = await executeQuery("SELECT 1 FROM history WHERE request_id = 'rollback-1'");
    expect(rolledBack).toHaveLength(0);
  });

  test('concurrent writers to one customer: each change recorded once, in the order the versions went', async () => {
    const { id } = await postCustomer(editor.auth, { name: 'Contended' });
    const writers = [editor, other, admin];
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => api().patch(`/api/customers/${id}`).set('Authorization', writers[i % 3]!.auth).set('X-Request-Id', `w-${i}`).send({ notes: `w-${i}` })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const res = await historyOf(id, editor.auth, '?limit=50');
    const updates = res.body.data.filter((e: { operation: string }) => e.operation === 'update');
    expect(updates).toHaveLength(12);
    expect(new Set(updates.map((e: { request_id: string }) => e.request_id)).size).toBe(12);
    for (const entry of updates) {
      // Each entry's actor is the writer of its own request.
      const i = Number(entry.request_id.slice(2));
      expect(entry.actor.id).toBe(writers[i % 3]!.user.id);
      expect(entry.changes.notes.new).toBe(`w-${i}`);
    }
    // Newest first: each entry's old value is the next (older) entry's new value.
    for (let i = 0; i < updates.length - 1; i += 1) expect(updates[i].changes.notes.old).toBe(updates[i + 1].changes.notes.new);
    const final = await api().get(`/api/customers/${id}`).set('Authorization', editor.auth);
    expect(updates[0].changes.notes.new).toBe(final.body.notes);
  });
});
