import { request as httpRequest } from 'node:http';
import { describeIf } from '../../helpers/needs';
import { PG_BIN_MISSING, createPgCluster, findPgBin, type PgCluster, type PgNode } from '../../helpers/pg-cluster';
import { startServerAsAdmin, stopServer, type ServerProcess } from '../../helpers/server-process';

// A real restart of PostgreSQL (pg_ctl stop -m fast, then start) while an import streams in: the
// import answers 503, nothing of it is written, and the next import goes through on fresh connections.
const bin = findPgBin();
let cluster: PgCluster;
let node: PgNode;
let server: ServerProcess;
let auth: string;
const ADMIN = { email: 'restart-admin@example.com', password: 'restart-admin-pw' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeIf(bin !== undefined, 'restart tests', PG_BIN_MISSING)('an import while PostgreSQL restarts', () => {
  beforeAll(async () => {
    cluster = await createPgCluster(bin!);
    node = await cluster.initPrimary('solo');
    await cluster.sql(node, 'CREATE DATABASE app');
    const started = await startServerAsAdmin({ DATABASE_URL: `postgres://postgres@127.0.0.1:${node.port}/app`, LOG_LEVEL: 'warn' }, ADMIN);
    server = started.server;
    auth = `Bearer ${started.token}`;
  }, 120_000);

  afterAll(async () => {
    if (server) await stopServer(server);
    await cluster?.destroy();
  }, 60_000);

  const countIn = async (city: string) => {
    const res = await fetch(`${server.base}/api/customers?city=${encodeURIComponent(city)}&count=exact&limit=1`, { headers: { authorization: auth } });
    return ((await res.json()) as { pagination: { total: number } }).pagination.total;
  };

  test('503, nothing half-written; the next import goes through', async () => {
    const city = 'Restarted Mid-Import';
    let answered = false;
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${server.base}/api/customers/import`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-ndjson' } }, (res) => {
        answered = true;
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString())).on('end', () => resolve({ status: res.statusCode!, body }));
      });
      // A closed socket after the answer is expected (the server does not read the rest).
      req.on('error', (err) => (answered ? undefined : reject(err)));
      req.write(`${Array.from({ length: 2000 }, (_, i) => JSON.stringify({ name: `Before ${i}`, city })).join('\n')}\n`);
      void (async () => {
        for (let i = 0; i < 100; i += 1) {
          if ((await cluster.sql(node, "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY customers_import%'")).length > 0) break;
          await sleep(30);
        }
        cluster.stop(node, 'fast');
        cluster.start(node);
        req.end(`${JSON.stringify({ name: 'After the restart', city })}\n`);
      })().catch(reject);
    });
    const res = await answer;
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'DATABASE_UNAVAILABLE' } });

    // The pool reconnects by itself: the next import is whole, and the first left nothing.
    let next = { status: 0, body: {} as unknown };
    for (let i = 0; i < 50 && next.status !== 200; i += 1) {
      const r = await fetch(`${server.base}/api/customers/import`, { method: 'POST', headers: { authorization: auth, 'content-type': 'text/csv' }, body: `name,city\nAfter,${city}\n` });
      next = { status: r.status, body: await r.json() };
      if (next.status !== 200) await sleep(100);
    }
    expect(next).toEqual({ status: 200, body: { inserted: 1, rejected: 0, errors: [] } });
    expect(await countIn(city)).toBe(1);
  }, 60_000);
});
