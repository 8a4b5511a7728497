import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..', '..');
const run = promisify(execFile);

const SCRIPT = `
const db = require('customer-api');
(async () => {
  const rows = await db.executeQuery('SELECT $1::int + 1 AS n', [41]);
  const one = await db.executeQueryOne('SELECT 1 AS one WHERE false');
  const write = await db.withTransaction((tx) => db.executeWrite('SELECT 1 AS x', [], tx));
  const stats = db.poolStats();
  await db.closePool();
  console.log(JSON.stringify({ exports: Object.keys(db).sort(), rows, one, write, inUse: stats.in_use }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

describe("the library entry: require('customer-api')", () => {
  test('exposes the query helpers from the built package, and they work', async () => {
    const { stdout } = await run(process.execPath, ['-e', SCRIPT], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: process.env.DATABASE_URL ?? '', LOG_LEVEL: 'silent', DB_POOL_MIN_CONNECTIONS: '0' },
    });
    const result = JSON.parse(stdout) as { exports: string[] };
    expect(result).toEqual({
      exports: expect.arrayContaining(['closePool', 'executeQuery', 'executeQueryOne', 'executeWrite', 'getPool', 'poolStats', 'withTransaction']),
      rows: [{ n: 42 }],
      one: null,
      write: { rowCount: 1, rows: [{ x: 1 }] },
      inUse: 0,
    });
  });

  test('ships type declarations for every helper', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { types: string; exports: { '.': { types: string } } };
    const types = join(ROOT, pkg.exports['.'].types);
    expect(existsSync(types)).toBe(true);
    const text = readFileSync(types, 'utf8');
    for (const name of ['executeQuery', 'executeQueryOne', 'executeWrite', 'withTransaction', 'getPool', 'closePool', 'poolStats']) {
      expect(text).toContain(name);
    }
  });
});
