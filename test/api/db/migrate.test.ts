import { executeQuery, executeWrite } from '../../../src/db';
import { MigrationError, migrate, readMigrations } from '../../../src/db/migrate';
import { usePoolConfig } from '../../helpers/pool';

describe('migrate', () => {
  test('records every migration with its checksum, and a second run applies nothing', async () => {
    const files = readMigrations();
    const rows = await executeQuery<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations ORDER BY name');
    expect(rows).toEqual(files.map((m) => ({ name: m.name, checksum: m.checksum })));
    await expect(migrate()).resolves.toEqual([]);
  });

  test('concurrent runs wait for each other on the advisory lock and apply a new migration once', async () => {
    const extra = { name: '999-test-extra.sql', sql: 'CREATE TABLE migrate_probe (id int);', checksum: 'x'.repeat(64) };
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
      const slow = { name: '999-test-slow.sql', sql: 'SELECT pg_sleep(2.6); CREATE TABLE migrate_slow_probe (id int);', checksum: 'y'.repeat(64) };
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
