import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../../src/app';
import { executeQueryOne } from '../../../src/db';
import { createHttpServer } from '../../../src/http/server';
import { api } from '../../helpers/api';
import { createAdmin, createCustomer, createUser, type TestUser } from '../../helpers/factories';

let admin: TestUser;
let user: TestUser;
let customerId: number;

beforeAll(async () => {
  admin = await createAdmin();
  user = await createUser();
  customerId = (await createCustomer()).id;
});

/** Everything a bad request could have written. */
async function snapshot(): Promise<string> {
  const row = await executeQueryOne<{ s: string }>(
    `SELECT (SELECT count(*) FROM users)::text || '/' || (SELECT count(*) FROM customers)::text || '/' ||
            (SELECT coalesce(sum(version), 0) FROM customers)::text || '/' || (SELECT coalesce(max(updated_at), NOW())::text FROM users) AS s`,
  );
  return row!.s;
}

interface Route {
  method: 'post' | 'patch' | 'put' | 'get' | 'delete';
  path: () => string;
  auth: () => string;
}

const BODY_ROUTES: Record<string, Route> = {
  'POST /api/auth/login': { method: 'post', path: () => '/api/auth/login', auth: () => '' },
  'POST /api/auth/change-password': { method: 'post', path: () => '/api/auth/change-password', auth: () => user.auth },
  'POST /api/users': { method: 'post', path: () => '/api/users', auth: () => admin.auth },
  'PATCH /api/users/:id': { method: 'patch', path: () => `/api/users/${user.user.id}`, auth: () => admin.auth },
  'POST /api/customers': { method: 'post', path: () => '/api/customers', auth: () => user.auth },
  'PATCH /api/customers/:id': { method: 'patch', path: () => `/api/customers/${customerId}`, auth: () => user.auth },
  'PUT /api/customers/:id': { method: 'put', path: () => `/api/customers/${customerId}`, auth: () => user.auth },
};

const BIG = 'x'.repeat(10_000);
// Raw JSON texts, sent as they are, so that what JSON.stringify would refuse can be sent too.
const BAD_BODIES: [string, string][] = [
  ['invalid JSON', '{"name": '],
  ['a JSON string', '"just a string"'],
  ['a JSON number', '42'],
  ['null', 'null'],
  ['an array for the object', '[{"name":"x","email":"a@example.com","password":"longenough"}]'],
  ['numbers for strings', '{"name":1,"email":2,"password":3,"current_password":4,"new_password":5}'],
  ['a huge number', '{"name":1e309,"email":1e309,"password":1e309,"current_password":1e309,"new_password":1e309,"is_active":1e309}'],
  ['negative and fractional numbers', '{"name":-1.5,"email":-0.0,"password":0.1,"role":-7,"is_active":2.5,"status":-1}'],
  ['strings for booleans and enums', '{"is_active":"yes","role":"superuser","status":"vip"}'],
  ['NUL bytes', '{"name":"a\\u0000b","email":"a\\u0000@example.com","password":"pass\\u0000word","current_password":"x\\u0000","new_password":"longenough\\u0000","notes":"\\u0000"}'],
  ['10,000-character strings', JSON.stringify({ name: BIG, email: `${BIG}@example.com`, password: BIG, current_password: BIG, new_password: BIG, notes: BIG + BIG })],
  ['objects for strings', '{"name":{"$gt":""},"email":{"$ne":null},"password":["a"],"current_password":{},"new_password":[]}'],
  ['a __proto__ key', '{"__proto__":{"role":"admin","is_admin":true},"name":"x"}'],
  ['a constructor key', '{"constructor":{"prototype":{"role":"admin"}},"name":"x"}'],
  ['an empty object', '{}'],
  ['unknown fields only', '{"id":1,"version":99,"created_by":1,"password_hash":"x"}'],
];

describe.each(Object.entries(BODY_ROUTES))('%s', (_name, route) => {
  test.each(BAD_BODIES)('with %s answers 4xx in the API shape and writes nothing', async (_case, raw) => {
    const before = await snapshot();
    let req = api()[route.method](route.path()).set('Content-Type', 'application/json');
    if (route.auth()) req = req.set('Authorization', route.auth());
    const res = await req.send(raw);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) }, request_id: expect.any(String) });
    expect(await snapshot()).toBe(before);
  });

  test.each([
    ['text/plain', 'name=x'],
    ['application/x-www-form-urlencoded', 'name=x&email=a%40example.com'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--x--'],
    ['application/xml', '<name>x</name>'],
  ])('with Content-Type %s answers 415 and writes nothing', async (type, raw) => {
    const before = await snapshot();
    let req = api()[route.method](route.path()).set('Content-Type', type);
    if (route.auth()) req = req.set('Authorization', route.auth());
    const res = await req.send(raw);
    expect(res).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
    expect(await snapshot()).toBe(before);
  });

  test('with a body over the limit answers 413 and writes nothing', async () => {
    const before = await snapshot();
    let req = api()[route.method](route.path()).set('Content-Type', 'application/json');
    if (route.auth()) req = req.set('Authorization', route.auth());
    const res = await req.send(JSON.stringify({ name: 'x'.repeat(150_000) }));
    expect(res).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect(await snapshot()).toBe(before);
  });
});

const ID_ROUTES: [string, Route['method'], (id: string) => string, () => string][] = [
  ['GET /api/users/:id', 'get', (id) => `/api/users/${id}`, () => admin.auth],
  ['PATCH /api/users/:id', 'patch', (id) => `/api/users/${id}`, () => admin.auth],
  ['DELETE /api/users/:id', 'delete', (id) => `/api/users/${id}`, () => admin.auth],
  ['GET /api/customers/:id', 'get', (id) => `/api/customers/${id}`, () => user.auth],
  ['PATCH /api/customers/:id', 'patch', (id) => `/api/customers/${id}`, () => user.auth],
  ['PUT /api/customers/:id', 'put', (id) => `/api/customers/${id}`, () => user.auth],
  ['DELETE /api/customers/:id', 'delete', (id) => `/api/customers/${id}`, () => admin.auth],
];

const BAD_IDS = ['abc', '-1', '0', '1.5', '1e3', '0x10', '9007199254740992', '99999999999999999999999999', '%00', '%C4%B0', '1%20OR%201=1', "1'--", '%F0%9F%9A%80'];

describe.each(ID_ROUTES)('%s', (_name, method, path, auth) => {
  test.each(BAD_IDS)('with id %s answers 400 and writes nothing', async (id) => {
    const before = await snapshot();
    const res = await api()[method](path(id)).set('Authorization', auth()).send({ name: 'x' });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR' } } });
    expect(await snapshot()).toBe(before);
  });
});

describe('query parameters', () => {
  test.each([
    '/api/customers?page=1e3',
    '/api/customers?page=-1',
    '/api/customers?limit=1.5',
    '/api/customers?limit=99999999999999999999',
    '/api/customers?sort=1;DROP%20TABLE%20customers',
    '/api/customers?q=%00',
    `/api/customers?q=${'x'.repeat(10_000)}`,
    '/api/customers?status=lead&status=active',
    '/api/customers?city=%00',
    '/api/users?page=abc',
    '/api/users?limit=-5',
  ])('%s answers 400', async (path) => {
    const res = await api().get(path).set('Authorization', admin.auth);
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR' } } });
  });

  test('array-style keys are not the parameter (page[]=2 is ignored)', async () => {
    const res = await api().get('/api/customers?page[]=2').set('Authorization', admin.auth);
    expect(res).toMatchObject({ status: 200, body: { pagination: { page: 1 } } });
  });
});

describe('headers', () => {
  test('a missing Content-Type on a body answers 415', async () => {
    const res = await api().post('/api/customers').set('Authorization', user.auth).set('Content-Type', '').send('{"name":"x"}');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  test('a duplicated Content-Length is refused in the API shape before it reaches the app', async () => {
    const server = createHttpServer(createApp());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const raw = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /api/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{"a":1}');
      });
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => resolve(data));
    });
    await new Promise((resolve) => server.close(resolve));
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
  });

  test('two Authorization headers: the first wins, as Node keeps only one', async () => {
    const res = await api().get('/api/auth/me').set('Authorization', [user.auth, 'Bearer garbage'] as unknown as string);
    expect(res.status).toBeLessThan(500);
  });

  test('a duplicated If-Match is read as a list', async () => {
    const res = await api().patch(`/api/customers/${customerId}`).set('Authorization', user.auth).set('If-Match', ['"999"', '"998"'] as unknown as string).send({ notes: 'x' });
    expect(res).toMatchObject({ status: 412 });
  });
});
