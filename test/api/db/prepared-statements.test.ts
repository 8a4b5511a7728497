// DB_PREPARED_STATEMENTS=true (the default) must never fail a request where named statements do not
// survive between transactions (PgBouncer < 1.21 in transaction mode). The server's two answers there
// are reproduced on one real connection: the statement node-postgres prepared is gone (26000), or
// one of that name is already there (42P05). Each test loads the data layer afresh (its fallback is
// process-wide), on a pool of one connection.
type Db = typeof import('../../../src/db');
type Logging = typeof import('../../../src/logging/logger');

let db: Db;
let warn: jest.SpyInstance;

beforeEach(() => {
  jest.resetModules();
  process.env.DB_POOL_MIN_CONNECTIONS = '1';
  process.env.DB_POOL_MAX_CONNECTIONS = '1';
  db = jest.requireActual<Db>('../../../src/db');
  warn = jest.spyOn(jest.requireActual<Logging>('../../../src/logging/logger').getLogger(), 'warn');
});

afterEach(async () => {
  expect(db.poolStats().in_use).toBe(0);
  await db.closePool();
});

const NAMED = { name: 'prepared_statements_test', text: 'SELECT $1::int + 1 AS n' };
const fallbackWarnings = () => warn.mock.calls.filter(([, message]) => String(message).includes('named prepared statements do not survive'));
const preparedOnServer = async () => (await db.executeQuery<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements'))[0]!.n;

describe('named prepared statements behind a pooler that keeps none', () => {
  test('a statement gone from the connection (26000): the request still succeeds, unnamed from then on, said once at warn', async () => {
    expect(await db.executeQuery(NAMED, [1])).toEqual([{ n: 2 }]);
    await db.executeWrite('DEALLOCATE ALL');
    expect(await db.executeQuery(NAMED, [2])).toEqual([{ n: 3 }]);
    expect(await db.executeQuery(NAMED, [3])).toEqual([{ n: 4 }]);
    expect(await preparedOnServer()).toBe(0);
    expect(fallbackWarnings()).toHaveLength(1);
  });

  test('a statement of that name already there (42P05): a write still succeeds, exactly once', async () => {
    await db.executeWrite("PREPARE prepared_statements_insert AS SELECT 'someone else''s'");
    const insert = { name: 'prepared_statements_insert', text: "INSERT INTO customers (name) VALUES ($1) RETURNING id" };
    const { rowCount } = await db.executeWrite(insert, ['Prepared Once']);
    expect(rowCount).toBe(1);
    expect(await db.executeQuery("SELECT id FROM customers WHERE name = 'Prepared Once'")).toHaveLength(1);
    expect(fallbackWarnings()).toHaveLength(1);
  });

  test('inside withTransaction, without asking: the callback ran once, the error reaches the caller, nothing is written, and the next transaction runs unnamed', async () => {
    await db.executeQuery(NAMED, [1]); // node-postgres now believes the statement is prepared
    await db.executeWrite('DEALLOCATE ALL');
    let attempts = 0;
    const transaction = () =>
      db.withTransaction(async (tx) => {
        attempts += 1;
        await db.executeWrite("INSERT INTO customers (name) VALUES ('Not Twice')", [], tx);
        return db.executeQuery<{ n: number }>(NAMED, [41], tx);
      });
    await expect(transaction()).rejects.toMatchObject({ code: '26000' });
    expect(attempts).toBe(1);
    expect(await db.executeQuery("SELECT id FROM customers WHERE name = 'Not Twice'")).toHaveLength(0);
    expect(db.classifyDbError(Object.assign(new Error('prepared statement does not exist'), { code: '26000' }))).toBe('unavailable');
    expect(await transaction()).toEqual([{ n: 42 }]);
    expect(attempts).toBe(2);
    expect(fallbackWarnings()).toHaveLength(1);
  });

  test('inside withTransaction with rerunIfRolledBack: the whole transaction runs again, and its writes land once', async () => {
    await db.executeQuery(NAMED, [1]); // node-postgres now believes the statement is prepared
    await db.executeWrite('DEALLOCATE ALL');
    let attempts = 0;
    const result = await db.withTransaction(
      async (tx) => {
        attempts += 1;
        await db.executeWrite("INSERT INTO customers (name) VALUES ('In A Transaction')", [], tx);
        return db.executeQuery<{ n: number }>(NAMED, [41], tx);
      },
      { rerunIfRolledBack: true },
    );
    expect(result).toEqual([{ n: 42 }]);
    expect(attempts).toBe(2);
    expect(await db.executeQuery("SELECT id FROM customers WHERE name = 'In A Transaction'")).toHaveLength(1);
    expect(fallbackWarnings()).toHaveLength(1);
  });

  test('other errors are not retried', async () => {
    await expect(db.executeQuery({ name: 'prepared_statements_bad', text: 'SELECT 1 / 0' })).rejects.toMatchObject({ code: '22012' });
    expect(fallbackWarnings()).toHaveLength(0);
  });
});
