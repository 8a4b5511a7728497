import pg from 'pg';
import { executeQuery } from '../../../src/db';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { describeIf } from '../../helpers/needs';
import { PGBOUNCER, startServerBehindPgBouncer, type Bouncer } from '../../helpers/pgbouncer';
import type { ServerProcess } from '../../helpers/server-process';

// The actor and request id are transaction-local settings: behind PgBouncer in transaction mode, where
// every transaction may get another server connection (here: two, shared by all), each change is
// recorded with the user and request that made it, and nothing leaks to the next transaction.
describeIf(PGBOUNCER !== undefined, 'pgbouncer tests', 'no pgbouncer binary here (apt-get install pgbouncer; .ci/run installs it)')('history behind PgBouncer in transaction mode', () => {
  let bouncer: Bouncer;
  let stop: () => Promise<void>;
  let server: ServerProcess;
  let writers: TestUser[];

  beforeAll(async () => {
    writers = await Promise.all([createUser(), createUser(), createUser(), createUser()]);
    ({ bouncer, server, stop } = await startServerBehindPgBouncer());
  }, 60_000);

  afterAll(() => stop());

  test('60 concurrent writes by four users: each recorded once, with its own actor and request id; a later change outside the API has none', async () => {
    const customers = await Promise.all(Array.from({ length: 6 }, (_, i) => createCustomer({ name: `Pooled history ${i}` })));
    const requests = Array.from({ length: 60 }, (_, i) => ({ i, writer: writers[i % writers.length]!, customer: customers[i % customers.length]!, requestId: `bouncer-${i}-${Date.now()}` }));
    const statuses = await Promise.all(
      requests.map(async ({ i, writer, customer, requestId }) => {
        const res = await fetch(`${server.base}/api/customers/${customer.id}`, {
          method: 'PATCH',
          headers: { authorization: writer.auth, 'content-type': 'application/json', 'x-request-id': requestId },
          body: JSON.stringify({ notes: `note ${i}` }),
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    const entries = await executeQuery<{ request_id: string; actor_id: string | null; n: number }>(
      'SELECT request_id, actor_id, count(*)::int AS n FROM history WHERE request_id = ANY($1) GROUP BY request_id, actor_id',
      [requests.map((r) => r.requestId)],
    );
    expect(entries).toHaveLength(60);
    const byRequest = new Map(entries.map((e) => [e.request_id, e]));
    for (const { writer, requestId } of requests) expect(byRequest.get(requestId)).toEqual({ request_id: requestId, actor_id: String(writer.user.id), n: 1 });

    // Through the same two server connections, a plain client's write carries no actor from before.
    const client = new pg.Client({ connectionString: bouncer.url });
    await client.connect();
    try {
      for (const customer of customers) await client.query("UPDATE customers SET notes = 'by hand' WHERE id = $1", [customer.id]);
    } finally {
      await client.end();
    }
    const byHand = await executeQuery<{ actor_id: string | null; request_id: string | null }>(
      "SELECT actor_id, request_id FROM history WHERE entity = 'customer' AND entity_id = ANY($1) AND changes -> 'notes' ->> 'new' = 'by hand'",
      [customers.map((c) => c.id)],
    );
    expect(byHand).toEqual(customers.map(() => ({ actor_id: null, request_id: null })));
  }, 60_000);
});
