import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EnvSchema } from '../../../src/config/env-schema';
import { EXPOSED_HEADERS } from '../../../src/http/cors';
import { ERROR_STATUS } from '../../../src/http/errors';
import { buildOpenApiDocument } from '../../../src/modules/docs/openapi-document';
import { createApp } from '../../../src/app';
import { api } from '../../helpers/api';
import { createUser } from '../../helpers/factories';

const ROOT = join(__dirname, '..', '..', '..');

// The contract (docs/api.md) names each route as `METHOD /path`; the document and its page (/api/openapi.json,
// /api/docs) describe the routes rather than being one.
const CONTRACT = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
const CONTRACT_ROUTES = [
  ...new Set(
    [...CONTRACT.matchAll(/\b(GET|POST|PUT|PATCH|DELETE) (\/(?:api\/[a-z/:_.-]*[a-z]|metrics))/g)]
      .map(([, method, path]) => `${method} ${path!.replace(/:([a-z]+)/g, '{$1}')}`)
      .filter((route) => !/\/api\/(openapi\.json|docs)$/.test(route)),
  ),
];

type Operation = { security?: object[]; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>; requestBody?: object };

function operations(): [string, Operation][] {
  return Object.entries(buildOpenApiDocument().paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Operation>).map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]),
  );
}

describe('GET /api/openapi.json', () => {
  test('is public and serves the document the code builds', async () => {
    const res = await api().get('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });

  test('is a valid OpenAPI 3.1 document (swagger-parser, a third-party validator)', async () => {
    // swagger-parser is ESM inside: it runs in its own node process (Node 20 requires ESM there, not in jest).
    const dir = mkdtempSync(join(tmpdir(), 'customer-api-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify((await api().get('/api/openapi.json')).body));
      const script = "require('@apidevtools/swagger-parser').validate(process.argv[1]).then((d) => console.log('valid ' + d.openapi), (e) => { console.log(e.message); process.exit(1); })";
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, file], { cwd: ROOT });
      expect(stdout.trim()).toBe('valid 3.1.0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('has every route of the contract (docs/api.md) and no other, each with its error answers in the Error shape', () => {
    const ops = operations();
    expect(CONTRACT_ROUTES.length).toBeGreaterThanOrEqual(20);
    expect(ops.map(([name]) => name).sort()).toEqual([...CONTRACT_ROUTES].sort());
    for (const [name, op] of ops) {
      expect([name, op.responses['500']?.content?.['application/json']?.schema?.$ref]).toEqual([name, '#/components/schemas/Error']);
      const errors = Object.keys(op.responses).filter((s) => Number(s) >= 400);
      for (const status of errors) expect([name, status, Object.keys(op.responses[status]!.content ?? {})]).toEqual([name, status, ['application/json']]);
      // A route behind the token documents the 401; one with a body documents 400, 413 and 415.
      const needsToken = op.security?.some((s) => 'bearerAuth' in s) ?? false;
      expect([name, needsToken && !('401' in op.responses)]).toEqual([name, false]);
      expect([name, op.requestBody !== undefined && !['400', '413', '415'].every((s) => s in op.responses)]).toEqual([name, false]);
    }
  });

  test('every route the app serves is an operation of the document (the routers listed from the app itself)', () => {
    type Layer = { rawPath?: string; handle: { router?: { stack: Layer[] } }; route?: { path: string; methods: Record<string, boolean> } };
    const app = createApp() as unknown as { router: { stack: Layer[] } };
    const served = app.router.stack.flatMap((mounted) =>
      (mounted.handle.router?.stack ?? []).flatMap((layer) =>
        Object.keys(layer.route?.methods ?? {}).map((method) => `${method.toUpperCase()} ${`${mounted.rawPath}${layer.route!.path}`.replace(/\/$/, '').replace(/:([a-z_]+)/g, '{$1}')}`),
      ),
    );
    const documented = new Set(operations().map(([name]) => name));
    expect(served.length).toBeGreaterThanOrEqual(20);
    expect(served.filter((route) => !documented.has(route) && !/ \/api\/docs/.test(route))).toEqual([]);
  });

  test('every operation of the document is a route of the app: an admin gets an answer or a refusal, never "no such route"', async () => {
    for (const [name] of operations()) {
      const [method, path] = name.split(' ') as [string, string];
      // A fresh admin each time: an earlier operation may have ended the last one's session (logout).
      const admin = await createUser({ role: 'admin' });
      // An id no row has: nothing is changed or deleted.
      const res = await api()[method.toLowerCase() as 'get'](path.replace(/\{[a-z_]+\}/g, String(Number.MAX_SAFE_INTEGER))).set('Authorization', admin.auth);
      expect([name, res.status === 404 && res.body?.error?.message === 'No such route']).toEqual([name, false]);
      // The route itself answered (a guard's 401 would say nothing of what lies behind it).
      expect([name, res.status === 401 && !path.startsWith('/api/auth/')]).toEqual([name, false]);
    }
  });

  test("docs/api.md §1's example error is what the API sends for a bad email", async () => {
    const example = /## 1\. Errors[^]*?```json\n([^]*?)```/.exec(CONTRACT)![1]!.replace('"request_id": "..."', '"request_id": "x"');
    const { error } = JSON.parse(example) as { error: { details: { path: string }[] } };
    const admin = await createUser({ role: 'admin' });
    const res = await api().post('/api/customers').set('Authorization', admin.auth).send({ name: 'Example', [error.details[0]!.path]: 'not-an-email' });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual(error);
  });

  test('describes the bearer scheme, the list parameters and examples', () => {
    const document = buildOpenApiDocument() as unknown as {
      components: { securitySchemes: Record<string, object>; schemas: Record<string, { properties?: Record<string, { example?: unknown }> }> };
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
    };
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', description: expect.stringContaining('API key (`cak_…`') });
    const names = document.paths['/api/customers']!.get!.parameters!.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['limit', 'cursor', 'page', 'count', 'q', 'status', 'city', 'sort', 'order']));
    expect(document.components.schemas.Customer!.properties!.name!.example).toBe('Ayşe Kaya');
  });

  test("the contract's error table (docs/api.md §1) is the service's closed list of codes, with their statuses", () => {
    const table = [...CONTRACT.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)].map(([, status, code]) => [code, Number(status)]);
    expect(Object.fromEntries(table)).toEqual(ERROR_STATUS);
  });

  test('docs/configuration.md names every variable the configuration reads, and no other', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const named = [...doc.matchAll(/^\| ([^|]+) \|/gm)].flatMap(([, cell]) => [...cell!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!));
    expect(named.sort()).toEqual([...Object.keys(EnvSchema.shape), 'ENV_FILE'].sort());
  });

  test('every answer header the document names is readable by a page on another origin (Access-Control-Expose-Headers, or safelisted)', () => {
    const documented = new Set<string>(['X-Request-Id']);
    for (const item of Object.values(buildOpenApiDocument().paths ?? {})) {
      for (const op of Object.values(item as Record<string, { responses?: Record<string, { headers?: Record<string, unknown> }> }>)) {
        for (const response of Object.values(op.responses ?? {})) for (const name of Object.keys(response.headers ?? {})) documented.add(name);
      }
    }
    // Readable without being exposed (the Fetch standard's CORS-safelisted answer headers); Set-Cookie never is.
    const readable = new Set(['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma', 'set-cookie']);
    const exposed = new Set(EXPOSED_HEADERS.map((h) => h.toLowerCase()));
    expect(documented.size).toBeGreaterThanOrEqual(8);
    expect([...documented].filter((h) => !readable.has(h.toLowerCase()) && !exposed.has(h.toLowerCase()))).toEqual([]);
  });

  test('docs/openapi.json in the repository is the current document (npm run openapi writes it)', () => {
    const committed: unknown = JSON.parse(readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });
});

describe('GET /api/docs', () => {
  test('is public: a page that loads Swagger UI from this server only, with a CSP that allows nothing else', async () => {
    const res = await api().get('/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("connect-src 'self'");
    const sources = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source).toMatch(/^\/api\/docs\/assets\//);
    for (const source of sources) expect((await api().get(source!)).status).toBe(200);
  });

  test("serves only the package's files it needs: another file is 404", async () => {
    const res = await api().get('/api/docs/assets/index.html');
    expect(res.status).toBe(404);
    expect((await api().get('/api/docs/assets/..%2Fpackage.json')).status).toBe(404);
  });
});
