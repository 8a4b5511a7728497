import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_TRANSACTION_MARKER, concurrentIndexOf, readMigrations, splitStatements, toMigration } from '../../../src/db/migration-files';

const ROOT = join(__dirname, '..', '..', '..');

describe('migration files', () => {
  test('a first-line marker makes a migration run without a transaction; anywhere else it does not', () => {
    expect(toMigration('a.sql', `${NO_TRANSACTION_MARKER}\nCREATE INDEX CONCURRENTLY i ON t (c);`).transaction).toBe(false);
    expect(toMigration('b.sql', `SELECT 1;\n${NO_TRANSACTION_MARKER}\n`).transaction).toBe(true);
    expect(toMigration('c.sql', 'ALTER TABLE t ADD COLUMN c text;').transaction).toBe(true);
    expect(readMigrations().filter((m) => !m.transaction).map((m) => m.name)).toEqual(['009-search-text.sql', '010-search-walk-index.sql']);
  });

  test('statements split at semicolons outside strings, quoted names, dollar quotes and comments', () => {
    const sql = [
      '-- a comment; with a semicolon',
      "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_idx ON t (c) WHERE c <> ';';",
      '/* block; comment */',
      'CREATE INDEX CONCURRENTLY "odd;name" ON t (d);',
      "DO $body$ BEGIN PERFORM 1; PERFORM 'it''s; fine'; END $body$;",
      "SELECT 'a''b;c', $$x;y$$",
      '-- trailing comment only',
    ].join('\n');
    expect(splitStatements(sql)).toEqual([
      "-- a comment; with a semicolon\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a_idx ON t (c) WHERE c <> ';'",
      '/* block; comment */\nCREATE INDEX CONCURRENTLY "odd;name" ON t (d)',
      "DO $body$ BEGIN PERFORM 1; PERFORM 'it''s; fine'; END $body$",
      // The last statement needs no semicolon; a comment after it goes with it.
      "SELECT 'a''b;c', $$x;y$$\n-- trailing comment only",
    ]);
    expect(splitStatements('  ;; -- nothing\n')).toEqual([]);
  });

  test.each([
    ['CREATE INDEX CONCURRENTLY IF NOT EXISTS a_idx ON t (c)', 'a_idx'],
    ['create unique index concurrently b_idx on t (c)', 'b_idx'],
    ['-- why\nCREATE INDEX CONCURRENTLY public.c_idx ON t (c)', 'public.c_idx'],
    ['CREATE INDEX CONCURRENTLY "Odd Name" ON t (c)', '"Odd Name"'],
    ['CREATE INDEX d_idx ON t (c)', undefined],
    ['DROP INDEX CONCURRENTLY IF EXISTS e_idx', undefined],
  ])('the index built concurrently by %s: %s', (statement, index) => {
    expect(concurrentIndexOf(statement)).toBe(index);
  });
});

describe('squawk over the migrations (.squawk.toml)', () => {
  const squawk = join(ROOT, 'node_modules', '.bin', 'squawk');
  const lint = (files: string[]) => spawnSync(squawk, files, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'customer-api-squawk-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, sql: string) => {
    const path = join(dir, name);
    writeFileSync(path, sql);
    return path;
  };

  test('the shipped migrations (the frozen ones excluded) and the upgrade benchmark\'s pass', () => {
    const bench = readdirSync(join(ROOT, 'bench', 'upgrade', 'migrations')).map((f) => join('bench', 'upgrade', 'migrations', f));
    const result = lint([join('src', 'db', 'migrations', '*.sql'), ...bench]);
    expect(result.stdout + result.stderr).toMatch(/Found 0 issues/);
    expect(result.status).toBe(0);
  });

  test.each([
    ['an index built in a transaction (blocks writes)', 'CREATE INDEX t_c_idx ON customers (city);', 'require-concurrent-index-creation'],
    ['a plain DROP INDEX', 'DROP INDEX IF EXISTS t_c_idx;', 'require-concurrent-index-deletion'],
    ['a constraint validated under an exclusive lock', 'ALTER TABLE customers ADD CONSTRAINT c_phone CHECK (phone IS NOT NULL);', 'constraint-missing-not-valid'],
    ['a no-transaction migration that cannot be run again', `${NO_TRANSACTION_MARKER}\n-- squawk-disable-assume-in-transaction\nCREATE INDEX CONCURRENTLY t_d_idx ON customers (city);`, 'prefer-robust-stmts'],
  ])('a new migration with %s fails', (_case, sql, rule) => {
    const result = lint([file(`${rule}.sql`, sql)]);
    expect(result.stdout + result.stderr).toContain(rule);
    expect(result.status).toBe(1);
  });
});
