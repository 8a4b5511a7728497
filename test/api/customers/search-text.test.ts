import { executeQuery, executeQueryOne } from '../../../src/db';
import { api } from '../../helpers/api';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { expectNoClientInUse } from '../../helpers/pool';

// A search tests the stored search text first (migration 009), then the fields: these hold that the text
// is written and kept by the trigger, that it never widens a search, and that a row without it is found.
let caller: TestUser;
const searchTextOf = async (id: number): Promise<string | null> =>
  (await executeQueryOne<{ t: string | null }>('SELECT search_text AS t FROM customers WHERE id = $1', [id]))!.t;
// The server's lower(): the database's collation decides what a case-insensitive match is.
const lower = async (text: string): Promise<string> => (await executeQueryOne<{ t: string }>('SELECT lower($1) AS t', [text]))!.t;
const names = async (q: string): Promise<string[]> =>
  (await api().get(`/api/customers?q=${encodeURIComponent(q)}&limit=100`).set('Authorization', caller.auth)).body.data.map((c: { name: string }) => c.name);

beforeAll(async () => {
  caller = await createUser();
});

afterEach(() => expectNoClientInUse());

test('a created customer gets the lower-case text of its four fields; an update of a field rewrites it; an answer never shows it', async () => {
  const c = await createCustomer({ name: 'Şule ILGAZ', email: 'sule.ilgaz@example.com', company: 'Ilgaz Tekstil', phone: '+90 555 000 0001' });
  expect(await searchTextOf(c.id)).toBe(await lower('Şule ILGAZ sule.ilgaz@example.com Ilgaz Tekstil +90 555 000 0001'));
  const res = await api().patch(`/api/customers/${c.id}`).set('Authorization', caller.auth).send({ company: 'Ilgaz Enerji', phone: null });
  expect(res.status).toBe(200);
  expect(res.body).not.toHaveProperty('search_text');
  expect(await searchTextOf(c.id)).toBe(await lower('Şule ILGAZ sule.ilgaz@example.com Ilgaz Enerji '));
  expect(await names('ilgaz enerji')).toEqual(['Şule ILGAZ']);
  expect(await names('ilgaz tekstil')).toEqual([]);
});

test('a term that spans two fields in the stored text is no match (a match is within one field)', async () => {
  await createCustomer({ name: 'Nehir Boran', email: 'kuzey@example.com', company: null, phone: null });
  // The stored text is "nehir boran kuzey@example.com ": "boran kuzey" is in it, in no one field.
  expect(await names('boran kuzey')).toEqual([]);
  expect(await names('nehir boran')).toEqual(['Nehir Boran']);
});

test('a row written without the trigger (search_text NULL) is still found, by its fields; the history records nothing of it', async () => {
  const c = await createCustomer({ name: 'Deniz Yalın', email: null, company: 'Yalın Gıda', phone: null });
  await executeQuery('UPDATE customers SET search_text = NULL WHERE id = $1', [c.id]);
  expect(await searchTextOf(c.id)).toBeNull();
  expect(await names('yalın gıda')).toEqual(['Deniz Yalın']);
  const history = await executeQuery<{ operation: string; changes: unknown; row_data: Record<string, unknown> | null }>(
    "SELECT operation, changes, row_data FROM history WHERE entity = 'customer' AND entity_id = $1 ORDER BY id",
    [c.id],
  );
  expect(history.map((h) => h.operation)).toEqual(['insert']);
  expect(history[0]!.row_data).not.toHaveProperty('search_text');
});
