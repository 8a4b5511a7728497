import { executeQuery, type DbTarget } from './query';

/** docs/api.md §5: how a list counts its matches. */
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
  /**
   * A condition that only lets an index find the matches (a gram test that `where` decides anyway):
   * used to count and collect them, left out while walking the sort index, so that the planner walks
   * the order and stops at the page instead of reading every match to sort them.
   */
  matchIndex?: string;
  filterParams: string[];
  /**
   * A scalar SQL expression (over the filter's $1..$n) giving the exact number of matches from counters
   * the writes keep (migration 002), when one covers the filter: the total is then exact at any size and
   * costs a few rows, and nothing is counted.
   */
  counted?: string;
  sort: PageSort;
  /** Keyset: the page starts after this (key, id). */
  after?: { key: string; id: number };
  offset: number;
  limit: number;
  count: CountMode;
  /**
   * How the filter is best served (the repository knows its indexes):
   * - `ordered`: one index serves the filter and the sort together: walking it never passes over a
   *   row that does not match, so the page always walks it.
   * - `indexed`: the filter's own index finds the matches without reading them (an index-only count).
   * - `read`: finding a match means reading its row (a gram index's candidates are rechecked): the matches are read once,
   *   for the count and, when few, for the page.
   */
  filter: 'ordered' | 'indexed' | 'read';
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

// The same order as the key, through an expression no index provides.
const UNINDEXED: Record<PageSort['keyType'], (key: string) => string> = {
  text: (key) => `(${key} || '')`,
  timestamptz: (key) => `(${key} + INTERVAL '0 seconds')`,
  bigint: (key) => `(${key} + 0)`,
};

/**
 * The statement's parameters. The filters' values are $1..$n, bound by the repository in its filters'
 * order (their conditions already name them); each builder below binds what it adds as the next
 * number, in the order buildPageQuery calls them: the count's estimate, the cursor, limit and offset,
 * the candidates' estimate.
 */
class Params {
  readonly values: unknown[];
  constructor(readonly filters: readonly string[]) {
    this.values = [...filters];
  }
  bind(value: unknown): string {
    return `$${this.values.push(value)}`;
  }
  /**
   * The planner's row estimate for `SELECT 1 <from>` with this request's filter values (EXPLAIN: nothing
   * is read). The values go as text (the function's VARIADIC text[]), whatever type a condition casts its
   * own use to (`entity_id = $2::bigint`).
   */
  estimateOf(from: string): string {
    return `count_estimate(${[this.bind(`SELECT 1 ${from}`), ...this.filters.map((_, i) => `$${i + 1}::text`)].join(', ')})`;
  }
}

const whereOf = (conditions: (string | undefined)[]): string => {
  const present = conditions.filter((c): c is string => c !== undefined);
  return present.length > 0 ? `WHERE ${present.join(' AND ')}` : '';
};

/** What the builders share about one request. */
interface Shape {
  q: PageQuery;
  /** Every condition: the index-only one first, then `where`. */
  conditions: string[];
  /** `FROM table WHERE …`: the matches. */
  matches: string;
  /** The page is taken from the matches when they are few (a filter not served by the sort's index). */
  gated: boolean;
  /** The matches are read once into `m` (finding one means reading its row). */
  fromMatches: boolean;
}

function shapeOf(q: PageQuery): Shape {
  const conditions = q.matchIndex === undefined ? q.where : [q.matchIndex, ...q.where];
  const filtered = conditions.length > 0;
  const gated = filtered && q.filter !== 'ordered';
  return { q, conditions, matches: `FROM ${q.table} ${filtered ? `WHERE ${conditions.join(' AND ')}` : ''}`, gated, fromMatches: gated && q.filter === 'read' };
}

/** t: the total (per count mode), whether it is an estimate, and n, the matches counted up to one past the cap. */
function countSql({ q, matches, gated, fromMatches }: Shape, params: Params): string {
  if (q.counted !== undefined) {
    // Exact from the counters: the total (unless count=none), and n for a gated page's choice.
    if (q.count === 'none' && !gated) return 'SELECT NULL::bigint AS total, false AS estimated, NULL::bigint AS n';
    return `SELECT ${q.count === 'none' ? 'NULL::bigint' : 'c.matches'} AS total, false AS estimated, ${gated ? 'c.matches' : 'NULL::bigint'} AS n FROM (SELECT (${q.counted})::bigint AS matches) c`;
  }
  const capped = fromMatches ? 'SELECT count(*) AS n FROM m' : `SELECT count(*) AS n FROM (SELECT 1 ${matches} LIMIT ${COUNT_CAP + 1}) capped`;
  if (q.count === 'estimated') {
    return `SELECT CASE WHEN n > ${COUNT_CAP} THEN greatest(${params.estimateOf(matches)}, n) ELSE n END AS total, n > ${COUNT_CAP} AS estimated, n FROM (${capped}) c`;
  }
  if (q.count === 'exact') {
    return gated
      ? `SELECT CASE WHEN n > ${COUNT_CAP} THEN (SELECT count(*) ${matches}) ELSE n END AS total, false AS estimated, n FROM (${capped}) c`
      : `SELECT count(*) AS total, false AS estimated, NULL::bigint AS n ${matches}`;
  }
  return gated ? `SELECT NULL::bigint AS total, false AS estimated, n FROM (${capped}) c` : 'SELECT NULL::bigint AS total, false AS estimated, NULL::bigint AS n';
}

/** p: the page's rows (one more than the limit), by walking the sort index or, when the matches are few, from them. */
function pageSql({ q, conditions, gated, fromMatches }: Shape, params: Params): string {
  const { key, keyText, keyType, descending } = q.sort;
  const byId = key === 'id';
  const dir = descending ? 'DESC' : 'ASC';
  const cmp = descending ? '<' : '>';
  const after = q.after ? { key: byId ? '' : params.bind(q.after.key), id: params.bind(q.after.id) } : undefined;
  const limit = params.bind(q.limit + 1); // one more row says whether a next page exists
  const offset = params.bind(q.offset);
  const seek = (k: string, id: string) =>
    after ? (byId ? `${id} ${cmp} ${after.id}::bigint` : `(${k}, ${id}) ${cmp} (${after.key}::${keyType}, ${after.id}::bigint)`) : undefined;
  const orderBy = (k: string, id: string) => `ORDER BY ${k} ${dir}${byId ? '' : `, ${id} ${dir}`}`;
  const select = `SELECT ${q.columns}, ${keyText} AS page_key FROM ${q.table}`;
  const walk = (gate?: string) => `${select} ${whereOf([...q.where, gate, seek(key, 'id')])} ${orderBy(key, 'id')} LIMIT ${limit} OFFSET ${offset}`;
  if (!gated) return walk();
  const few = fromMatches
    ? `${select} JOIN (SELECT id AS m_id, k FROM m ${whereOf([seek('k', 'id')])} ${orderBy('k', 'id')} LIMIT ${limit} OFFSET ${offset}) few
      ON id = few.m_id WHERE t.n <= ${COUNT_CAP} ${orderBy('few.k', 'id')}`
    : `${select} ${whereOf([...conditions, `t.n <= ${COUNT_CAP}`, seek(UNINDEXED[keyType](key), '(id + 0)')])} ${orderBy(UNINDEXED[keyType](key), '(id + 0)')} LIMIT ${limit} OFFSET ${offset}`;
  return `(${walk(`t.n > ${COUNT_CAP}`)}) UNION ALL (${few})`;
}

/**
 * m: the first matches, up to one past the cap, read once for the count and (when few) the page.
 * Through the index, unless the planner expects so many candidates that reading rows until the cap is
 * reached costs less: that reads about (cap × rows / estimate) rows, the index about `estimate`
 * entries, about four of which cost what reading a row does. Decided per request (the plan is
 * generic), from the estimate for this q (EXPLAIN: nothing is read).
 */
function matchesSql({ q, conditions }: Shape, params: Params): string {
  const first = (tests: string[]) => `SELECT id, ${q.sort.key} AS k FROM ${q.table} ${whereOf(tests)} LIMIT ${COUNT_CAP + 1}`;
  if (q.matchIndex === undefined) return `m AS MATERIALIZED (${first(conditions)})`;
  const candidates = params.estimateOf(`FROM ${q.table} WHERE ${q.matchIndex}`);
  const scan = `SELECT ${candidates}::float8 ^ 2 > ${4 * (COUNT_CAP + 1)} * greatest(reltuples, 0) AS scan FROM pg_class WHERE oid = '${q.table}'::regclass`;
  return `s AS MATERIALIZED (${scan}), m AS MATERIALIZED ((${first([...conditions, 'NOT (SELECT scan FROM s)'])})
      UNION ALL (${first([...q.where, '(SELECT scan FROM s)'])}))`;
}

/**
 * The SQL of one page and its total, in one statement (one round trip): exported for the EXPLAIN and
 * golden tests.
 *
 * The matches are counted up to the cap (`n`). While more match, the page walks the sort index from
 * its start (a keyset page seeks straight to it, however deep), and past the cap the total is the
 * planner's estimate (EXPLAIN: nothing is read). When the count shows the cap or fewer, the page is
 * taken from those matches, found through the filter's index, and sorted: a rare filter never walks
 * the whole sort index looking for rows that are not there. Only the branch that applies runs.
 */
export function buildPageQuery(q: PageQuery): { name: string; text: string; params: unknown[] } {
  const shape = shapeOf(q);
  const params = new Params(q.filterParams);
  const counted = countSql(shape, params);
  const pages = pageSql(shape, params);
  const text = `${shape.fromMatches ? `WITH ${matchesSql(shape, params)} ` : ''}SELECT t.total AS page_total, t.estimated AS page_estimated, p.*
    FROM (${counted}) t
    LEFT JOIN LATERAL (${pages}) p ON TRUE`;
  return { name: `${q.name}_${q.count}${q.after ? '_after' : ''}`, text, params: params.values };
}

/** Runs a page query: the rows (without the helper columns), the next keyset position, and the total. */
export async function queryPage<Row extends { id: string | number }>(q: PageQuery, db?: DbTarget): Promise<Page<Row>> {
  const { name, text, params } = buildPageQuery(q);
  const rows = await executeQuery<PageRow<Row>>({ name, text }, params, db);
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
