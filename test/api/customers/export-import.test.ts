import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseCsv } from 'csv-parse/sync';
import { createApp } from '../../../src/app';
import { executeQuery, executeQueryOne, poolStats } from '../../../src/db';
import { api, expectApiError } from '../../helpers/api';
import { adminUrl, withAdminClient } from '../../helpers/admin-db';
import { createAdmin, createCustomer, createUser, unique, type TestUser } from '../../helpers/factories';
import { expectNoClientInUse, usePoolConfig } from '../../helpers/pool';

let admin: TestUser;
let user: TestUser;
let server: Server;
let base: string;
beforeAll(async () => {
  [admin, user] = [await createAdmin(), await createUser()];
  // A real socket: a client can stop reading, or go away, mid-export.
  server = createServer(createApp());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => expectNoClientInUse());

const AWKWARD = [
  { name: 'Çağrı "Quote" Öztürk, Jr.', email: null, phone: '+90 (532) 000-0000', company: '=HYPERLINK("http://x")', city: null, status: 'active', notes: 'line one\nline two\r\nİıŞşĞğÇçÖöÜü 🚀' },
  { name: '-minus', email: 'x@example.com', phone: '@at', company: "'quoted", city: null, status: 'lead', notes: '\ttab first' },
  { name: 'Back\\slash', email: null, phone: null, company: 'Comma, Inc.', city: null, status: 'inactive', notes: '' },
];
const FIELDS = ['name', 'email', 'phone', 'company', 'city', 'status', 'notes'] as const;
const fieldsOf = (c: Record<string, unknown>) => Object.fromEntries(FIELDS.map((f) => [f, c[f] ?? null]));

/** Customers of one test, alone in their city. */
async function seed(city: string, rows: typeof AWKWARD) {
  return Promise.all(rows.map((r) => createCustomer({ ...r, city } as never, admin.user.id)));
}
const inCity = (city: string) => executeQuery<Record<string, unknown>>('SELECT * FROM customers WHERE city = $1 ORDER BY name', [city]);

/** Starts an export on a real socket and returns the response (paused: nothing is read until asked). */
function startExport(path: string, token = admin.auth): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers: { authorization: token } }, (res) => {
      res.pause();
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Exports running in PostgreSQL (any backend but ours). */
const copiesRunning = async () =>
  withAdminClient(adminUrl(), async (c) => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT id, CASE%' AND pid <> pg_backend_pid()")).rows[0]!.n);

async function waitFor(check: () => Promise<boolean> | boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

/** Fills a city with `n` customers with 5 kB of notes each (SQL): an export too big to sit in socket buffers. */
async function fillLarge(city: string, n: number): Promise<void> {
  await executeQuery(
    "INSERT INTO customers (name, city, status, notes) SELECT 'Large ' || g, $1, 'lead', repeat('x', 5000) FROM generate_series(1, $2::int) g",
    [city, n],
  );
}

describe('GET /api/customers/export', () => {
  test('CSV: a header row, CRLF records, quoted values, formulas defused, one file named by the day', async () => {
    const city = `Export ${unique()}`;
    await seed(city, AWKWARD);
    const res = await api().get('/api/customers/export').query({ city, sort: 'name', order: 'asc' }).set('Authorization', user.auth).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString('utf8')));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="customers-${new Date().toISOString().slice(0, 10)}.csv"`);
    const text = res.body as string;
    expect(text.startsWith('id,name,email,phone,company,city,status,notes,version,created_at,updated_at,created_by\r\n')).toBe(true);
    // Every record ends with CRLF; a line break inside a value stays as it was.
    expect(text.endsWith('\r\n')).toBe(true);
    const records = parseCsv<Record<string, string>>(text, { columns: true });
    // In the list's order: by the name as stored (not as defused for the file), then id.
    const stored = await executeQuery<{ id: string }>('SELECT id FROM customers WHERE city = $1 ORDER BY name, id', [city]);
    expect(records.map((r) => r.id)).toEqual(stored.map((r) => r.id));
    expect(records.map((r) => r.name).sort()).toEqual(["'-minus", 'Back\\slash', 'Çağrı "Quote" Öztürk, Jr.'].sort());
    const first = records.find((r) => r.name?.startsWith('Ç'))!;
    expect(first.company).toBe('\'=HYPERLINK("http://x")');
    expect(first.phone).toBe("'+90 (532) 000-0000");
    expect(first.notes).toBe('line one\nline two\r\nİıŞşĞğÇçÖöÜü 🚀');
    const second = records.find((r) => r.name === "'-minus")!;
    expect([second.phone, second.company, second.notes]).toEqual(["'@at", "''quoted", "'\ttab first"]);
    // PostgreSQL's ISO 8601 in UTC, to the microsecond: the same instant as the API's JSON.
    expect(first.created_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?\+00$/);
    const [row] = await executeQuery<{ created_at: Date }>('SELECT created_at FROM customers WHERE id = $1', [first.id]);
    expect(new Date(`${first.created_at!.replace(' ', 'T')}:00`).getTime()).toBe(row!.created_at.getTime());
  });

  test('bom=true starts the file with a UTF-8 byte order mark', async () => {
    const city = `Bom ${unique()}`;
    await seed(city, AWKWARD.slice(0, 1));
    const res = await api().get('/api/customers/export').query({ city, bom: 'true' }).set('Authorization', user.auth).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect([...(res.body as Buffer).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });

  test('NDJSON: one customer per line, as GET /api/customers/:id answers it (timestamps to the microsecond, in UTC); the filters apply', async () => {
    const city = `Ndjson ${unique()}`;
    const created = await seed(city, AWKWARD);
    await createCustomer({ name: 'Elsewhere', city: `${city} other` });
    const res = await api().get('/api/customers/export').query({ city, format: 'ndjson', sort: 'id', order: 'asc' }).set('Authorization', user.auth).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString('utf8')));
      r.on('end', () => cb(null, text));
    });
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = (res.body as string).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(created.length);
    for (const [i, c] of [...created].sort((a, b) => a.id - b.id).entries()) {
      const one = await api().get(`/api/customers/${c.id}`).set('Authorization', user.auth);
      const line = JSON.parse(lines[i]!) as Record<string, unknown>;
      // The same fields in the same order; the timestamps the same instants, written with microseconds.
      expect(Object.keys(line)).toEqual(Object.keys(one.body as object));
      for (const at of ['created_at', 'updated_at']) {
        expect(line[at]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$/);
        expect(new Date(line[at] as string).toISOString()).toBe((one.body as Record<string, string>)[at]);
      }
      expect({ ...line, created_at: null, updated_at: null }).toEqual({ ...(one.body as object), created_at: null, updated_at: null });
    }
    // The default order, newest first, is the table's created_at (not its text in the file).
    await executeQuery("UPDATE customers SET created_at = created_at + make_interval(days => id::int % 7) WHERE city = $1", [city]);
    const newestFirst = await api().get('/api/customers/export').query({ city, format: 'ndjson' }).set('Authorization', user.auth).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString('utf8')));
      r.on('end', () => cb(null, text));
    });
    const order = await executeQuery<{ id: string }>('SELECT id FROM customers WHERE city = $1 ORDER BY created_at DESC, id DESC', [city]);
    expect((newestFirst.body as string).trim().split('\n').map((l) => String((JSON.parse(l) as { id: number }).id))).toEqual(order.map((r) => r.id));
  });

  test('bad parameters: 400 before anything is sent', async () => {
    expectApiError(await api().get('/api/customers/export').query({ format: 'xml' }).set('Authorization', user.auth), 400, 'VALIDATION_ERROR');
    expectApiError(await api().get('/api/customers/export').query({ status: 'gone' }).set('Authorization', user.auth), 400, 'VALIDATION_ERROR');
    expectApiError(await api().get('/api/customers/export'), 401, 'UNAUTHORIZED');
  });

  test('the client goes away mid-export: within 1 s the COPY has stopped and the client is back in the pool', async () => {
    const city = `Abort ${unique()}`;
    await fillLarge(city, 4000);
    const res = await startExport(`/api/customers/export?city=${encodeURIComponent(city)}`);
    expect(res.statusCode).toBe(200);
    res.resume();
    await new Promise((r) => res.once('data', r));
    res.pause();
    await waitFor(async () => (await copiesRunning()) === 1, 2000);
    res.destroy();
    const took = await waitFor(async () => poolStats().in_use === 0 && (await copiesRunning()) === 0, 3000);
    expect(took).toBeLessThan(1000);
    const stuck = await withAdminClient(adminUrl(), async (c) => (await c.query("SELECT 1 FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND query LIKE 'COPY%'")).rowCount);
    expect(stuck).toBe(0);
  });

  test('a third export at once: 429 with Retry-After; the two others go on', async () => {
    const city = `Three ${unique()}`;
    await fillLarge(city, 4000);
    const path = `/api/customers/export?city=${encodeURIComponent(city)}`;
    const [a, b] = [await startExport(path), await startExport(path)];
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    const third = await api().get('/api/customers/export').query({ city }).set('Authorization', admin.auth);
    expectApiError(third, 429, 'TOO_MANY_REQUESTS');
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    // The rest of the API still answers while both run.
    expect((await api().get('/api/customers').query({ limit: 1 }).set('Authorization', admin.auth)).status).toBe(200);
    const sizes = await Promise.all(
      [a, b].map(
        (res) =>
          new Promise<number>((resolve, reject) => {
            let bytes = 0;
            res.on('data', (c: Buffer) => (bytes += c.length)).on('end', () => resolve(bytes)).on('error', reject);
            res.resume();
          }),
      ),
    );
    expect(sizes[0]).toBeGreaterThan(4000 * 5000);
    expect(sizes[1]).toBe(sizes[0]);
    await waitFor(() => poolStats().in_use === 0, 1000);
  });

  test('the database ends the connection mid-export: the response is cut off, never a short file that ends cleanly', async () => {
    const city = `Cut ${unique()}`;
    await fillLarge(city, 4000);
    const res = await startExport(`/api/customers/export?city=${encodeURIComponent(city)}`);
    res.resume();
    await new Promise((r) => res.once('data', r));
    res.pause();
    await waitFor(async () => (await copiesRunning()) === 1, 2000);
    await withAdminClient(adminUrl(), (c) => c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT id, CASE%' AND pid <> pg_backend_pid()"));
    const outcome = await new Promise<string>((resolve) => {
      res.on('end', () => resolve('ended cleanly')).on('error', () => resolve('cut off')).on('aborted', () => resolve('cut off'));
      res.resume();
    });
    expect(outcome).toBe('cut off');
    await waitFor(() => poolStats().in_use === 0, 1000);
  });
});

/** POST /api/customers/import with a raw body. */
const importBody = (body: string, type: string, query: Record<string, string> = {}, token = admin.auth) =>
  api().post('/api/customers/import').query(query).set('Authorization', token).set('Content-Type', type).send(body);

describe('POST /api/customers/import', () => {
  test('round trip: an export imported again gives the same customers (CSV and NDJSON), created by the importer', async () => {
    for (const format of ['csv', 'ndjson'] as const) {
      const city = `Trip ${format} ${unique()}`;
      // Created through the API, so the values are as the API keeps them (it trims text, for one).
      for (const row of AWKWARD) expect((await api().post('/api/customers').set('Authorization', admin.auth).send({ ...row, city, notes: row.notes || null })).status).toBe(201);
      const before = (await inCity(city)).map(fieldsOf);
      const exported = await api().get('/api/customers/export').query({ city, format }).set('Authorization', admin.auth).buffer(true).parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString('utf8')));
        r.on('end', () => cb(null, text));
      });
      await executeQuery('DELETE FROM customers WHERE city = $1', [city]);
      const res = await importBody(exported.body as string, format === 'csv' ? 'text/csv' : 'application/x-ndjson');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ inserted: AWKWARD.length, rejected: 0, errors: [] });
      const after = await inCity(city);
      expect(after.map(fieldsOf)).toEqual(before);
      expect(after.every((c) => Number(c.created_by) === admin.user.id && c.version === 1)).toBe(true);
    }
  });

  test('skip-invalid writes the valid rows and reports the others by their line in the file', async () => {
    const city = `Skip ${unique()}`;
    const csv = [
      'name,city,status,notes',
      `Good one,${city},lead,`,
      `Bad status,${city},gone,`,
      `"Two\nlines",${city},active,"and ""quotes"""`,
      `,${city},lead,`,
      `Too,many,cells,here,${city}`,
      `Good two,${city},,`,
    ].join('\r\n');
    const res = await importBody(csv, 'text/csv', { mode: 'skip-invalid' });
    expect(res.status).toBe(200);
    expect(res.body.inserted).toBe(3);
    expect(res.body.rejected).toBe(3);
    expect(res.body.errors.map((e: { line: number; field: string | null }) => [e.line, e.field])).toEqual([
      [3, 'status'],
      [6, 'name'],
      [7, null],
    ]);
    expect((await inCity(city)).map((c) => c.name).sort()).toEqual(['Good one', 'Good two', 'Two\nlines']);
  });

  test('all-or-nothing (the default) with one bad row on line 50,001: 422 with the report, nothing written', async () => {
    const city = `Whole ${unique()}`;
    const lines = Array.from({ length: 49_999 }, (_, i) => JSON.stringify({ name: `Row ${i + 1}`, city }));
    lines.push(JSON.stringify({ name: 'Bad', city, status: 'unknown' }), JSON.stringify({ name: 'After', city }));
    const ndjson = `${JSON.stringify({ name: 'First', city })}\n${lines.join('\n')}\n`;
    const res = await importBody(ndjson, 'application/x-ndjson');
    expectApiError(res, 422, 'IMPORT_INVALID');
    expect(res.body).toMatchObject({ inserted: 0, rejected: 1, errors: [{ line: 50_001, field: 'status' }] });
    expect(await inCity(city)).toHaveLength(0);
  });

  test('an export file with its id, version and dates imports; an unknown column is refused before anything is read', async () => {
    const city = `Header ${unique()}`;
    expectApiError(await importBody(`name,city,colour\nA,${city},red\n`, 'text/csv'), 400, 'VALIDATION_ERROR');
    expectApiError(await importBody(`city\n${city}\n`, 'text/csv'), 400, 'VALIDATION_ERROR');
    const ok = await importBody(`id,name,city,created_at,created_by\n99999999,Kept,${city},2020-01-01T00:00:00.000Z,1\n`, 'text/csv');
    expect(ok.body).toEqual({ inserted: 1, rejected: 0, errors: [] });
    const [row] = await inCity(city);
    expect(Number(row!.id)).not.toBe(99_999_999);
    expect(Number(row!.created_by)).toBe(admin.user.id);
    expect(await inCity(city)).toHaveLength(1);
  });

  test('only admins; only CSV or NDJSON', async () => {
    expectApiError(await importBody('name\nA\n', 'text/csv', {}, user.auth), 403, 'FORBIDDEN');
    expectApiError(await api().post('/api/customers/import').set('Authorization', admin.auth).send({ name: 'json' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectApiError(await importBody('name\nA\n', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectApiError(await importBody('name\nA\n', 'text/csv', { mode: 'some' }), 400, 'VALIDATION_ERROR');
  });

  test('an Idempotency-Key replays the first answer instead of importing twice; with another file, 422', async () => {
    const city = `Idem ${unique()}`;
    const key = `import-${unique()}`;
    const csv = `name,city\nOnce,${city}\nTwice,${city}\n`;
    const send = (body: string) => api().post('/api/customers/import').set('Authorization', admin.auth).set('Content-Type', 'text/csv').set('Idempotency-Key', key).send(body);
    const first = await send(csv);
    expect(first.body).toEqual({ inserted: 2, rejected: 0, errors: [] });
    const again = await send(csv);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await inCity(city)).toHaveLength(2);
    expectApiError(await send(`${csv}Third,${city}\n`), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await inCity(city)).toHaveLength(2);
  });

  test('the database ends the connection mid-import: 503, nothing half-written, the pool healthy', async () => {
    const city = `Lost ${unique()}`;
    const { port } = server.address() as AddressInfo;
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/customers/import', method: 'POST', headers: { authorization: admin.auth, 'content-type': 'application/x-ndjson' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString())).on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      // The first rows, then the database goes, then more rows.
      req.write(`${Array.from({ length: 1000 }, (_, i) => JSON.stringify({ name: `Row ${i}`, city })).join('\n')}\n`);
      void (async () => {
        await waitFor(async () => (await withAdminClient(adminUrl(), (c) => c.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY customers_import%'"))).rowCount === 1, 3000);
        await withAdminClient(adminUrl(), (c) => c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'COPY customers_import%'"));
        req.write(`${JSON.stringify({ name: 'Late', city })}\n`);
        req.end();
      })().catch(reject);
    });
    const res = await answer;
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'DATABASE_UNAVAILABLE' } });
    expect(await inCity(city)).toHaveLength(0);
    await waitFor(() => poolStats().in_use === 0, 1000);
    // The pool serves the next request.
    expect((await importBody(`name,city\nAfter,${city}\n`, 'text/csv')).body.inserted).toBe(1);
  });

  test('a body over IMPORT_MAX_BYTES: 413 and nothing written, whether its length is announced or not', async () => {
    const city = `Big ${unique()}`;
    const { port } = server.address() as AddressInfo;
    const announced = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/customers/import', method: 'POST', headers: { authorization: admin.auth, 'content-type': 'text/csv', 'content-length': String(100 * 1024 * 1024 + 1) } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.write('name\n');
    });
    expect(announced).toBe(413);
    await usePoolConfig({ IMPORT_MAX_BYTES: '1kb' });
    try {
      const rows = Array.from({ length: 100 }, (_, i) => `Row ${i},${city}`).join('\n');
      expectApiError(await importBody(`name,city\n${rows}\n`, 'text/csv'), 413, 'PAYLOAD_TOO_LARGE');
      expect(await inCity(city)).toHaveLength(0);
    } finally {
      await usePoolConfig({});
    }
  });

  test('the dashboard counters stay exact after an import', async () => {
    const city = `Count ${unique()}`;
    await importBody(`name,city,status\nA,${city},active\nB,${city},active\nC,${city},lead\n`, 'text/csv');
    const counted = await executeQueryOne<{ n: string }>('SELECT coalesce(sum(n), 0) AS n FROM customer_city_counts WHERE city = $1', [city]);
    expect(Number(counted!.n)).toBe(3);
  });
});
