import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPageQuery } from '../../../src/db/page-query';
import { customersPageQuery } from '../../../src/modules/customers/customers-repository';
import { ListCustomersQuerySchema } from '../../../src/modules/customers/customers-schemas';

// Golden statements: the exact SQL, name and parameters of a few list shapes. A change to the page
// query shows here as a diff to read (and, when meant, to write back into the golden file); the EXPLAIN
// tests (test/api/db/explain-indexes.test.ts) say whether the plans still use the indexes.
type Golden = Record<string, { query: Record<string, string>; start: { offset: number; after?: { key: string; id: number } }; statement: unknown }>;
const GOLDEN = JSON.parse(readFileSync(join(__dirname, 'page-query.golden.json'), 'utf8')) as Golden;

describe('buildPageQuery (golden statements)', () => {
  test.each(Object.entries(GOLDEN))('%s', (_shape, { query, start, statement }) => {
    expect(buildPageQuery(customersPageQuery(ListCustomersQuerySchema.parse(query), start))).toEqual(statement);
  });

  test('parameters: the filters take $1..$n, then the statement appends its own in the order it uses them', () => {
    const { text, params } = buildPageQuery(customersPageQuery(ListCustomersQuerySchema.parse({ status: 'active', city: 'Izmir', sort: 'name' }), { offset: 0, after: { key: 'K', id: 9 } }));
    expect(params.slice(0, 2)).toEqual(['active', 'Izmir']);
    expect(text).toContain('status = $1 AND city = $2');
    // Every $n in the text has a parameter, and every parameter is used.
    const used = new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    expect([...used].sort((a, b) => a - b)).toEqual(params.map((_, i) => i + 1));
  });
});
