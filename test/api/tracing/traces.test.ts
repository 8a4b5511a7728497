import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { RequestHandler } from 'express';
import request from 'supertest';
import { ProxyTracer, ProxyTracerProvider, trace } from '@opentelemetry/api';
import { createApp } from '../../../src/app';
import type { TracingConfig } from '../../../src/config/config';
import { closePool, executeQuery, poolStats } from '../../../src/db';
import { flushTracing, startTracing, stopTracing } from '../../../src/tracing/tracing';
import { withContractCheck } from '../../helpers/contract';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';
import { OtlpReceiver, type ReceivedSpan } from '../../helpers/otlp-receiver';
import { describeIf } from '../../helpers/needs';
import { PGBOUNCER, startPgBouncer, type Bouncer } from '../../helpers/pgbouncer';
import { usePoolConfig } from '../../helpers/pool';
import { freePort, startServer, stopServer, waitForHealth, type ServerProcess } from '../../helpers/server-process';

const withPgBouncer = () => describeIf(PGBOUNCER !== undefined, 'pgbouncer tests', 'no pgbouncer binary here (apt-get install pgbouncer; .ci/run installs it)');

// Tracing on, in-process, exporting to an OTLP receiver in this process (docs/operations.md: Tracing).

const receiver = new OtlpReceiver();
let caller: TestUser;
let customerId: number;

const SERVER = 2;
const CLIENT = 3;

async function traceWith(config: Partial<TracingConfig> = {}): Promise<void> {
  await stopTracing();
  startTracing({ url: `${receiver.url}/v1/traces`, protocol: 'http/protobuf', serviceName: 'customer-api-test', sampler: 'parentbased_always_on', samplerRatio: 1, ...config });
  receiver.clear();
}

/** A fresh app (it takes the tracer when it is built), with the contract check; `middleware` as createApp takes it. */
const tracedApi = (middleware: RequestHandler[] = []) => request(withContractCheck(createApp({ middleware })));

/** The spans of one trace, once its server span has arrived (and everything sent before it). */
async function traceOf(traceId: string): Promise<ReceivedSpan[]> {
  await flushTracing();
  await receiver.waitFor((spans) => spans.some((s) => s.traceId === traceId && s.kind === SERVER));
  return receiver.spans.filter((s) => s.traceId === traceId);
}

const traceIdOf = (res: request.Response): string => {
  const header = String(res.headers.traceparent);
  expect(header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  return header.split('-')[1]!;
};

beforeAll(async () => {
  await receiver.start();
  caller = await createUser();
  customerId = (await createCustomer({ name: 'Traced Customer', city: 'Trabzon' })).id;
});

afterEach(async () => {
  await stopTracing();
  await closePool();
});

afterAll(() => receiver.stop());

describe('tracing off (no OTLP endpoint: the default)', () => {
  test('no span is made, no traceparent answered, no context manager runs', async () => {
    const startSpan = jest.spyOn(ProxyTracer.prototype, 'startSpan');
    const getTracer = jest.spyOn(ProxyTracerProvider.prototype, 'getTracer');
    try {
      const app = tracedApi();
      const reads = await Promise.all([app.get(`/api/customers/${customerId}`).set('Authorization', caller.auth), app.get('/api/customers/export?format=csv&city=Trabzon').set('Authorization', caller.auth)]);
      const write = await app.post('/api/customers').set('Authorization', caller.auth).send({ name: 'Untraced Write' });
      for (const res of [...reads, write]) {
        expect(res.status).toBeLessThan(300);
        expect(res.headers.traceparent).toBeUndefined();
      }
      expect(startSpan).not.toHaveBeenCalled();
      expect(getTracer).not.toHaveBeenCalled();
      expect(trace.getActiveSpan()).toBeUndefined();
    } finally {
      startSpan.mockRestore();
      getTracer.mockRestore();
    }
  });
});

describe('one request', () => {
  test('its spans form one tree: the server span, named by its route, and under it the pool waits and the statements', async () => {
    await traceWith();
    const res = await tracedApi().get(`/api/customers/${customerId}`).set('Authorization', caller.auth);
    expect(res.status).toBe(200);
    const spans = await traceOf(traceIdOf(res));
    const server = spans.find((s) => s.kind === SERVER)!;
    expect(server).toMatchObject({
      name: 'GET /api/customers/:id',
      parentSpanId: '',
      serviceName: 'customer-api-test',
      attributes: { 'http.request.method': 'GET', 'http.route': '/api/customers/:id', 'http.response.status_code': 200, 'user.id': String(caller.user.id), 'customer_api.request_id': res.headers['x-request-id'] },
    });
    expect(res.headers.traceparent).toBe(`00-${server.traceId}-${server.spanId}-01`);
    // No token, no query string, in any attribute.
    expect(JSON.stringify(spans)).not.toContain(caller.auth.replace('Bearer ', ''));

    const waits = spans.filter((s) => s.name === 'db.client.connection.wait');
    const statements = spans.filter((s) => s.kind === CLIENT && s.attributes['db.system.name'] === 'postgresql' && s.name !== 'db.client.connection.wait');
    expect(waits.length).toBeGreaterThan(0);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of [...waits, ...statements]) expect(s.parentSpanId).toBe(server.spanId);
    for (const w of waits) expect(w.attributes['db.client.connection.pool.name']).toBe(process.env.DB_APPLICATION_NAME);
    const byId = statements.find((s) => String(s.attributes['db.query.text']).includes('FROM customers'))!;
    expect(byId.attributes).toMatchObject({ 'db.operation.name': 'SELECT', 'db.response.returned_rows': 1, 'db.client.connection.pool.name': process.env.DB_APPLICATION_NAME, 'db.postgresql.role': 'primary' });
    expect(byId.name).toBe(`SELECT ${byId.attributes['db.postgresql.statement.name']}`);
    // Parameters never: the id is a $1.
    expect(String(byId.attributes['db.query.text'])).toContain('$1');
    expect(String(byId.attributes['db.query.text'])).not.toMatch(new RegExp(`(?<!\\$)\\b${customerId}\\b`));
    expect(poolStats().in_use).toBe(0);
  });

  test('a JSON body that arrives after its headers: what runs once it is read (the INSERT) is still under the request\'s span', async () => {
    await traceWith();
    const http = createHttpServer(withContractCheck(createApp())).listen(0, '127.0.0.1');
    await once(http, 'listening');
    const body = JSON.stringify({ name: 'Traced Write', city: 'Rize' });
    const res = await new Promise<{ status: number; traceparent: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: (http.address() as AddressInfo).port, method: 'POST', path: '/api/customers', headers: { authorization: caller.auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (answer) => {
          answer.resume();
          answer.on('end', () => resolve({ status: answer.statusCode!, traceparent: String(answer.headers.traceparent) }));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      // The body 50 ms after the headers: read on later socket events, not in the request's first tick.
      setTimeout(() => req.end(body), 50);
    });
    http.close();
    expect(res.status).toBe(201);
    const spans = await traceOf(res.traceparent.split('-')[1]!);
    const server = spans.find((s) => s.kind === SERVER)!;
    expect(server.name).toBe('POST /api/customers');
    const insert = spans.find((s) => s.attributes['db.operation.name'] === 'INSERT' && String(s.attributes['db.query.text']).includes('INTO customers'));
    expect(insert).toMatchObject({ parentSpanId: server.spanId, attributes: { 'db.response.returned_rows': 1 } });
  });

  test('a caller\'s traceparent is continued: same trace, the caller\'s span the parent, its tracestate kept', async () => {
    await traceWith();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await tracedApi().get('/api/dashboard').set('Authorization', caller.auth).set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`).set('tracestate', 'vendor=x1');
    expect(res.status).toBe(200);
    expect(traceIdOf(res)).toBe(traceId);
    expect(res.headers.tracestate).toBe('vendor=x1');
    const server = (await traceOf(traceId)).find((s) => s.kind === SERVER)!;
    expect(server).toMatchObject({ name: 'GET /api/dashboard', parentSpanId: '00f067aa0ba902b7' });
  });

  test('a failed statement marks its span failed with the SQLSTATE; a 5xx marks the server span', async () => {
    await traceWith();
    const failing: RequestHandler = (req, _res, next) => {
      if (req.headers['x-fail'] === undefined) return next();
      executeQuery('SELECT 1/0').then(() => next(), next);
    };
    const res = await tracedApi([failing]).get('/api/health').set('x-fail', '1');
    expect(res.status).toBe(500);
    const spans = await traceOf(traceIdOf(res));
    expect(spans.find((s) => s.kind === CLIENT && s.name === 'SELECT')).toMatchObject({ statusCode: 2, attributes: { 'error.type': '22012', 'db.response.status_code': '22012' } });
    expect(spans.find((s) => s.kind === SERVER)).toMatchObject({ statusCode: 2, attributes: { 'error.type': '500' } });
  });
});

describe('a saturated pool', () => {
  test('20 concurrent requests through a pool of 1, each sleeping in SQL: every span under its own request', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '0', DB_POOL_MAX_CONNECTIONS: '1', DB_POOL_ACQUIRE_TIMEOUT_MS: '10000' });
    await traceWith();
    // Each request sleeps 20 ms in SQL before its route: the other 19 queue for the one client.
    const sleepy: RequestHandler = (req, _res, next) => {
      executeQuery(`SELECT pg_sleep(0.02), $1::text AS request`, [req.headers['x-n']]).then(() => next(), next);
    };
    const app = tracedApi([sleepy]);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => app.get(`/api/customers/${customerId}`).set('Authorization', caller.auth).set('x-n', String(n))));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    await flushTracing();
    const ids = answers.map(traceIdOf);
    await receiver.waitFor((spans) => ids.every((id) => spans.some((s) => s.traceId === id && s.kind === SERVER)));
    for (const id of ids) {
      const spans = receiver.spans.filter((s) => s.traceId === id);
      const server = spans.find((s) => s.kind === SERVER)!;
      const children = spans.filter((s) => s !== server);
      // Its sleep, its wait(s) and its own statements; all children of its server span, none of another's.
      expect(children.filter((s) => s.name === 'SELECT' && String(s.attributes['db.query.text']).includes('pg_sleep'))).toHaveLength(1);
      expect(children.filter((s) => s.name === 'db.client.connection.wait').length).toBeGreaterThanOrEqual(2);
      for (const child of children) expect(child.parentSpanId).toBe(server.spanId);
    }
    // And no span was put into a trace it does not belong to: every span's trace is one of the 20.
    expect(receiver.spans.every((s) => ids.includes(s.traceId))).toBe(true);
    expect(poolStats().in_use).toBe(0);
  }, 30_000);
});

describe('sampling', () => {
  test('parentbased_traceidratio 0.25: about a quarter of new traces, every request whose caller sampled it, and unsampled answers say so', async () => {
    await traceWith({ sampler: 'parentbased_traceidratio', samplerRatio: 0.25 });
    const app = tracedApi();
    const answers = [];
    for (let i = 0; i < 400; i += 1) answers.push(await app.get('/api/health'));
    const sampled = answers.filter((r) => String(r.headers.traceparent).endsWith('-01'));
    // Binomial(400, 0.25): mean 100, sd 8.7; 60..140 is beyond 4.5 sd either way.
    expect(sampled.length).toBeGreaterThan(60);
    expect(sampled.length).toBeLessThan(140);
    const fromCaller = await app.get('/api/health').set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(fromCaller.headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    const notFromCaller = await app.get('/api/health').set('traceparent', '00-0af7651916cd43dd8448eb211c80319d-b7ad6b7169203331-00');
    expect(notFromCaller.headers.traceparent).toMatch(/-00$/);
    await flushTracing();
    await receiver.waitFor((spans) => spans.filter((s) => s.kind === SERVER).length >= sampled.length + 1);
    // Exactly the sampled ones were exported.
    const exported = new Set(receiver.spans.filter((s) => s.kind === SERVER).map((s) => s.traceId));
    expect(exported.size).toBe(sampled.length + 1);
    for (const r of sampled) expect(exported.has(traceIdOf(r))).toBe(true);
  }, 60_000);
});

describe('the rest of the data layer', () => {
  test('the failover walk: the pool wait carries an event per host tried, the dead one failed, the live one connected', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    const live = `${url.hostname}:${url.port || 5432}`;
    await usePoolConfig({ DATABASE_URL: process.env.DATABASE_URL!.replace(`@${url.host}`, `@127.0.0.1:1,${live}`), DB_POOL_MIN_CONNECTIONS: '0' });
    await traceWith();
    const res = await tracedApi().get(`/api/customers/${customerId}`).set('Authorization', caller.auth);
    expect(res.status).toBe(200);
    const spans = await traceOf(traceIdOf(res));
    const events = spans.filter((s) => s.name === 'db.client.connection.wait').flatMap((s) => s.events);
    expect(events).toContainEqual({ name: 'db.host.failed', attributes: expect.objectContaining({ 'server.address': '127.0.0.1:1', 'db.host.wanted': 'read-write' }) });
    expect(events).toContainEqual({ name: 'db.host.connected', attributes: expect.objectContaining({ 'server.address': live, 'db.postgresql.role': 'primary' }) });
  });

  test('an export: a COPY span under the request, with the bytes the server sent (before CRLF), its pool wait under it', async () => {
    await traceWith();
    const res = await tracedApi()
      .get('/api/customers/export?format=csv&city=Trabzon')
      .set('Authorization', caller.auth)
      .buffer(true)
      .parse((stream, done) => {
        let text = '';
        stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
        stream.on('end', () => done(null, text));
      });
    expect(res.status).toBe(200);
    expect(res.body).toContain('Traced Customer');
    const spans = await traceOf(traceIdOf(res));
    const server = spans.find((s) => s.kind === SERVER)!;
    const copy = spans.find((s) => s.name === 'COPY TO STDOUT')!;
    expect(copy).toMatchObject({ parentSpanId: server.spanId, statusCode: 0, attributes: { 'db.operation.name': 'COPY', 'customer_api.copy.bytes': Buffer.byteLength((res.body as string).replace(/\r\n/g, '\n')) } });
    expect(String(copy.attributes['db.query.text'])).not.toContain('Trabzon');
    expect(spans.find((s) => s.name === 'db.client.connection.wait' && s.parentSpanId === copy.spanId)).toBeDefined();
    expect(poolStats().in_use).toBe(0);
  });

  test('the query helpers make spans for a library user, under whatever span is active; outside any span, none', async () => {
    await traceWith({ protocol: 'http/json' });
    const tracer = trace.getTracer('a-library-user');
    const traceId = await tracer.startActiveSpan('nightly job', async (job) => {
      await executeQuery({ name: 'library_user_one', text: 'SELECT $1::int AS one' }, [1]);
      job.end();
      return job.spanContext().traceId;
    });
    await executeQuery('SELECT 2 AS untraced');
    await flushTracing();
    const spans = await receiver.waitFor((all) => all.some((s) => s.name === 'nightly job'));
    expect(receiver.contentTypes).toEqual(new Set(['application/json']));
    const job = spans.find((s) => s.name === 'nightly job')!;
    expect(spans.find((s) => s.name === 'SELECT library_user_one')).toMatchObject({ traceId, parentSpanId: job.spanId });
    expect(spans.some((s) => String(s.attributes['db.query.text']).includes('untraced'))).toBe(false);
  });

  test('prepared statements untouched: the names are in pg_prepared_statements, no statement carries a comment', async () => {
    await usePoolConfig({ DB_POOL_MIN_CONNECTIONS: '0', DB_POOL_MAX_CONNECTIONS: '1' });
    await traceWith();
    const res = await tracedApi().get(`/api/customers/${customerId}`).set('Authorization', caller.auth);
    const spans = await traceOf(traceIdOf(res));
    const names = spans.map((s) => s.attributes['db.postgresql.statement.name']).filter((n): n is string => typeof n === 'string');
    expect(names.length).toBeGreaterThan(0);
    // The pool's one connection: the session that ran the request's statements.
    const prepared = await executeQuery<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements');
    for (const name of names) expect(prepared.map((p) => p.name)).toContain(name);
    for (const p of prepared) expect(p.statement).not.toMatch(/\/\*|traceparent/);
  });
});

withPgBouncer()('the built server behind PgBouncer in transaction mode, tracing on from its environment', () => {
  let bouncer: Bouncer;
  let server: ServerProcess;

  beforeAll(async () => {
    bouncer = await startPgBouncer(process.env.DATABASE_URL!, 'transaction', 4);
    server = startServer(
      { DATABASE_URL: bouncer.url, JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'info', DB_MIGRATE_ON_START: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'behind-pgbouncer' },
      await freePort(),
    );
    await waitForHealth(server);
  }, 60_000);

  afterAll(async () => {
    await stopServer(server);
    await bouncer.stop();
  });

  test('spans in protobuf, one tree per request, and its trace_id and span_id in the request\'s log lines', async () => {
    receiver.clear();
    const traceId = '5bf92f3577b34da6a3ce929d0e0e4737';
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        fetch(`${server.base}/api/customers/${customerId}`, { headers: { authorization: caller.auth, traceparent: `00-${traceId}-00f067aa0ba902b${n}-01` } }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    // The batch goes out within the SDK's schedule (5 s).
    const spans = await receiver.waitFor((all) => all.filter((s) => s.traceId === traceId && s.kind === SERVER).length === 8);
    expect(receiver.contentTypes).toEqual(new Set(['application/x-protobuf']));
    const servers = spans.filter((s) => s.traceId === traceId && s.kind === SERVER);
    expect(new Set(servers.map((s) => s.serviceName))).toEqual(new Set(['behind-pgbouncer']));
    for (const s of servers) {
      const children = spans.filter((c) => c.parentSpanId === s.spanId);
      expect(children.some((c) => c.name === 'db.client.connection.wait')).toBe(true);
      expect(children.some((c) => c.kind === CLIENT && String(c.attributes['db.query.text']).includes('FROM customers'))).toBe(true);
    }
    // Every request line of this trace names its own server span.
    const linesOf = () => server.output().split('\n').filter((l) => l.includes('"request completed"') && l.includes(traceId));
    for (let i = 0; i < 100 && linesOf().length < 8; i += 1) await new Promise((r) => setTimeout(r, 50));
    const lines = linesOf();
    expect(lines.map((l) => (JSON.parse(l) as { span_id: string }).span_id).sort()).toEqual(servers.map((s) => s.spanId).sort());
  }, 30_000);
});
