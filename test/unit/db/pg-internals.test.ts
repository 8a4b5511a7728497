import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { CLIENT_FIELDS, CONNECTION_FIELDS, PG_ERROR_TEXTS, POOL_FIELDS, QUERY_METHODS, READ_TIMEOUT_SOURCE, WIRE_METHODS } from '../../../src/db/pg-internals';

// Every node-postgres internal the data layer relies on (src/db/pg-internals.ts), checked against the
// installed pg: an upgrade that renames or removes one fails here, by name.
const ROOT = join(__dirname, '..', '..', '..');

describe('the node-postgres internals the data layer relies on are where it expects them', () => {
  test.each(CLIENT_FIELDS)('pg.Client has %s', (field) => {
    expect(Object.keys(new pg.Client())).toContain(field);
  });

  test.each(CONNECTION_FIELDS)("a client's Connection has %s", (field) => {
    const connection = (new pg.Client({ keepAlive: true }) as unknown as { connection: object }).connection;
    expect(Object.keys(connection)).toContain(field);
  });

  test.each(POOL_FIELDS)('pg.Pool has %s', async (field) => {
    const pool = new pg.Pool();
    expect(field in pool).toBe(true);
    await pool.end();
  });

  test('pg.Pool.ending turns true with end()', async () => {
    const pool = new pg.Pool();
    expect((pool as unknown as { ending: boolean }).ending).toBe(false);
    await pool.end();
    expect((pool as unknown as { ending: boolean }).ending).toBe(true);
  });

  test.each(QUERY_METHODS)('pg.Query.prototype.%s is a method', (method) => {
    expect(typeof (pg.Query.prototype as unknown as Record<string, unknown>)[method]).toBe('function');
  });

  test.each(WIRE_METHODS)('pg.Connection.prototype.%s is a method', (method) => {
    expect(typeof (pg.Connection.prototype as unknown as Record<string, unknown>)[method]).toBe('function');
  });

  test.each(Object.entries(PG_ERROR_TEXTS))('the code-less error "%s" is still written by its source', (_name, { text, source }) => {
    expect(readFileSync(join(ROOT, 'node_modules', source), 'utf8')).toContain(text);
  });

  test.each(READ_TIMEOUT_SOURCE.texts)("client.query() still reads a submitted object's read timeout and clears it through its callback (%s)", (text) => {
    expect(readFileSync(join(ROOT, 'node_modules', READ_TIMEOUT_SOURCE.file), 'utf8')).toContain(text);
  });
});
