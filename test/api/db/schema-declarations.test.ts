import { executeQuery } from '../../../src/db';
import { ROLES } from '../../../src/http/request-context';
import { SEARCH_EXPRESSION, SEARCH_TEXT_COLUMN } from '../../../src/modules/customers/customers-repository';
import { CUSTOMER_ASSIGNED, CUSTOMER_COLUMNS, CUSTOMER_FIELDS, CUSTOMER_STATUSES, DEFAULT_CUSTOMER_STATUS } from '../../../src/modules/customers/customers-schemas';

// Values the code declares once and the SQL schema must say again (a DEFAULT, a CHECK): held together here.
// A new status or role goes into the code's list and a migration; this test fails until both agree.

/** The quoted values of a column's DEFAULT and of the CHECK constraints that name it. */
async function columnRules(table: string, column: string): Promise<{ defaultValue: string[]; checked: string[] }> {
  const [row] = await executeQuery<{ default_expr: string | null; checks: string[] }>(
    `SELECT pg_get_expr(d.adbin, d.adrelid) AS default_expr,
            ARRAY(SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
                   WHERE c.conrelid = a.attrelid AND c.contype = 'c' AND a.attnum = ANY (c.conkey)) AS checks
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1::regclass AND a.attname = $2`,
    [table, column],
  );
  const quoted = (sql: string): string[] => [...sql.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
  return { defaultValue: quoted(row!.default_expr ?? ''), checked: row!.checks.flatMap(quoted) };
}

describe('the schema says what the code declares', () => {
  test('customers.status: the CHECK lists CUSTOMER_STATUSES, the DEFAULT is DEFAULT_CUSTOMER_STATUS', async () => {
    const rules = await columnRules('customers', 'status');
    expect([...rules.checked].sort()).toEqual([...CUSTOMER_STATUSES].sort());
    expect(rules.defaultValue).toEqual([DEFAULT_CUSTOMER_STATUS]);
  });

  test('users.role: the CHECK lists ROLES', async () => {
    const rules = await columnRules('users', 'role');
    expect([...rules.checked].sort()).toEqual([...ROLES].sort());
  });

  test('customers: the table has exactly the columns of the customer record; the fields a body writes have no default but status, the assigned ones all have one (an identity, a DEFAULT) but created_by', async () => {
    const columns = await executeQuery<{ name: string; has_default: boolean; not_null: boolean }>(
      `SELECT attname AS name, atthasdef OR attidentity <> '' AS has_default, attnotnull AS not_null FROM pg_attribute
        WHERE attrelid = 'customers'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    );
    // Besides the record's columns, only the search text a trigger keeps (migration 009), never answered.
    expect(columns.map((c) => c.name).sort()).toEqual([...CUSTOMER_COLUMNS, SEARCH_TEXT_COLUMN].sort());
    expect(columns.filter((c) => (CUSTOMER_FIELDS as string[]).includes(c.name) && c.has_default).map((c) => c.name)).toEqual(['status']);
    expect(columns.filter((c) => (CUSTOMER_ASSIGNED as string[]).includes(c.name) && !c.has_default).map((c) => c.name)).toEqual(['created_by']);
  });

  test("the history's record of a created customer leaves out exactly the assigned columns and the search text (migrations 007, 009)", async () => {
    const [fn] = await executeQuery<{ source: string }>(`SELECT prosrc AS source FROM pg_proc WHERE proname = 'customers_history_track'`);
    const left = /to_jsonb\(n\) - '\{([^}]*)\}'::text\[\]/.exec(fn!.source);
    expect(left?.[1]?.split(',').sort()).toEqual([...CUSTOMER_ASSIGNED, SEARCH_TEXT_COLUMN].sort());
  });

  test("the stored search text (migration 009's trigger and backfill) is the search's expression (SEARCH_EXPRESSION), on insert and on update", async () => {
    await executeQuery(`INSERT INTO customers (name, email, company, phone) VALUES ('Işıl ÇAKIR', 'isil@example.com', NULL, '+90 1')`);
    await executeQuery(`UPDATE customers SET company = 'Çakır Gıda' WHERE email = 'isil@example.com'`);
    const [row] = await executeQuery<{ n: number }>(`SELECT count(*)::int AS n FROM customers WHERE ${SEARCH_TEXT_COLUMN} IS DISTINCT FROM ${SEARCH_EXPRESSION}`);
    const [all] = await executeQuery<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    expect([all!.n > 0, row!.n]).toEqual([true, 0]);
  });
});
