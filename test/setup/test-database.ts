import { randomBytes } from 'node:crypto';
import { closePool, poolStats } from '../../src/db';
import { takeViolations } from '../helpers/contract';
import { adminUrl, urlForDatabase, withAdminClient, templateDatabase } from '../helpers/admin-db';

// Each test file gets its own database, copied from the migrated template, so tests that count
// rows see only their own; it is dropped when the file ends.
const database = `customer_api_t_${randomBytes(5).toString('hex')}`;
process.env.DATABASE_URL = urlForDatabase(adminUrl(), database);
process.env.DB_APPLICATION_NAME = database;
process.env.DB_MIGRATE_ON_START = 'false';

beforeAll(async () => {
  await withAdminClient(adminUrl(), async (client) => {
    // CREATE DATABASE … TEMPLATE fails while another session is copying the same template.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await client.query(`CREATE DATABASE ${database} TEMPLATE ${templateDatabase()}`);
        return;
      } catch (err) {
        if (attempt >= 20 || !String((err as Error).message).includes('being accessed by other users')) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
});

// Every client checked out during a test has been given back by its end, and every answer the
// test received fits the OpenAPI document (test/helpers/contract.ts).
afterEach(() => {
  expect(poolStats().in_use).toBe(0);
  expect(takeViolations()).toEqual([]);
});

afterAll(async () => {
  await closePool();
  await withAdminClient(adminUrl(), (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
});
