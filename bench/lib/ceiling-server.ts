// The ceilings: the API's own SQL, served without the API. Started by the benchmark as its own process:
//   node -r ts-node/register/transpile-only bench/lib/ceiling-server.ts <port> <databaseUrl> <bare|express> [prepared]
// `bare`: node:http with a hand-written router; `express`: a minimal Express 5 app (express.json() and
// the routes: no auth, validation, logging, metrics or security headers). Both use pg.Pool(max 10) and
// send the SQL unnamed, or the by-id SQL as a named prepared statement with `prepared`.
// `simple`: the app a user would write to compare with — the same minimal Express 5 + pg.Pool, but its
// own plain SQL, unnamed: `SELECT * FROM customers WHERE id = $1`, and a list page `… ORDER BY id LIMIT
// $1 OFFSET $2` with no total (whatever the query string asks). Its `*` is the customer's own columns
// (CUSTOMER_COLUMNS): the table's search text (migration 009) is the API's, and the simple app must not
// pay for carrying it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import express from 'express';
import pg from 'pg';
import { buildPageQuery } from '../../src/db/page-query';
import { FIND_CUSTOMER_BY_ID, INSERT_CUSTOMER, customersPageQuery } from '../../src/modules/customers/customers-repository';
import { DASHBOARD } from '../../src/modules/dashboard/dashboard-repository';
import { CUSTOMER_COLUMNS, type ListCustomersQuery } from '../../src/modules/customers/customers-schemas';

const [port, databaseUrl, mode, prepared] = process.argv.slice(2);
// sslmode=require (bench --tls): encrypted without verifying, as libpq's require and the API's.
const target = new URL(databaseUrl!);
const tls = target.searchParams.get('sslmode') === 'require';
target.searchParams.delete('sslmode');
const pool = new pg.Pool({ connectionString: target.toString(), max: 10, ssl: tls ? { rejectUnauthorized: false } : false });
pool.on('error', () => undefined);

interface Answer {
  status: number;
  body: unknown;
}

async function byId(id: number): Promise<Answer> {
  const { rows } = prepared === 'prepared' ? await pool.query({ ...FIND_CUSTOMER_BY_ID, values: [id] }) : await pool.query(FIND_CUSTOMER_BY_ID.text, [id]);
  return rows[0] ? { status: 200, body: rows[0] } : { status: 404, body: null };
}

async function list(search: URLSearchParams): Promise<Answer> {
  const query: ListCustomersQuery = {
    limit: Number(search.get('limit') ?? 20),
    count: 'estimated',
    sort: 'created_at',
    order: 'desc',
    q: search.get('q') ?? undefined,
    status: (search.get('status') as ListCustomersQuery['status']) ?? undefined,
    city: search.get('city') ?? undefined,
  };
  const { text, params } = buildPageQuery(customersPageQuery(query, { offset: 0 }));
  const { rows } = await pool.query<{ id: string | null; page_total: string }>(text, params);
  return { status: 200, body: { data: rows.filter((r) => r.id !== null), total: Number(rows[0]?.page_total ?? 0) } };
}

async function dashboard(): Promise<Answer> {
  return { status: 200, body: (await pool.query(DASHBOARD.text)).rows[0] };
}

async function insert(body: { name: string; city?: string; status?: string }): Promise<Answer> {
  const { rows } = await pool.query(INSERT_CUSTOMER.text, [body.name, null, null, null, body.city ?? null, body.status ?? 'lead', null, null]);
  return { status: 201, body: rows[0] };
}

const failed = (): Answer => ({ status: 503, body: null });

function bareServer() {
  const send = (res: ServerResponse, a: Answer) => {
    const text = JSON.stringify(a.body);
    res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const readJson = (req: IncomingMessage) =>
    new Promise<{ name: string }>((resolve, reject) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => resolve(JSON.parse(raw) as { name: string }));
      req.on('error', reject);
    });
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let answer: Promise<Answer>;
    if (url.pathname === '/static') answer = Promise.resolve({ status: 200, body: {} });
    else if (req.method === 'POST' && url.pathname === '/api/customers') answer = readJson(req).then(insert);
    else if (url.pathname === '/api/customers') answer = list(url.searchParams);
    else if (url.pathname === '/api/dashboard') answer = dashboard();
    else if (url.pathname.startsWith('/api/customers/')) answer = byId(Number(url.pathname.slice('/api/customers/'.length)));
    else answer = Promise.resolve({ status: 404, body: null });
    answer.then((a) => send(res, a), () => send(res, failed()));
  });
}

/** An Express handler that answers what `work` gives, or 503 when the database failed. */
const route = (work: (req: express.Request) => Promise<Answer>): express.RequestHandler => (req, res) => {
  work(req).then(
    (a) => res.status(a.status).json(a.body),
    () => res.status(503).json(null),
  );
};

function expressServer() {
  const app = express();
  app.use(express.json());
  app.get('/static', (_req, res) => res.json({}));
  app.get('/api/customers/:id', route((req) => byId(Number(req.params.id))));
  app.get('/api/customers', route((req) => list(new URL(req.url, 'http://x').searchParams)));
  app.get('/api/dashboard', route(() => dashboard()));
  app.post('/api/customers', route((req) => insert(req.body as { name: string })));
  return createServer(app);
}

const STAR = CUSTOMER_COLUMNS.join(', ');

function simpleServer() {
  const app = express();
  app.use(express.json());
  app.get(
    '/api/customers/:id',
    route(async (req) => {
      const { rows } = await pool.query(`SELECT ${STAR} FROM customers WHERE id = $1`, [Number(req.params.id)]);
      return rows[0] ? { status: 200, body: rows[0] } : { status: 404, body: null };
    }),
  );
  app.get(
    '/api/customers',
    route(async (req) => ({ status: 200, body: { data: (await pool.query(`SELECT ${STAR} FROM customers ORDER BY id LIMIT $1 OFFSET $2`, [Number(req.query.limit ?? 20), 0])).rows } })),
  );
  return createServer(app);
}

const server = mode === 'express' ? expressServer() : mode === 'simple' ? simpleServer() : bareServer();
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
