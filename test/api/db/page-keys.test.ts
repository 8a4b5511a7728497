import { PAGE_KEYS, executeQueryOne } from '../../../src/db';

// A cursor carries its sort key as the text the database wrote (PAGE_KEYS[type].text); when it comes
// back, the text is checked against PAGE_KEYS[type].pattern. Both are declared together; this runs the
// SQL on the real server and holds its output to the pattern.
describe('PAGE_KEYS: the key text the database writes fits the pattern a returning cursor is checked against', () => {
  test.each([
    ['timestamptz', "'2026-11-30 09:15:00.5+03'::timestamptz"],
    ['timestamptz', "'1999-01-01 00:00:00+00'::timestamptz"],
    ['timestamptz', 'now()'],
    ['bigint', '9007199254740991::bigint'],
    ['bigint', '1::bigint'],
    ['text', "'Ayşe Kaya, İzmir'::text"],
    ['text', "''::text"],
  ] as const)('%s: %s', async (type, value) => {
    const row = await executeQueryOne<{ key: string }>(`SELECT ${PAGE_KEYS[type].text(value)} AS key`);
    expect(row!.key).toMatch(PAGE_KEYS[type].pattern);
  });

  test('the time key is exact to the microsecond, in UTC', async () => {
    const row = await executeQueryOne<{ key: string }>(`SELECT ${PAGE_KEYS.timestamptz.text("'2026-11-30 09:15:00.123456+03'::timestamptz")} AS key`);
    expect(row!.key).toBe('2026-11-30T06:15:00.123456Z');
  });
});
