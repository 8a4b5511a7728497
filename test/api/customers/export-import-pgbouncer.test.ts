import pg from 'pg';
import { executeQuery } from '../../../src/db';
import { createAdmin, unique, type TestUser } from '../../helpers/factories';
import { describeIf } from '../../helpers/needs';
import { PGBOUNCER, startServerBehindPgBouncer, type Bouncer } from '../../helpers/pgbouncer';
import type { ServerProcess } from '../../helpers/server-process';

// Behind PgBouncer in transaction mode (two server connections shared by all), with the default
// configuration: an import (COPY into a staging table that lives for its transaction) and exports
// (COPY … TO STDOUT in their own transactions) work, side by side with ordinary requests, and the
// statement-timeout exemption (SET LOCAL) does not leak to the next transaction.
describeIf(PGBOUNCER !== undefined, 'pgbouncer tests', 'no pgbouncer binary here (apt-get install pgbouncer; .ci/run installs it)')('export and import behind PgBouncer in transaction mode', () => {
  let bouncer: Bouncer;
  let stop: () => Promise<void>;
  let server: ServerProcess;
  let admin: TestUser;

  beforeAll(async () => {
    admin = await createAdmin();
    ({ bouncer, server, stop } = await startServerBehindPgBouncer());
  }, 60_000);

  afterAll(() => stop());

  test('an import, then two exports and reads at once: every row there, each export whole, the settings back to their defaults', async () => {
    const city = `Bounced ${unique()}`;
    const csv = `name,city,status\n${Array.from({ length: 2000 }, (_, i) => `Bounced ${i},${city},${i % 2 ? 'active' : 'lead'}`).join('\n')}\n`;
    const imported = await fetch(`${server.base}/api/customers/import`, { method: 'POST', headers: { authorization: admin.auth, 'content-type': 'text/csv' }, body: csv });
    expect(imported.status).toBe(200);
    expect(await imported.json()).toEqual({ inserted: 2000, rejected: 0, errors: [] });

    const exportOf = async (format: string) => {
      const res = await fetch(`${server.base}/api/customers/export?city=${encodeURIComponent(city)}&format=${format}`, { headers: { authorization: admin.auth } });
      expect(res.status).toBe(200);
      return (await res.text()).trim().split(/\r?\n/).length;
    };
    const reads = Array.from({ length: 10 }, async () => (await fetch(`${server.base}/api/customers?city=${encodeURIComponent(city)}&limit=5`, { headers: { authorization: admin.auth } })).status);
    const [csvLines, ndjsonLines, ...statuses] = await Promise.all([exportOf('csv'), exportOf('ndjson'), ...reads]);
    expect([csvLines, ndjsonLines]).toEqual([2001, 2000]);
    expect(statuses).toEqual(Array.from({ length: 10 }, () => 200));
    // The export's own limits (10 min) were transaction-local: the shared server connections do not keep them.
    const shown: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const client = new pg.Client({ connectionString: bouncer.url });
      await client.connect();
      try {
        shown.push(((await client.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout));
      } finally {
        await client.end();
      }
    }
    expect(shown.filter((v) => v === '10min')).toEqual([]);
    const rows = await executeQuery<{ n: number }>('SELECT count(*)::int AS n FROM customers WHERE city = $1', [city]);
    expect(rows[0]!.n).toBe(2000);
  });
});
