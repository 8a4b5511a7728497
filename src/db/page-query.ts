import { executeQuery } from './query';

/** API.md §5: how a list counts its matches. */
export type CountMode = 'estimated' | 'exact' | 'none';

/** In `estimated` mode counting stops past this many matches; the planner's estimate stands in above it. */
export const COUNT_CAP = 10_000;

/** The sort of a list: a never-NULL SQL expression, with `id` as the tie-breaker. */
export interface PageSort {
  /** The ORDER BY expression (an allow-listed column or expression, never input). */
  key: string;
  /** The key as text, exact to the microsecond, for the cursor. */
  keyText: string;
  /** The SQL type the cursor's key text is cast back to. */
  keyType: 'text' | 'timestamptz' | 'bigint';
  descending: boolean;
}

export interface PageQuery {
  /** Prefix of the prepared statements' names: one per shape of the query, a small fixed set. */
  name: string;
  table: string;
  columns: string;
  /** Conditions over $1..$n, n = filterParams.length (at most 4, count_estimate binds four). */
  where: string[];
  filterParams: string[];
  sort: PageSort;
  /** Keyset: the page starts after this (key, id). */
  after?: { key: string; id: number };
  offset: number;
  limit: number;
  count: CountMode;
}

/** Where a page starts: an offset (`page`), or after a keyset position (`cursor`). */
export type PageStart = Pick<PageQuery, 'offset' | 'after'>;

export interface Page<Row> {
  rows: Row[];
  /** The sort key (as text) and id of the page's last row when more rows follow, else null. */
  next: { key: string; id: number } | null;
  total: number | null;
  totalIsEstimate: boolean;
}

type PageRow<Row> = Row & { page_total: string | null; page_estimated: boolean; page_key: string | null };

function countSql(q: PageQuery, whereSql: string, param: (v: unknown) => string): string {
  const matches = `FROM ${q.table} ${whereSql}`;
  if (q.count === 'none') return 'SELECT NULL::bigint AS total, false AS estimated, NULL::bigint AS n';
  if (q.count === 'exact') return `SELECT n AS total, false AS estimated, n FROM (SELECT count(*) AS n ${matches}) counted`;
  // Count up to the cap; past it, ask the planner (EXPLAIN, nothing is read) with the same filter.
  const estimate = `count_estimate(${[param(`SELECT 1 ${matches}`), ...q.filterParams.map((_, i) => `$${i + 1}`)].join(', ')})`;
  return `SELECT CASE WHEN n > ${COUNT_CAP} THEN greatest(${estimate}, n) ELSE n END AS total, n > ${COUNT_CAP} AS estimated, n
            FROM (SELECT count(*) AS n FROM (SELECT 1 ${matches} LIMIT ${COUNT_CAP + 1}) capped) counted`;
}

// The same order as the key, through an expression no index provides.
const UNINDEXED: Record<PageSort['keyType'], (key: string) => string> = {
  text: (key) => `(${key} || '')`,
  timestamptz: (key) => `(${key} + INTERVAL '0 seconds')`,
  bigint: (key) => `(${key} + 0)`,
};

/**
 * The SQL of one page and its total, in one statement (one round trip): exported for the EXPLAIN tests.
 * Many matches: the page walks the sort index from its start (a keyset page seeks straight to it,
 * however deep). Few matches (the count says so, at most the cap): the page is taken from the
 * matches, found through the filter's index, and sorted, so that a rare filter never walks the whole
 * sort index looking for rows that are not there. Only the branch that applies runs.
 */
export function buildPageQuery(q: PageQuery): { name: string; text: string; params: unknown[] } {
  const params: unknown[] = [...q.filterParams];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const whereSql = q.where.length > 0 ? `WHERE ${q.where.join(' AND ')}` : '';
  const counted = countSql(q, whereSql, param);
  const { keyText, keyType, descending } = q.sort;
  const byId = q.sort.key === 'id';
  const after = q.after ? { key: byId ? '' : param(q.after.key), id: param(q.after.id) } : undefined;
  const limit = param(q.limit + 1); // one more row says whether a next page exists
  const offset = param(q.offset);

  const page = (key: string, id: string, gate: string | undefined): string => {
    const conditions = [...q.where];
    if (gate) conditions.push(gate);
    const cmp = descending ? '<' : '>';
    if (after) {
      conditions.push(byId ? `${id} ${cmp} ${after.id}::bigint` : `(${key}, ${id}) ${cmp} (${after.key}::${keyType}, ${after.id}::bigint)`);
    }
    const dir = descending ? 'DESC' : 'ASC';
    return `SELECT ${q.columns}, ${keyText} AS page_key FROM ${q.table} WHERE ${conditions.length > 0 ? conditions.join(' AND ') : 'TRUE'}
      ORDER BY ${key} ${dir}${byId ? '' : `, ${id} ${dir}`} LIMIT ${limit} OFFSET ${offset}`;
  };
  const pages =
    q.count === 'none' || q.where.length === 0
      ? page(q.sort.key, 'id', undefined)
      : `(${page(q.sort.key, 'id', `t.n > ${COUNT_CAP}`)}) UNION ALL (${page(UNINDEXED[keyType](q.sort.key), '(id + 0)', `t.n <= ${COUNT_CAP}`)})`;
  const text = `SELECT t.total AS page_total, t.estimated AS page_estimated, p.*
    FROM (${counted}) t
    LEFT JOIN LATERAL (${pages}) p ON TRUE`;
  return { name: `${q.name}_${q.count}${q.after ? '_after' : ''}`, text, params };
}

/** Runs a page query: the rows (without the helper columns), the next keyset position, and the total. */
export async function queryPage<Row extends { id: string | number }>(q: PageQuery): Promise<Page<Row>> {
  const { name, text, params } = buildPageQuery(q);
  const rows = await executeQuery<PageRow<Row>>({ name, text }, params);
  const first = rows[0];
  const page = rows.filter((r) => r.id !== null);
  const last = page.length > q.limit ? page[q.limit - 1] : undefined;
  return {
    rows: page.slice(0, q.limit).map(({ page_total: _t, page_estimated: _e, page_key: _k, ...row }) => row as unknown as Row),
    next: last ? { key: last.page_key ?? '', id: Number(last.id) } : null,
    total: first?.page_total == null ? null : Number(first.page_total),
    totalIsEstimate: first?.page_estimated ?? false,
  };
}
