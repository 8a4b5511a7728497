import { READ_REPLICA, executeQueryOne, executeWrite, queryPage, sortKey, type DbClient, type Page, type PageQuery, type PageSort, type PageStart } from '../../db';
import { CUSTOMER_COLUMNS, CUSTOMER_FIELDS, CUSTOMER_LIST_FILTERS, DEFAULT_CUSTOMER_STATUS, writtenValues, type CreateCustomerBody, type Customer, type CustomerListFilters, type ListCustomersQuery, type UpdateCustomerBody } from './customers-schemas';

export type { Customer };

export type CustomerRow = Omit<Customer, 'id' | 'created_by'> & { id: string; created_by: string | null };

/** The select list of every statement that answers customers (CUSTOMER_COLUMNS). */
export const CUSTOMER_SELECT = CUSTOMER_COLUMNS.join(', ');
const WRITTEN = CUSTOMER_FIELDS.join(', ');

/** bigint columns arrive as strings; they are JSON integers in the API. Field by field: a page's row carries helper columns too. */
export function toCustomer(row: CustomerRow): Customer {
  return {
    id: Number(row.id),
    name: row.name,
    email: row.email,
    phone: row.phone,
    company: row.company,
    city: row.city,
    status: row.status,
    notes: row.notes,
    version: row.version,
    created_at: row.created_at,
    updated_at: row.updated_at,
    created_by: row.created_by === null ? null : Number(row.created_by),
  };
}

// Sort keys come from this allow-list, never from input. Each has an index on (key, id); customers
// without a city sort as '' (keyset pagination needs a key that is never NULL).
export const CUSTOMER_SORT_KEYS: Record<ListCustomersQuery['sort'], PageSort> = {
  id: sortKey('id', 'bigint'),
  name: sortKey('name', 'text'),
  created_at: sortKey('created_at', 'timestamptz'),
  updated_at: sortKey('updated_at', 'timestamptz'),
  city: sortKey("coalesce(city, '')", 'text'),
  status: sortKey('status', 'text'),
};

export const SEARCH_EXPRESSION = "lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(company, '') || ' ' || coalesce(phone, ''))";
/**
 * The same text, stored in each row by a trigger (migration 009); not a field of the customer. A search
 * tests it first, one LIKE on plain text, and the fields' own lower() only on the rows it keeps.
 */
export const SEARCH_TEXT_COLUMN = 'search_text';

/**
 * How a q is narrowed: from four characters through the 4-gram index (customers_search_grams_idx), from
 * three through the trigram index (customers_search_trgm_idx); a shorter q has no piece an index holds
 * (the trigram index would read all of itself), so its matches are found by reading rows until the
 * count has enough: a common q stops early, a rare one reads the table.
 */
const GRAM_LENGTH = 4;
/** The sort key of customers_created_at_search_idx (migration 010), whose entries carry the stored text: a search's probe reads it, and a search in that order walks it on the index alone. */
const SEARCH_TEXT_INDEX_KEY = 'created_at';
const TRIGRAM_LENGTH = 3;

/** `%` and `_` are taken literally in q. */
function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The fixed statements (exported for the benchmark's ceilings, which run the same SQL). */
export const FIND_CUSTOMER_BY_ID = { name: 'customers_find_by_id', text: `SELECT ${CUSTOMER_SELECT} FROM customers WHERE id = $1` };
export const INSERT_CUSTOMER = {
  name: 'customers_insert',
  text: `INSERT INTO customers (${WRITTEN}, created_by)
         VALUES (${[...CUSTOMER_FIELDS, 'created_by'].map((_, i) => `$${i + 1}`).join(', ')}) RETURNING ${CUSTOMER_SELECT}`,
};

export async function findCustomerById(id: number, db?: DbClient): Promise<Customer | null> {
  const row = await executeQueryOne<CustomerRow>(FIND_CUSTOMER_BY_ID, [id], db);
  return row ? toCustomer(row) : null;
}

/** The letter of q in a statement's name: which index narrows it (see GRAM_LENGTH). */
const searchIndexOf = (q: string): 'g' | 't' | 'q' => {
  const length = [...q.toLowerCase()].length;
  return length >= GRAM_LENGTH ? 'g' : length >= TRIGRAM_LENGTH ? 't' : 'q';
};

/** A filter's condition (rechecked on every row), and the condition that lets an index find its candidates. */
interface FilterSql {
  where: string;
  matchIndex?: string;
  /** What the walk tests on the sort index's entries before reading a row (see PageQuery.walkPrefilter). */
  walkPrefilter?: string;
  /** What the planner estimates well in its place (default: `where`). */
  estimate?: string;
}

/**
 * The SQL of each filter declared in CUSTOMER_LIST_FILTERS (the compiler checks there is one each), and
 * its letter in the statement's name: one prepared statement per shape of the query (filters × sort ×
 * order × count × cursor), a small fixed set. Parameters are bound in the declared order of the filters.
 */
const CUSTOMER_FILTERS: { [K in keyof CustomerListFilters]: { letter: (value: CustomerListFilters[K]) => string; sql: (value: CustomerListFilters[K], bind: (v: string) => string) => FilterSql } } = {
  q: {
    letter: searchIndexOf,
    sql: (q, bind) => {
      const p = bind(likePattern(q));
      const lowered = bind(q.toLowerCase());
      const index = searchIndexOf(q);
      // An index narrows on the combined text (its 4-grams, or its trigrams for a q of three: migration
      // 005 says why); the per-field test decides, and keeps matches within one field.
      const matchIndex =
        index === 'g' ? `search_grams(${SEARCH_EXPRESSION}) @> search_grams(${lowered})` : index === 't' ? `${SEARCH_EXPRESSION} LIKE ${p}` : undefined;
      // The planner knows the combined text (the stored search text's statistics) and nothing of the
      // per-field tests: it estimates the matches from the former. Asked of the column, not of the
      // trigram index's expression (the same text, migration 004's statistics), the estimate plans no
      // index path: cheaper on every search.
      // The stored text first (a row it has not been written for yet is tested on its fields), then
      // the fields: a match that spans two of them in the stored text is none. The default order's
      // index carries the stored text (migration 010): a walk tests it there, reading only the rows it keeps.
      // There it is strpos of the lower-case q, the same test as LIKE '%q%' with q's % and _ escaped,
      // found with a substring search instead of a pattern match: the walk of `ahmet kaya` at a million
      // rows (2,451 entries for a page) cost 17 % less than with LIKE (docs/performance.md). `where`
      // keeps the LIKE: under a custom plan the planner estimates it from the column's statistics, and
      // would guess a third of the table for strpos() > 0.
      const stored = `(${SEARCH_TEXT_COLUMN} LIKE ${p} OR ${SEARCH_TEXT_COLUMN} IS NULL)`;
      return {
        walkPrefilter: `(strpos(${SEARCH_TEXT_COLUMN}, ${lowered}) > 0 OR ${SEARCH_TEXT_COLUMN} IS NULL)`,
        where: `${stored} AND (lower(name) LIKE ${p} OR lower(coalesce(email, '')) LIKE ${p} OR lower(coalesce(company, '')) LIKE ${p} OR lower(coalesce(phone, '')) LIKE ${p})`,
        matchIndex,
        estimate: `${SEARCH_TEXT_COLUMN} LIKE ${p}`,
      };
    },
  },
  status: { letter: () => 's', sql: (status, bind) => ({ where: `status = ${bind(status)}` }) },
  city: { letter: () => 'c', sql: (city, bind) => ({ where: `city = ${bind(city)}` }) },
};

/**
 * The exact total from the counters every write keeps (migration 002: parts per status and per city,
 * summed; a few dozen rows however many customers), for the filters they cover: none, status alone,
 * city alone. Other filters are counted.
 */
function countedFromCounters(query: ListCustomersQuery): string | undefined {
  if (query.q !== undefined || (query.status !== undefined && query.city !== undefined)) return undefined;
  if (query.status !== undefined) return 'SELECT coalesce(sum(n), 0) FROM customer_status_counts WHERE status = $1';
  if (query.city !== undefined) return 'SELECT coalesce(sum(n), 0) FROM customer_city_counts WHERE city = $1';
  return 'SELECT coalesce(sum(n), 0) FROM customer_status_counts';
}

/** A list request's page query (exported for the EXPLAIN and golden tests): page and total in one statement. */
export function customersPageQuery(query: ListCustomersQuery, start: PageStart): PageQuery {
  const where: string[] = [];
  const estimateWhere: string[] = [];
  const filterParams: string[] = [];
  const bind = (value: string): string => `$${filterParams.push(value)}`;
  let matchIndex: string | undefined;
  let walkPrefilter: string | undefined;
  let shape = '';
  for (const name of Object.keys(CUSTOMER_LIST_FILTERS) as (keyof CustomerListFilters)[]) {
    const value = query[name];
    if (value === undefined) continue;
    const filter = CUSTOMER_FILTERS[name] as { letter: (v: typeof value) => string; sql: (v: typeof value, b: typeof bind) => FilterSql };
    const sql = filter.sql(value, bind);
    where.push(sql.where);
    estimateWhere.push(sql.estimate ?? sql.where);
    matchIndex ??= sql.matchIndex;
    walkPrefilter ??= sql.walkPrefilter;
    shape += filter.letter(value);
  }
  return {
    name: `customers_list_${shape}_${query.sort}_${query.order}`,
    counted: countedFromCounters(query),
    table: 'customers',
    columns: CUSTOMER_SELECT,
    where,
    estimateWhere,
    matchIndex,
    walkPrefilter,
    // A search alone (with status or city too, the probe of the text would say nothing of them, and a
    // walk would read the rows the text matches to test them).
    prefilterIndexKey: walkPrefilter !== undefined && where.length === 1 ? SEARCH_TEXT_INDEX_KEY : undefined,
    filterParams,
    sort: { ...CUSTOMER_SORT_KEYS[query.sort], descending: query.order === 'desc' },
    ...start,
    limit: query.limit,
    count: query.count,
    // q is found through a gram index but each match is rechecked against its row; status and
    // city have (filter, created_at, id) indexes, which serve the default sort as they filter.
    filter: query.q !== undefined ? 'read' : query.sort === 'created_at' ? 'ordered' : 'indexed',
  };
}

/** One page of customers and the total of the filter, in one round trip; on a read replica when there is a healthy one. */
export const listCustomers = (query: ListCustomersQuery, start: PageStart): Promise<Page<Customer>> =>
  queryPage<CustomerRow, Customer>(customersPageQuery(query, start), toCustomer, READ_REPLICA);

export async function insertCustomer(body: CreateCustomerBody, createdBy: number | null, db?: DbClient): Promise<Customer> {
  const { rows } = await executeWrite<CustomerRow>(
    INSERT_CUSTOMER,
    [...writtenValues(body), createdBy],
    db,
  );
  return toCustomer(rows[0]!);
}

/**
 * Applies the changes, bumping version and updated_at. With `versions`, only when the current
 * version is one of them. Null when no row matched (absent, or a stale version).
 */
export async function updateCustomer(id: number, changes: UpdateCustomerBody, versions: number[] | undefined, db?: DbClient): Promise<Customer | null> {
  const params: unknown[] = [id];
  const sets: string[] = [];
  for (const column of CUSTOMER_FIELDS) {
    if (changes[column] === undefined) continue;
    params.push(changes[column]);
    sets.push(`${column} = $${params.length}`);
  }
  let versionCheck = '';
  if (versions !== undefined) {
    params.push(versions);
    versionCheck = ` AND version = ANY($${params.length}::int[])`;
  }
  const { rows } = await executeWrite<CustomerRow>(
    `UPDATE customers SET ${[...sets, 'version = version + 1', 'updated_at = NOW()'].join(', ')}
     WHERE id = $1${versionCheck} RETURNING ${CUSTOMER_SELECT}`,
    params,
    db,
  );
  return rows[0] ? toCustomer(rows[0]) : null;
}

export async function deleteCustomer(id: number, db?: DbClient): Promise<boolean> {
  const { rowCount } = await executeWrite({ name: 'customers_delete', text: 'DELETE FROM customers WHERE id = $1' }, [id], db);
  return rowCount > 0;
}

export async function countCustomers(db?: DbClient): Promise<number> {
  const row = await executeQueryOne<{ n: number }>('SELECT count(*)::int AS n FROM customers', [], db);
  return row?.n ?? 0;
}

/** Inserts many customers in one statement (demo data). */
export async function insertCustomers(customers: (CreateCustomerBody & { created_at?: Date })[], createdBy: number | null, db?: DbClient): Promise<number> {
  if (customers.length === 0) return 0;
  const { rowCount } = await executeWrite(
    `INSERT INTO customers (${WRITTEN}, created_by, created_at, updated_at)
     SELECT ${WRITTEN}, $2, created_at, created_at
       FROM jsonb_to_recordset($1::jsonb) AS x(${CUSTOMER_FIELDS.map((f) => `${f} text`).join(', ')}, created_at timestamptz)`,
    [JSON.stringify(customers.map((c) => ({ ...c, status: c.status ?? DEFAULT_CUSTOMER_STATUS, created_at: (c.created_at ?? new Date()).toISOString() }))), createdBy],
    db,
  );
  return rowCount;
}
