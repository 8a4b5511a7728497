import { loadConfig, setConfig } from '../../../src/config/config';
import { SCOPES } from '../../../src/http/scopes';
import { buildOpenApiDocument } from '../../../src/modules/docs';
import { settleKeyUses } from '../../../src/modules/keys';
import { api } from '../../helpers/api';
import { createAdmin, createCustomer, createUser, unique, type TestUser } from '../../helpers/factories';
import { expectNoClientInUse } from '../../helpers/pool';

// Every authenticated route of the OpenAPI document × {no credential, a key without the route's scope,
// a key with it}. The routes come from the document, so a new route without an example request below
// fails this test until it has one: none can be forgotten.

interface Call {
  method: string;
  path: string;
  body?: unknown;
  type?: string;
}
interface Context {
  admin: TestUser;
  user: TestUser;
}

/** A request each operation answers with 2xx when allowed (fresh resources where it changes them). */
const EXAMPLES: Record<string, (ctx: Context) => Call | Promise<Call>> = {
  getPoolHealth: () => ({ method: 'get', path: '/api/health/db' }),
  testDatabase: () => ({ method: 'get', path: '/api/health/db/test' }),
  getMetrics: () => ({ method: 'get', path: '/metrics' }),
  listCustomers: () => ({ method: 'get', path: '/api/customers?limit=5' }),
  getCustomer: async () => ({ method: 'get', path: `/api/customers/${(await createCustomer()).id}` }),
  createCustomer: () => ({ method: 'post', path: '/api/customers', body: { name: `Matrix ${unique()}` } }),
  updateCustomer: async () => ({ method: 'patch', path: `/api/customers/${(await createCustomer()).id}`, body: { status: 'active' } }),
  replaceCustomer: async () => ({ method: 'put', path: `/api/customers/${(await createCustomer()).id}`, body: { name: `Matrix ${unique()}` } }),
  deleteCustomer: async () => ({ method: 'delete', path: `/api/customers/${(await createCustomer()).id}` }),
  exportCustomers: () => ({ method: 'get', path: '/api/customers/export?format=ndjson&q=zzz-none' }),
  importCustomers: () => ({ method: 'post', path: '/api/customers/import', body: `name\nMatrix ${unique()}\n`, type: 'text/csv' }),
  getDashboard: () => ({ method: 'get', path: '/api/dashboard' }),
  getCustomerHistory: async () => ({ method: 'get', path: `/api/customers/${(await createCustomer()).id}/history` }),
  getUserHistory: ({ admin }) => ({ method: 'get', path: `/api/users/${admin.user.id}/history` }),
  listHistory: () => ({ method: 'get', path: '/api/history?limit=5' }),
  listUsers: () => ({ method: 'get', path: '/api/users?limit=5' }),
  getUser: ({ admin }) => ({ method: 'get', path: `/api/users/${admin.user.id}` }),
  // No key may call these: a key with every scope gets 403; a person's token is what they take.
  createUser: () => ({ method: 'post', path: '/api/users', body: { email: `m-${unique()}@example.com`, name: 'M', password: 'long-enough-pw' } }),
  updateUser: async () => ({ method: 'patch', path: `/api/users/${(await createUser()).user.id}`, body: { name: 'Renamed' } }),
  deleteUser: async () => ({ method: 'delete', path: `/api/users/${(await createUser()).user.id}` }),
  createApiKey: () => ({ method: 'post', path: '/api/keys', body: { name: 'k', scopes: ['customers:read'], expires_at: new Date(Date.now() + 86_400_000).toISOString() } }),
  listApiKeys: () => ({ method: 'get', path: '/api/keys' }),
  revokeApiKey: () => ({ method: 'delete', path: '/api/keys/AAAAAAAAAAAA' }),
  getCurrentUser: () => ({ method: 'get', path: '/api/auth/me' }),
  listSessions: () => ({ method: 'get', path: '/api/auth/sessions' }),
  endSession: () => ({ method: 'delete', path: '/api/auth/sessions/3f1c2a9e-7b4d-4c1e-9a55-2c1f3e8b6d40' }),
  changePassword: () => ({ method: 'post', path: '/api/auth/change-password', body: { current_password: 'x-long-enough', new_password: 'y-long-enough' } }),
  logout: () => ({ method: 'post', path: '/api/auth/logout' }),
};

interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
}

const document = buildOpenApiDocument() as unknown as { paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op, requirement: op.security?.find((r) => r.bearerAuth !== undefined) })),
);
const authenticated = operations.filter((o) => o.requirement !== undefined);

describe('every authenticated route × API keys', () => {
  beforeAll(() => setConfig(loadConfig({ ...process.env, METRICS_ENABLED: 'true', METRICS_TOKEN: 'matrix-metrics-token' })));
  // Inside the describe, so that it runs before the file-wide check that no client is in use: a key's
  // use is written in the background (at most once a minute per key), and may still be in flight.
  afterEach(async () => {
    await settleKeyUses();
    expectNoClientInUse();
  });

  let ctx: Context;
  const keys = new Map<string, string>();
  /** A key of an admin (so that the role never refuses), or of a plain user, with exactly these scopes. */
  async function keyWith(scopes: readonly string[], owner: 'admin' | 'user' = 'admin'): Promise<string> {
    const id = `${owner}:${[...scopes].sort().join(',')}`;
    let key = keys.get(id);
    if (key === undefined) {
      const res = await api().post('/api/keys').set('Authorization', ctx[owner].auth).send({ name: `matrix ${unique()}`, scopes, expires_at: new Date(Date.now() + 86_400_000).toISOString() });
      expect(res.status).toBe(201);
      key = `Bearer ${res.body.key as string}`;
      keys.set(id, key);
    }
    return key;
  }

  async function send(call: Call, authorization: string | undefined) {
    let r = api()[call.method as 'get'](call.path);
    if (authorization !== undefined) r = r.set('Authorization', authorization);
    if (call.type !== undefined) r = r.set('content-type', call.type);
    return call.body === undefined ? r : r.send(call.body as object);
  }

  beforeAll(async () => {
    ctx = { admin: await createAdmin(), user: await createUser() };
  });

  test('every authenticated operation of the document has an example request here (and every example an operation)', () => {
    expect(authenticated.length).toBeGreaterThanOrEqual(25);
    expect(authenticated.map((o) => o.op.operationId).sort()).toEqual(Object.keys(EXAMPLES).sort());
  });

  test('the scopes declared in the document are the known ones, and each is used', () => {
    const declared = new Set(authenticated.flatMap((o) => o.requirement!.bearerAuth!));
    expect([...declared].sort()).toEqual([...SCOPES].sort());
  });

  describe.each(authenticated.map((o) => [o.name, o] as const))('%s', (_name, { op, requirement }) => {
    const scope = requirement!.bearerAuth![0];

    test('no credential: 401', async () => {
      expect((await send(await EXAMPLES[op.operationId]!(ctx), undefined)).status).toBe(401);
    });

    const refused = async () => {
      const res = await send(await EXAMPLES[op.operationId]!(ctx), await keyWith(SCOPES.filter((s) => s !== scope)));
      return [res.status, res.body.error?.code as string | undefined];
    };
    if (scope === undefined) {
      test('a key with every scope: 403 FORBIDDEN (no key may call it)', async () => {
        expect(await refused()).toEqual([403, 'FORBIDDEN']);
      });
    } else {
      test(`a key with every scope but ${scope}: 403 INSUFFICIENT_SCOPE`, async () => {
        expect(await refused()).toEqual([403, 'INSUFFICIENT_SCOPE']);
      });
    }

    if (scope !== undefined) {
      // A key can do no more than its owner: a plain user's key gets what the user's token gets (a route
      // no token may call — /metrics behind METRICS_TOKEN — is an admin's: 403).
      test(`a plain user's key with ${scope}: the user's token's answer`, async () => {
        const byToken = (await send(await EXAMPLES[op.operationId]!(ctx), ctx.user.auth)).status;
        const byKey = (await send(await EXAMPLES[op.operationId]!(ctx), await keyWith([scope], 'user'))).status;
        expect([byToken, byKey]).toEqual([byToken, byToken === 401 ? 403 : byToken]);
      });

      test(`a key with ${scope} alone: 2xx`, async () => {
        const res = await send(await EXAMPLES[op.operationId]!(ctx), await keyWith([scope]));
        expect([res.status, res.status >= 200 && res.status < 300 ? 'ok' : res.text]).toEqual([res.status, 'ok']);
      });
    }
  });
});
