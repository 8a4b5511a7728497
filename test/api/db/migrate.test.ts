import { executeQuery, executeQueryOne, executeWrite } from '../../../src/db';
import { MigrationError, NO_TRANSACTION_MARKER, migrate, migrationStatus, readMigrations, toMigration, type Migration } from '../../../src/db/migrate';
import { getLogger } from '../../../src/logging/logger';
import { withAdminClient } from '../../helpers/admin-db';
import { usePoolConfig } from '../../helpers/pool';

describe('migrate', () => {
  test('records every migration with its checksum, and a second run applies nothing', async () => {
    const files = readMigrations();
    const rows = await executeQuery<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations ORDER BY name');
    expect(rows).toEqual(files.map((m) => ({ name: m.name, checksum: m.checksum })));
    await expect(migrate()).resolves.toEqual([]);
  });

  test('concurrent runs wait for each other on the advisory lock and apply a new migration once', async () => {
    const extra = toMigration('999-test-extra.sql', 'CREATE TABLE migrate_probe (id int);');
    const all = [...readMigrations(), extra];
    const results = await Promise.all([migrate(all), migrate(all), migrate(all)]);
    expect(results.flat()).toEqual(['999-test-extra.sql']);
    await executeWrite("DELETE FROM schema_migrations WHERE name = '999-test-extra.sql'");
    await executeWrite('DROP TABLE migrate_probe');
  });

  test('an applied migration whose file changed is an error, and nothing is applied', async () => {
    const changed = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'changed' } : m));
    await expect(migrate(changed)).rejects.toBeInstanceOf(MigrationError);
    await expect(migrate(changed)).rejects.toThrow(/checksum/);
  });

  test('a migration may run past both statement timeouts (an index over a big table), and so may a start waiting for it', async () => {
    // Server: 300 ms; client: 300 ms + 2 s. The migration takes 2.6 s; the second run waits that long on the lock.
    await usePoolConfig({ DB_STATEMENT_TIMEOUT_MS: '300' });
    try {
      const slow = toMigration('999-test-slow.sql', 'SELECT pg_sleep(2.6); CREATE TABLE migrate_slow_probe (id int);');
      const all = [...readMigrations(), slow];
      const results = await Promise.all([migrate(all), migrate(all)]);
      expect(results.flat()).toEqual(['999-test-slow.sql']);
      // The lifted timeout was the migration's own (SET LOCAL): other statements still have theirs.
      expect(await executeQuery('SHOW statement_timeout')).toEqual([{ statement_timeout: '300ms' }]);
      await expect(executeQuery('SELECT pg_sleep(1)')).rejects.toThrow(/statement timeout/);
    } finally {
      await executeWrite("DELETE FROM schema_migrations WHERE name = '999-test-slow.sql'");
      await executeWrite('DROP TABLE IF EXISTS migrate_slow_probe');
      await usePoolConfig({});
    }
  });
});

describe('migrations that do not stop the service', () => {
  const tracked: string[] = [];
  const run = (...extra: Migration[]) => {
    tracked.push(...extra.map((m) => m.name));
    return migrate([...readMigrations(), ...extra]);
  };
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(getLogger(), 'warn');
  });
  afterEach(async () => {
    warn.mockRestore();
    await usePoolConfig({});
    if (tracked.length > 0) await executeWrite('DELETE FROM schema_migrations WHERE name = ANY($1)', [tracked.splice(0)]);
  });
  const indexValid = async (name: string) =>
    (await executeQueryOne<{ valid: boolean }>('SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass($1)', [name]))?.valid ?? null;

  test('a migration marked no-transaction builds an index concurrently, statement by statement, and is recorded once it completed', async () => {
    await executeWrite('CREATE TABLE mig_cic (id int, v text)');
    await executeWrite("INSERT INTO mig_cic SELECT g, 'v' || g FROM generate_series(1, 1000) g");
    const m = toMigration(
      '990-test-cic.sql',
      `${NO_TRANSACTION_MARKER}\n-- two statements; a semicolon in a string: ';'\nCREATE INDEX CONCURRENTLY IF NOT EXISTS mig_cic_v_idx ON mig_cic (v);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS mig_cic_id_idx ON mig_cic (id) WHERE v <> ';';\n`,
    );
    expect(m.transaction).toBe(false);
    // Two instances at once: the advisory lock lets one apply it.
    const results = await Promise.all([run(m), run(m)]);
    expect(results.flat()).toEqual(['990-test-cic.sql']);
    expect(await indexValid('mig_cic_v_idx')).toBe(true);
    expect(await indexValid('mig_cic_id_idx')).toBe(true);
    expect(await executeQuery('SELECT name FROM schema_migrations WHERE name = $1', ['990-test-cic.sql'])).toHaveLength(1);
    await executeWrite('DROP TABLE mig_cic');
  });

  test('a concurrent build that fails leaves no invalid index and no record; one left by an earlier crash is dropped and rebuilt on the next run', async () => {
    await executeWrite('CREATE TABLE mig_uniq (id int)');
    await executeWrite('INSERT INTO mig_uniq VALUES (1), (1), (2)');
    const m = toMigration('991-test-unique.sql', `${NO_TRANSACTION_MARKER}\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS mig_uniq_idx ON mig_uniq (id);\n`);
    await expect(run(m)).rejects.toThrow(/991-test-unique.sql failed: could not create unique index/);
    expect(await indexValid('mig_uniq_idx')).toBeNull();
    expect(await executeQuery('SELECT name FROM schema_migrations WHERE name = $1', [m.name])).toEqual([]);

    // As a process killed mid-build leaves it: an INVALID index of that name (IF NOT EXISTS would skip it).
    await withAdminClient(process.env.DATABASE_URL!, (c) => c.query('CREATE UNIQUE INDEX CONCURRENTLY mig_uniq_idx ON mig_uniq (id)').catch(() => undefined));
    expect(await indexValid('mig_uniq_idx')).toBe(false);
    await executeWrite('DELETE FROM mig_uniq WHERE id = 1');
    expect(await run(m)).toEqual([m.name]);
    expect(await indexValid('mig_uniq_idx')).toBe(true);
    expect(warn.mock.calls.some((c) => /left invalid by a concurrent build/.test(String(c[1])))).toBe(true);
    await executeWrite('DROP TABLE mig_uniq');
  });

  test('behind a long transaction, a migration gives up within its lock_timeout, tries again, and completes once it ends; no query on the table waits longer', async () => {
    await usePoolConfig({ DB_MIGRATION_LOCK_TIMEOUT_MS: '300' });
    await executeWrite('CREATE TABLE mig_busy (id int)');
    await executeWrite('INSERT INTO mig_busy VALUES (1)');
    const m = toMigration('992-test-alter.sql', 'ALTER TABLE mig_busy ADD COLUMN note text;');
    // A 3 s transaction that has read the table (ACCESS SHARE, which ALTER TABLE's ACCESS EXCLUSIVE waits for).
    const longTx = withAdminClient(process.env.DATABASE_URL!, async (c) => {
      await c.query('BEGIN');
      await c.query('SELECT id FROM mig_busy');
      await new Promise((r) => setTimeout(r, 3000));
      await c.query('COMMIT');
      return Date.now();
    });
    await new Promise((r) => setTimeout(r, 100));
    const migrated = run(m).then((names) => ({ names, at: Date.now() }));
    // Reads of the table all along: each waits at most the lock timeout behind the migration's lock request.
    const latencies: number[] = [];
    let done = false;
    void migrated.finally(() => (done = true));
    while (!done) {
      const started = Date.now();
      await executeQuery('SELECT id FROM mig_busy');
      latencies.push(Date.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
    const [{ names, at }, endedAt] = await Promise.all([migrated, longTx]);
    expect(names).toEqual([m.name]);
    expect(at).toBeGreaterThanOrEqual(endedAt);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    expect(warn.mock.calls.filter((c) => /gave up waiting for a lock after 300 ms/.test(String(c[1]))).length).toBeGreaterThanOrEqual(1);
    expect(await executeQuery("SELECT column_name FROM information_schema.columns WHERE table_name = 'mig_busy' AND column_name = 'note'")).toHaveLength(1);
    await executeWrite('DROP TABLE mig_busy');
  }, 60_000);

  test('a no-transaction migration can backfill in batches, each committed on its own (the expand/contract example in docs/operations.md)', async () => {
    await executeWrite('CREATE TABLE mig_backfill (id int PRIMARY KEY, company text)');
    await executeWrite("INSERT INTO mig_backfill SELECT g, 'Company ' || g FROM generate_series(1, 2500) g");
    const expand = toMigration('995-test-expand.sql', 'ALTER TABLE mig_backfill ADD COLUMN IF NOT EXISTS organisation text;');
    const backfill = toMigration(
      '996-test-backfill.sql',
      `${NO_TRANSACTION_MARKER}
-- squawk-disable-assume-in-transaction
DO $$
DECLARE
  n int;
BEGIN
  LOOP
    UPDATE mig_backfill SET organisation = company
     WHERE id IN (SELECT id FROM mig_backfill WHERE organisation IS NULL AND company IS NOT NULL LIMIT 1000);
    GET DIAGNOSTICS n = ROW_COUNT;
    EXIT WHEN n = 0;
    COMMIT;
  END LOOP;
END $$;
ALTER TABLE mig_backfill ADD CONSTRAINT mig_backfill_organisation_not_null CHECK (organisation IS NOT NULL) NOT VALID;
ALTER TABLE mig_backfill VALIDATE CONSTRAINT mig_backfill_organisation_not_null;
`,
    );
    expect(await run(expand, backfill)).toEqual([expand.name, backfill.name]);
    expect(await executeQuery('SELECT count(*)::int AS n FROM mig_backfill WHERE organisation IS DISTINCT FROM company')).toEqual([{ n: 0 }]);
    // Three batches of 1,000 or fewer, each its own transaction: three transaction ids among the rows.
    expect(await executeQuery('SELECT count(DISTINCT xmin::text)::int AS n FROM mig_backfill')).toEqual([{ n: 3 }]);
    expect(await executeQuery("SELECT convalidated FROM pg_constraint WHERE conname = 'mig_backfill_organisation_not_null'")).toEqual([{ convalidated: true }]);
    await executeWrite('DROP TABLE mig_backfill');
  });

  test('a migration that fails for another reason is not tried again, not recorded, and the ones after it do not run', async () => {
    const bad = toMigration('993-test-bad.sql', 'CREATE TABLE mig_bad_probe (id int); SELECT no_such_column FROM mig_bad_probe;');
    const after = toMigration('994-test-after.sql', 'CREATE TABLE mig_after_probe (id int);');
    await expect(run(bad, after)).rejects.toThrow(/993-test-bad.sql failed: column "no_such_column" does not exist/);
    expect(warn.mock.calls.filter((c) => /trying again/.test(String(c[1])))).toEqual([]);
    expect(await executeQuery("SELECT to_regclass('mig_bad_probe') AS t, to_regclass('mig_after_probe') AS u")).toEqual([{ t: null, u: null }]);
    expect(await migrationStatus([...readMigrations(), bad, after])).toMatchObject({ pending: [bad.name, after.name], problems: [] });
  });
});
