import { executeQuery, type DbTarget } from './query';

/** docs/api.md §5: how a list counts its matches. */
type CountMode = 'estimated' | 'exact' | 'none';

/** In `estimated` mode counting stops past this many matches; the planner's estimate stands in above it. */
export const COUNT_CAP = 10_000;

/**
 * A filter no counter covers is counted only while the planner expects few matches: at most
 * max(EXACT_MIN, √(rows the page needs × table rows / WALKED_PER_MATCH)), where collecting every match
 * costs about what walking the sort index to the page costs (a walk reads about need × rows / matches
 * entries). Beyond, the page walks the sort index and the total is the estimate (docs/api.md §5).
 * 4,583 at a million rows for a first page of 20, 14,491 at ten million; where the walk tests the
 * sort index's entries alone (PageQuery.prefilterIndexKey), 1,146 and 3,623.
 */
const EXACT_MIN = 1_000;

/**
 * Entries a walk reads on the index alone (PageQuery.prefilterIndexKey) for the cost of one match collected
 * through the filter's index: ~0.2 µs an entry (`ahmet kaya`, 2,451 entries in ~0.5 ms) against ~2.8
 * µs a match (`fatma demir`, 3,175 matches found, rechecked, counted and sorted in ~9 ms; a million
 * rows, one client, generic plans). A walk that reads rows costs about what a match does (1).
 */
const WALKED_PER_MATCH = 16;

/** A filter served in order is first counted this far in its index (no estimate needed below). */
const FEW = 100;

/**
 * Entries a probe tests (PageQuery.prefilterIndexKey) where the planner expects few matches: a share of 1 in
 * 1,000 is 1,000 matches at a million rows, which the planner's statistics cannot see (below).
 */
export const PROBE_ROWS = 1_000;

/**
 * The most a probe's share may say of the whole table: the probe reads the newest entries, and a term
 * in 3 % of the rows is in none of the ~99 values of the planner's histogram with a chance of 5 %
 * (0.97^99): the planner's silence says little below that, and not much above. A term concentrated
 * among the newest rows (customers of one campaign) is put at no more than this, not at the share it
 * has among them.
 */
const PROBE_MAX_SHARE = 0.03;

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
  /**
   * A cheap condition that every row `where` keeps also passes, over columns an index on the sort
   * carries (a stored search text in its INCLUDE): the walk tests it on the index entries alone and
   * reads the row, to test `where`, only where it holds. Without it the walk reads every row it passes.
   */
  walkPrefilter?: string;
  /**
   * The sort key whose index carries walkPrefilter's columns (`created_at`: migration 010's index has the
   * stored search text), set only when walkPrefilter is the whole filter (the probe tests nothing else).
   * - A walk in that order tests the index's entries without reading rows, and walks farther before
   *   collecting the matches is cheaper (WALKED_PER_MATCH).
   * - The probe: where the planner expects too few matches to walk, the newest PROBE_ROWS entries of
   *   that index are tested with walkPrefilter (on the index alone where the visibility map allows), and
   *   the share that passes, times the table's rows, stands in for the estimate when it is higher (up to
   *   PROBE_MAX_SHARE of the table). A planner's estimate of a `LIKE '%…%'` tests the pattern against the
   *   ~100 values of the column's histogram: a term in under ~1 % of the rows often matches none of them,
   *   and is then put at 0.01 % of the table (100 at a million rows, 1,000 at ten million) whatever its
   *   share; the matches of such a term (`murat yılmaz`, 9,525 at a million) were collected through its
   *   index in 24 ms where the walk takes 1.4.
   */
  prefilterIndexKey?: string;
  filterParams: string[];
  /**
   * Conditions over the same $1..$n that the planner estimates well, standing in for `where` when the
   * statement asks how many rows match (a search's per-field tests have no statistics; the combined text
   * its index is built on has). Defaults to `where`.
   */
  estimateWhere?: string[];
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
  /**
   * A filter no counter covers: the statement first asks the planner how many rows match (`e`), and
   * either walks the sort index to the page (`w`, many matches: the total is then the estimate) or
   * collects the matches through the filter's index (`m`, few: counted exactly).
   */
  decided: boolean;
}

function shapeOf(q: PageQuery): Shape {
  const conditions = q.matchIndex === undefined ? q.where : [q.matchIndex, ...q.where];
  const filtered = conditions.length > 0;
  const gated = filtered && q.filter !== 'ordered';
  return { q, conditions, matches: `FROM ${q.table} ${filtered ? `WHERE ${conditions.join(' AND ')}` : ''}`, gated, decided: filtered && q.counted === undefined };
}

/** The statement's helpers, each bound once: rows the page needs (offset + limit + 1), limit + 1, offset, the cursor. */
interface Bound {
  need: string;
  limit: string;
  offset: string;
  /** The keyset condition on (key expression, id expression), or undefined without a cursor. */
  seek: (k: string, id: string) => string | undefined;
  orderBy: (k: string, id: string) => string;
}

function bindPaging(q: PageQuery, params: Params): Bound {
  const { key, keyType, descending } = q.sort;
  const byId = key === 'id';
  const dir = descending ? 'DESC' : 'ASC';
  const cmp = descending ? '<' : '>';
  const after = q.after ? { key: byId ? '' : params.bind(q.after.key), id: params.bind(q.after.id) } : undefined;
  const limit = params.bind(q.limit + 1); // one more row says whether a next page exists
  const offset = params.bind(q.offset);
  let need: string | undefined;
  return {
    // Bound when first used: only a decided filter needs it, and every $n in the text must be bound.
    get need() {
      return (need ??= params.bind(q.offset + q.limit + 1));
    },
    limit,
    offset,
    seek: (k, id) => (after ? (byId ? `${id} ${cmp} ${after.id}::bigint` : `(${k}, ${id}) ${cmp} (${after.key}::${keyType}, ${after.id}::bigint)`) : undefined),
    orderBy: (k, id) => `ORDER BY ${k} ${dir}${byId ? '' : `, ${id} ${dir}`}`,
  };
}

/**
 * The CTEs of a decided filter:
 * - e: the planner's estimate of the matches (EXPLAIN: nothing is read; a probe where it expects few,
 *   see PageQuery.prefilterIndexKey), and whether to walk: more than max(EXACT_MIN, √(need × table rows)) expected
 *   (÷ WALKED_PER_MATCH under the root when the walk reads the index alone).
 * - w: the walk — the sort index from the page's start, each row tested, until `need` rows matched,
 *   reading at most 4 × the rows the estimate says it needs (at least 16 × need): a walk that comes
 *   back short (the estimate was too high) leaves the page to the matches.
 * A filter its own index serves in order (`ordered`: the history's, status with city in the default
 * order) has only e: its page walks that index, which passes over no other row, and countSql counts it.
 * - m: the first COUNT_CAP + 1 matches through the filter's index, only when the walk did not fill
 *   the page: counted exactly, and the page sorted from them when they are all.
 */
function decidedSql({ q, conditions }: Shape, params: Params, b: Bound): string {
  const estimate = params.estimateOf(`FROM ${q.table} ${whereOf(q.estimateWhere ?? q.where)}`);
  const { key } = q.sort;
  if (q.filter === 'ordered') {
    // The page walks the filter's own index, which passes over no row that does not match. The count
    // reads that index too (no row): up to FEW + 1 entries, and only beyond asks for the estimate
    // (which costs a plan: a record's history of a few entries must not pay it).
    return `WITH e AS MATERIALIZED (SELECT ${estimate}::float8 AS est) `;
  }
  const indexKey = q.walkPrefilter === undefined ? undefined : q.prefilterIndexKey;
  const perMatch = indexKey !== undefined && q.sort.key === indexKey ? WALKED_PER_MATCH : 1;
  const line = (x: string) => `greatest(${EXACT_MIN}, sqrt(${b.need}::float8 * ${x}.n${perMatch > 1 ? ` / ${perMatch}` : ''}))`;
  const many = (x: string) => `${x}.est > ${line(x)}`;
  const planned = `SELECT ${estimate}::float8 AS est, greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = '${q.table}'::regclass`;
  // The probe runs only where the planner expects few and the probe's most could say many (an
  // uncorrelated subquery in the ELSE: evaluated when reached), and once: OFFSET 0 keeps its subquery
  // from being pulled up into each of e's three uses of est.
  const estimated =
    indexKey === undefined
      ? planned
      : `SELECT CASE WHEN ${many('p')} OR p.n * ${PROBE_MAX_SHARE} <= ${line('p')} THEN p.est ELSE greatest(p.est, p.n * (SELECT least(${PROBE_MAX_SHARE}, count(*) FILTER (WHERE hit)::float8 / greatest(count(*), 1))
          FROM (SELECT ${q.walkPrefilter} AS hit FROM ${q.table} ORDER BY ${indexKey} DESC, id DESC LIMIT ${PROBE_ROWS}) probe)) END AS est, p.n FROM (${planned}) p OFFSET 0`;
  const e = `e AS MATERIALIZED (SELECT x.est, ${many('x')} AS walk,
      least(x.n + 1, greatest(16 * ${b.need}::float8, 4 * ${b.need}::float8 * x.n / greatest(x.est, 1)))::bigint AS budget
      FROM (${estimated}) x)`;
  const walked = (test: string): string => `SELECT id, ${key} AS k, (${test}) AS hit FROM ${q.table} ${whereOf(['(SELECT walk FROM e)', b.seek(key, 'id')])}
          ${b.orderBy(key, 'id')} LIMIT (SELECT budget FROM e)`;
  const walk =
    q.walkPrefilter === undefined
      ? `SELECT id, k FROM (${walked(q.where.join(' AND '))}) r WHERE hit LIMIT ${b.need}`
      : // A scalar subquery, one row by id each: an EXISTS would be planned as a join over the table.
        `SELECT id, k FROM (${walked(q.walkPrefilter)}) r
          WHERE hit AND (SELECT ${q.where.join(' AND ')} FROM ${q.table} x WHERE x.id = r.id) LIMIT ${b.need}`;
  // Unless the walk filled the page: every match (few were expected), or, when a walk was chosen and
  // came back short, the matches past the cursor (a common filter whose matches are elsewhere in the order).
  const seek = b.seek(key, 'id');
  const m = `SELECT id, ${key} AS k FROM ${q.table} ${whereOf([
    ...conditions,
    `(SELECT count(*) FROM w) < ${b.need}`,
    seek === undefined ? undefined : `(NOT (SELECT walk FROM e) OR ${seek})`,
  ])} LIMIT ${COUNT_CAP + 1}`;
  return `WITH ${e}, w AS MATERIALIZED (${walk}), m AS MATERIALIZED (${m}) `;
}

/** t: the total (per count mode), whether it is an estimate, n (matches counted, up to one past the cap) and whether the walk filled the page. */
function countSql({ q, matches, gated, decided }: Shape, params: Params, b: Bound): string {
  if (decided && q.filter === 'ordered') {
    if (q.count === 'none') return 'SELECT NULL::bigint AS total, false AS estimated, NULL::bigint AS n';
    // Up to FEW + 1 entries first (a record's history: no plan to pay for); beyond, the estimate decides
    // whether counting on (up to the cap) is cheap.
    const upTo = (cap: number) => `(SELECT count(*) FROM (SELECT 1 ${matches} LIMIT ${cap + 1}) capped)`;
    const beyond =
      q.count === 'exact'
        ? `(SELECT count(*) ${matches})`
        : `CASE WHEN est <= ${EXACT_MIN} THEN (SELECT CASE WHEN n > ${COUNT_CAP} THEN greatest(est, n)::bigint ELSE n END FROM (SELECT ${upTo(COUNT_CAP)} AS n OFFSET 0) c2) ELSE greatest(est, few)::bigint END`;
    // Estimated past FEW when the planner expects many, or when counting on passed the cap (then, and
    // only then, the total is above it): read from the total, so that the count to the cap runs once.
    const estimated = q.count === 'estimated' ? `few > ${FEW} AND (est > ${EXACT_MIN} OR total > ${COUNT_CAP})` : 'false';
    // OFFSET 0 on each level: every subquery runs once, not once per use of its column.
    return `SELECT total, ${estimated} AS estimated, few AS n
      FROM (SELECT CASE WHEN few <= ${FEW} THEN few ELSE ${beyond} END AS total, few, est
        FROM (SELECT ${upTo(FEW)} AS few, (SELECT est FROM e) AS est OFFSET 0) c OFFSET 0) c3`;
  }
  if (decided) {
    // m holds every match when n ≤ cap, unless a walk was chosen and a cursor narrowed m to the matches past it.
    const complete = `NOT walked AND n <= ${COUNT_CAP}${q.after ? ' AND NOT chosen' : ''}`;
    const total =
      q.count === 'none'
        ? 'NULL::bigint'
        : q.count === 'exact'
          ? `CASE WHEN ${complete} THEN n ELSE (SELECT count(*) ${matches}) END`
          : `CASE WHEN ${complete} THEN n ELSE greatest(est, ${b.offset} + wn, n)::bigint END`;
    const estimated = q.count === 'estimated' ? `NOT (${complete})` : 'false';
    return `SELECT ${total} AS total, ${estimated} AS estimated, n, walked
      FROM (SELECT (SELECT count(*) FROM w) >= ${b.need} AS walked, (SELECT walk FROM e) AS chosen, (SELECT count(*) FROM w) AS wn, (SELECT count(*) FROM m) AS n, (SELECT est FROM e) AS est OFFSET 0) c`;
  }
  if (q.counted !== undefined) {
    // Exact from the counters: the total (unless count=none), and n for a gated page's choice.
    if (q.count === 'none' && !gated) return 'SELECT NULL::bigint AS total, false AS estimated, NULL::bigint AS n';
    return `SELECT ${q.count === 'none' ? 'NULL::bigint' : 'c.matches'} AS total, false AS estimated, ${gated ? 'c.matches' : 'NULL::bigint'} AS n FROM (SELECT (${q.counted})::bigint AS matches) c`;
  }
  // No filter and no counter: counted up to the cap, the table's estimate beyond.
  if (q.count === 'none') return 'SELECT NULL::bigint AS total, false AS estimated, NULL::bigint AS n';
  if (q.count === 'exact') return `SELECT count(*) AS total, false AS estimated, NULL::bigint AS n ${matches}`;
  return `SELECT CASE WHEN n > ${COUNT_CAP} THEN greatest(${params.estimateOf(matches)}, n) ELSE n END AS total, n > ${COUNT_CAP} AS estimated, n
    FROM (SELECT count(*) AS n FROM (SELECT 1 ${matches} LIMIT ${COUNT_CAP + 1}) capped) c`;
}

/** p: the page's rows (one more than the limit). */
function pageSql({ q, conditions, gated, decided }: Shape, b: Bound): string {
  const { key, keyText, keyType } = q.sort;
  const select = `SELECT ${q.columns}, ${keyText} AS page_key FROM ${q.table}`;
  const walk = (gate?: string) => `${select} ${whereOf([...q.where, gate, b.seek(key, 'id')])} ${b.orderBy(key, 'id')} LIMIT ${b.limit} OFFSET ${b.offset}`;
  const from = (cte: string, gate: string, seek: boolean) =>
    `${select} JOIN (SELECT id AS m_id, k FROM ${cte} ${whereOf([seek ? b.seek('k', 'id') : undefined])} ${b.orderBy('k', 'id')} LIMIT ${b.limit} OFFSET ${b.offset}) few
      ON id = few.m_id WHERE ${gate} ${b.orderBy('few.k', 'id')}`;
  if (decided) {
    // The walk's rows (already past the cursor); else the matches when they are all (and the filter is
    // not served in order); else a walk of the sort index to the page, however far.
    if (!gated) return walk();
    return [`(${from('w', 't.walked', false)})`, `(${from('m', `NOT t.walked AND t.n <= ${COUNT_CAP}`, true)})`, `(${walk(`NOT t.walked AND t.n > ${COUNT_CAP}`)})`].join(' UNION ALL ');
  }
  if (!gated) return walk();
  // Counters give n: the page walks the sort index while more than the cap match, else sorts the matches found through the filter's index.
  const few = `${select} ${whereOf([...conditions, `t.n <= ${COUNT_CAP}`, b.seek(UNINDEXED[keyType](key), '(id + 0)')])} ${b.orderBy(UNINDEXED[keyType](key), '(id + 0)')} LIMIT ${b.limit} OFFSET ${b.offset}`;
  return `(${walk(`t.n > ${COUNT_CAP}`)}) UNION ALL (${few})`;
}

/**
 * The SQL of one page and its total, in one statement (one round trip): exported for the EXPLAIN and
 * golden tests.
 *
 * No filter, or one the counters cover: the total from the counters, the page by walking the sort index
 * (or, for a few matches the sort's index does not serve, from the filter's index, sorted). Any other
 * filter is decided per request from the planner's estimate for these values (decidedSql): many matches
 * — the page walks the sort index and stops when it is full, the total is the estimate; few — they are
 * collected through the filter's index, counted, and the page sorted from them. Never a bitmap of every
 * match of a common filter; a keyset page seeks straight to its start, however deep. Only the branch
 * that applies runs.
 */
export function buildPageQuery(q: PageQuery): { name: string; text: string; params: unknown[] } {
  const shape = shapeOf(q);
  const params = new Params(q.filterParams);
  const b = bindPaging(q, params);
  const ctes = shape.decided ? decidedSql(shape, params, b) : '';
  const counted = countSql(shape, params, b);
  const pages = pageSql(shape, b);
  const text = `${ctes}SELECT t.total AS page_total, t.estimated AS page_estimated, p.*
    FROM (${counted}) t
    LEFT JOIN LATERAL (${pages}) p ON TRUE`;
  return { name: `${q.name}_${q.count}${q.after ? '_after' : ''}`, text, params: params.values };
}

/**
 * Runs a page query: the rows as `toRow` makes them (from the statement's rows, which also carry the
 * page's helper columns: `toRow` picks the fields it answers, so each row is copied once), the next
 * keyset position, and the total.
 */
export async function queryPage<Row extends { id: string | number }, Out>(q: PageQuery, toRow: (row: Row) => Out, db?: DbTarget): Promise<Page<Out>> {
  const { name, text, params } = buildPageQuery(q);
  const rows = await executeQuery<PageRow<Row>>({ name, text }, params, db);
  const first = rows[0];
  // An empty page is one row with the total and no customer (the LEFT JOIN LATERAL).
  const found = first === undefined || first.id === null ? 0 : rows.length;
  const last = found > q.limit ? rows[q.limit - 1] : undefined;
  const page: Out[] = new Array<Out>(Math.min(found, q.limit));
  for (let i = 0; i < page.length; i++) page[i] = toRow(rows[i]!);
  return {
    rows: page,
    next: last ? { key: last.page_key ?? '', id: Number(last.id) } : null,
    total: first?.page_total == null ? null : Number(first.page_total),
    totalIsEstimate: first?.page_estimated ?? false,
  };
}
