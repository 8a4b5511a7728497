import { executeQuery, executeQueryOne, executeWrite, type DbClient } from '../../db';
import type { CreateCustomerBody, ListCustomersQuery, UpdateCustomerBody } from './customers-schemas';

export interface Customer {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  company: string | null;
  city: string | null;
  status: 'lead' | 'active' | 'inactive';
  notes: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  created_by: number | null;
}

export type CustomerRow = Omit<Customer, 'id' | 'created_by'> & { id: string; created_by: string | null };

export const CUSTOMER_COLUMNS = 'id, name, email, phone, company, city, status, notes, version, created_at, updated_at, created_by';

/** bigint columns arrive as strings; they are JSON integers in the API. */
export function toCustomer(row: CustomerRow): Customer {
  return { ...row, id: Number(row.id), created_by: row.created_by === null ? null : Number(row.created_by) };
}

// Sort columns come from this allow-list, never from input.
const SORT_COLUMNS: Record<ListCustomersQuery['sort'], string> = {
  id: 'id',
  name: 'name',
  created_at: 'created_at',
  updated_at: 'updated_at',
  city: 'city',
  status: 'status',
};

const PAGE_COLUMNS = CUSTOMER_COLUMNS.split(', ')
  .map((c) => `c.${c}`)
  .join(', ');

const SEARCH_EXPRESSION = "lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(company, '') || ' ' || coalesce(phone, ''))";

/** `%` and `_` are taken literally in q. */
function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function findCustomerById(id: number, db?: DbClient): Promise<Customer | null> {
  const row = await executeQueryOne<CustomerRow>({ name: 'customers_find_by_id', text: `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE id = $1` }, [id], db);
  return row ? toCustomer(row) : null;
}

/** The SQL of a list request (exported for the EXPLAIN test): page and total in one statement. */
export function buildListCustomersQuery(query: ListCustomersQuery): { name: string; text: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.q !== undefined) {
    params.push(likePattern(query.q));
    const p = `$${params.length}`;
    // The trigram index narrows on the combined text; the per-field test keeps matches within one field.
    where.push(
      `${SEARCH_EXPRESSION} LIKE ${p} AND (lower(name) LIKE ${p} OR lower(coalesce(email, '')) LIKE ${p} OR lower(coalesce(company, '')) LIKE ${p} OR lower(coalesce(phone, '')) LIKE ${p})`,
    );
  }
  if (query.status !== undefined) {
    params.push(query.status);
    where.push(`status = $${params.length}`);
  }
  if (query.city !== undefined) {
    params.push(query.city);
    where.push(`city = $${params.length}`);
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const dir = query.order === 'asc' ? 'ASC' : 'DESC';
  params.push(query.limit, (query.page - 1) * query.limit);
  const text = `SELECT t.total, ${PAGE_COLUMNS}
    FROM (SELECT count(*)::int AS total FROM customers ${whereSql}) t
    LEFT JOIN LATERAL (
      SELECT ${CUSTOMER_COLUMNS} FROM customers ${whereSql}
      ORDER BY ${SORT_COLUMNS[query.sort]} ${dir}, id ${dir}
      LIMIT $${params.length - 1} OFFSET $${params.length}
    ) c ON TRUE`;
  // One prepared statement per shape of the query (filters × sort × order): a small, fixed set.
  const shape = `${query.q !== undefined ? 'q' : ''}${query.status !== undefined ? 's' : ''}${query.city !== undefined ? 'c' : ''}`;
  return { name: `customers_list_${shape}_${query.sort}_${dir}`, text, params };
}

/** The page and the total of the filter, in one round trip. */
export async function listCustomers(query: ListCustomersQuery): Promise<{ customers: Customer[]; total: number }> {
  const { name, text, params } = buildListCustomersQuery(query);
  const rows = await executeQuery<CustomerRow & { total: number }>({ name, text }, params);
  const customers = rows.filter((r) => r.id !== null).map(({ total: _total, ...row }) => toCustomer(row));
  return { customers, total: rows[0]?.total ?? 0 };
}

export async function insertCustomer(body: CreateCustomerBody, createdBy: number | null, db?: DbClient): Promise<Customer> {
  const { rows } = await executeWrite<CustomerRow>(
    {
      name: 'customers_insert',
      text: `INSERT INTO customers (name, email, phone, company, city, status, notes, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${CUSTOMER_COLUMNS}`,
    },
    [body.name, body.email ?? null, body.phone ?? null, body.company ?? null, body.city ?? null, body.status ?? 'lead', body.notes ?? null, createdBy],
    db,
  );
  return toCustomer(rows[0]!);
}

const UPDATABLE = ['name', 'email', 'phone', 'company', 'city', 'status', 'notes'] as const;

/**
 * Applies the changes, bumping version and updated_at. With `versions`, only when the current
 * version is one of them. Null when no row matched (absent, or a stale version).
 */
export async function updateCustomer(id: number, changes: UpdateCustomerBody, versions: number[] | undefined, db?: DbClient): Promise<Customer | null> {
  const params: unknown[] = [id];
  const sets: string[] = [];
  for (const column of UPDATABLE) {
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
     WHERE id = $1${versionCheck} RETURNING ${CUSTOMER_COLUMNS}`,
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
    `INSERT INTO customers (name, email, phone, company, city, status, notes, created_by, created_at, updated_at)
     SELECT name, email, phone, company, city, status, notes, $2, created_at, created_at
       FROM jsonb_to_recordset($1::jsonb) AS x(name text, email text, phone text, company text, city text, status text, notes text, created_at timestamptz)`,
    [JSON.stringify(customers.map((c) => ({ ...c, status: c.status ?? 'lead', created_at: (c.created_at ?? new Date()).toISOString() }))), createdBy],
    db,
  );
  return rowCount;
}
