import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { createApp } from '../../../src/app';
import { withContractCheck } from '../../helpers/contract';
import { settleKeyUses } from '../../../src/modules/keys';
import { createUser } from '../../helpers/factories';

// What a frontend does: openapi-typescript turns the served document into types, a small client
// (docs/examples/typed-client.ts) is type-checked against them, then run against the API.
const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'customer-api-client-'));
  server = createServer(withContractCheck(createApp()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // The document as served, not as built in-process.
  await writeFile(join(dir, 'openapi.json'), await (await fetch(`${base}/api/openapi.json`)).text());
  await run(bin('openapi-typescript'), [join(dir, 'openapi.json'), '-o', join(dir, 'api.d.ts')]);
  await copyFile(join(ROOT, 'docs', 'examples', 'typed-client.ts'), join(dir, 'typed-client.ts'));
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

interface ExampleModule {
  login(
    base: string,
    email: string,
    password: string,
  ): Promise<{ accessToken(): Promise<string>; refresh(): Promise<void>; logout(): Promise<void>; client: { listCustomers(query: { limit: number }): Promise<{ data: unknown[] }> } }>;
  createClient(base: string, token: string | { apiKey: string }): {
    createCustomer(customer: { name: string; city: string; status: 'active' }): Promise<unknown>;
    allCustomers(query: { city: string; limit: number; sort: 'name'; order: 'asc' }): AsyncIterable<unknown>;
    downloadExport(query: { city: string; format: 'csv' | 'ndjson' }, sink: WritableStream<Uint8Array>): Promise<void>;
  };
  describeCustomer(customer: unknown): string;
}

/** The example, compiled by jest: its types come from api.d.ts, which exists only in the temporary folder. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadExample = () => require(join(ROOT, 'docs', 'examples', 'typed-client.ts')) as ExampleModule;

/** tsc --strict on the given files of the folder: its diagnostics ('' when none). */
async function typeCheck(...files: string[]): Promise<string> {
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', '--skipLibCheck', ...files.map((f) => join(dir, f))];
  try {
    await run(bin('tsc'), args, { cwd: dir });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

describe('a typed client generated from GET /api/openapi.json', () => {
  test('openapi-typescript writes the types, and the example client type-checks against them', async () => {
    expect(await typeCheck('typed-client.ts')).toBe('');
  }, 60_000);

  test('a client that uses a field the document does not have fails to type-check', async () => {
    await writeFile(
      join(dir, 'wrong-client.ts'),
      "import type { CustomerPage } from './typed-client';\nexport const pages = (p: CustomerPage): number => p.pagination.total_pagez ?? 0;\n",
    );
    expect(await typeCheck('wrong-client.ts')).toMatch(/TS2551|TS2339/);
  }, 60_000);

  test('createCustomer retries with one Idempotency-Key: a try whose answer was lost leaves one customer', async () => {
    const { createClient } = loadExample();
    const { auth } = await createUser({ role: 'user' });
    // A gateway that loses the answer of the first POST (it reached the API; the client gets 503).
    let lost = 0;
    const keys: string[] = [];
    const gateway = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        keys.push(String(req.headers['idempotency-key']));
        void fetch(`${base}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) }).then(async (upstream) => {
          const text = await upstream.text();
          if (lost++ === 0) {
            res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify({ error: { code: 'DATABASE_UNAVAILABLE', message: 'lost' }, request_id: 'x' }));
          } else {
            res.writeHead(upstream.status, { 'content-type': 'application/json', 'idempotent-replayed': upstream.headers.get('idempotent-replayed') ?? '' }).end(text);
          }
        });
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    try {
      const client = createClient(`http://127.0.0.1:${(gateway.address() as { port: number }).port}`, auth.replace(/^Bearer /, ''));
      const city = `Retried ${Date.now()}`;
      const created = (await client.createCustomer({ name: 'Retried once', city, status: 'active' })) as { id: number };
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      const page = (await (await fetch(`${base}/api/customers?city=${encodeURIComponent(city)}`, { headers: { authorization: auth } })).json()) as { data: { id: number }[] };
      expect(page.data.map((c) => c.id)).toEqual([created.id]);
    } finally {
      await new Promise((resolve) => gateway.close(resolve));
    }
  });

  test('login keeps a session: the access token is renewed by a refresh, and logout ends it', async () => {
    const { login } = loadExample();
    const user = await createUser({ role: 'user' });
    const session = await login(base, user.user.email, user.password);
    const first = await session.accessToken();
    expect(Array.isArray((await session.client.listCustomers({ limit: 1 })).data)).toBe(true);
    // A token signed in the same second with the same claims is the same token: wait for the next second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await session.refresh();
    const second = await session.accessToken();
    expect(second).not.toBe(first);
    expect(Array.isArray((await session.client.listCustomers({ limit: 1 })).data)).toBe(true);
    await session.logout();
    await expect(session.client.listCustomers({ limit: 1 })).rejects.toMatchObject({ status: 401 });
  });

  test('the client runs against the API: creates a customer and reads it back through the cursor pages', async () => {
    const { createClient, describeCustomer } = loadExample();
    const { auth } = await createUser({ role: 'user' });
    const client = createClient(base, auth.replace(/^Bearer /, ''));
    const city = `Typed ${Date.now()}`;
    for (let i = 0; i < 3; i += 1) await client.createCustomer({ name: `Typed ${i}`, city, status: 'active' });
    const seen: string[] = [];
    for await (const customer of client.allCustomers({ city, limit: 2, sort: 'name', order: 'asc' })) seen.push(describeCustomer(customer));
    expect(seen).toEqual([0, 1, 2].map((i) => `Typed ${i} (${city}), active, version 1`));
  });

  test('with an API key ({ apiKey }): what its scopes allow works, the rest is refused with the scope named', async () => {
    const { createClient } = loadExample();
    const owner = await createUser({ role: 'user' });
    const made = await fetch(`${base}/api/keys`, {
      method: 'POST',
      headers: { authorization: owner.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'typed client', scopes: ['customers:read'], expires_at: new Date(Date.now() + 86_400_000).toISOString() }),
    });
    const client = createClient(base, { apiKey: ((await made.json()) as { key: string }).key });
    const city = `Keyed ${Date.now()}`;
    await createClient(base, owner.auth.replace(/^Bearer /, '')).createCustomer({ name: 'Keyed 0', city, status: 'active' });
    const seen: unknown[] = [];
    for await (const customer of client.allCustomers({ city, limit: 2, sort: 'name', order: 'asc' })) seen.push(customer);
    expect(seen).toHaveLength(1);
    await expect(client.createCustomer({ name: 'Keyed 1', city, status: 'active' })).rejects.toMatchObject({ status: 403, body: { error: { code: 'INSUFFICIENT_SCOPE' } } });
    await settleKeyUses();
  });

  test('the client downloads an export to a file, streamed', async () => {
    const { createClient } = loadExample();
    const { auth } = await createUser({ role: 'user' });
    const client = createClient(base, auth.replace(/^Bearer /, ''));
    const city = `Download ${Date.now()}`;
    for (let i = 0; i < 3; i += 1) await client.createCustomer({ name: `Downloaded ${i}`, city, status: 'active' });
    const file = join(dir, 'customers.ndjson');
    await client.downloadExport({ city, format: 'ndjson' }, Writable.toWeb(createWriteStream(file)));
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { name: string; city: string });
    expect(lines.map((c) => c.name).sort()).toEqual(['Downloaded 0', 'Downloaded 1', 'Downloaded 2']);
    expect(new Set(lines.map((c) => c.city))).toEqual(new Set([city]));
  });
});
