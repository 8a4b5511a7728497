import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import ts from 'typescript';
import type { Customer } from '../../../src/modules/customers/customers-repository';
import { createCustomer, createUser, unique, type TestUser } from '../../helpers/factories';
import { describeIf } from '../../helpers/needs';
import { freePort, startServer, stopServer, waitForHealth, type ServerProcess } from '../../helpers/server-process';

// A browser frontend served from its own origin, in headless Chromium (Debian's; .ci/run installs it),
// against the built server: the refresh cookie across origins, the headers a page may read, the CORS
// refusal of an origin not in CORS_ORIGINS and the CSRF refusal of a form POST from one. Two shapes:
// the same site on another port (the default SameSite=Strict), and another site (127.0.0.1 calling
// localhost, REFRESH_COOKIE_SAMESITE=none: Secure, which Chromium accepts over plain HTTP on those hosts).
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'];
const ROOT = join(__dirname, '..', '..', '..');

/** JWT_EXPIRES_IN's minimum: the access token expires while the file runs. */
const ACCESS_TOKEN_S = 60;

interface Shape {
  name: string;
  /** Where the frontend and the foreign page are served; the API is always http://localhost:<port>. */
  pageHost: string;
  env: Record<string, string>;
  /** The refresh cookie as the browser keeps it. */
  cookie: { sameSite: 'Strict' | 'None'; secure: boolean };
}

const SHAPES: Shape[] = [
  { name: 'same site, another port', pageHost: 'localhost', env: {}, cookie: { sameSite: 'Strict', secure: false } },
  { name: 'cross-site, 127.0.0.1 calling localhost', pageHost: '127.0.0.1', env: { REFRESH_COOKIE_SAMESITE: 'none' }, cookie: { sameSite: 'None', secure: true } },
];

/** The typed client of docs/examples as a browser loads it: TypeScript's types taken off, nothing else. */
const TYPED_CLIENT_JS = ts.transpileModule(readFileSync(join(ROOT, 'docs', 'examples', 'typed-client.ts'), 'utf8'), {
  compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
}).outputText;

interface Site {
  server: Server;
  origin: string;
}

/** A static server for a few pages, on 127.0.0.1, named `http://<host>:<port>` for the browser. */
async function servePages(host: string, pages: Record<string, { type: string; body: string }>): Promise<Site> {
  const server = createServer((req, res) => {
    const page = pages[new URL(req.url ?? '/', 'http://page').pathname];
    if (page === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-store' }).end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://${host}:${(server.address() as AddressInfo).port}` };
}

const html = (body: string) => ({ type: 'text/html; charset=utf-8', body: `<!doctype html><meta charset="utf-8"><title>page</title>${body}` });

interface Running {
  api: ServerProcess;
  /** The API as the browser names it. */
  apiBase: string;
  frontend: Site;
  /** An origin that is not in CORS_ORIGINS (same site as the frontend). */
  foreign: Site;
  context: BrowserContext;
  /** The frontend's tab. */
  page: Page;
  user: TestUser;
  customer: Customer;
  city: string;
  token: string;
  /** When the current access token was issued. */
  tokenAt: number;
  sessionId: string;
}

const profiles: { dir: string; context: BrowserContext }[] = [];

/**
 * A browser profile of its own (a cookie jar of its own), as a desktop Chrome has it: third-party
 * cookies allowed (cookie_controls_mode 0). Chromium's fresh headless profile blocks them, as Incognito,
 * Safari and Firefox's strict mode do, and the cross-site shape needs one (docs/api.md says so).
 */
async function newContext(): Promise<BrowserContext> {
  const dir = mkdtempSync(join(tmpdir(), 'customer-api-chromium-'));
  mkdirSync(join(dir, 'Default'));
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0 } }));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: FLAGS });
  profiles.push({ dir, context });
  return context;
}
const running = new Map<string, Running>();
const run = (shape: Shape): Running => running.get(shape.name)!;

async function start(shape: Shape): Promise<Running> {
  const port = await freePort();
  const apiBase = `http://localhost:${port}`;
  const frontend = await servePages(shape.pageHost, {
    '/': html("<script type=\"module\">import * as client from '/typed-client.js'; globalThis.typedClient = client;</script>"),
    '/typed-client.js': { type: 'text/javascript; charset=utf-8', body: TYPED_CLIENT_JS },
  });
  const foreign = await servePages(shape.pageHost, {
    '/': html(''),
    // No field: a body would be refused as not JSON (415) before the route; the cookie alone is the attack.
    '/csrf': html(`<form method="post" action="${apiBase}/api/auth/refresh"><button>Claim your prize</button></form>`),
  });
  const env = {
    DATABASE_URL: process.env.DATABASE_URL!,
    JWT_SECRET: process.env.JWT_SECRET!,
    DB_MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'warn',
    CORS_ORIGINS: frontend.origin,
    JWT_EXPIRES_IN: String(ACCESS_TOKEN_S),
    ...shape.env,
  };
  const api = startServer(env, port);
  await waitForHealth(api);
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(`${frontend.origin}/`);
  const city = `Frontend ${unique()}`;
  return { api, apiBase, frontend, foreign, context, page, user: await createUser(), customer: await createCustomer({ city }), city, token: '', tokenAt: 0, sessionId: '' };
}

interface PageInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: 'include' | 'omit' | 'same-origin';
}
/** An answer as the page's script sees it: the status, the headers below as it can read them (null when hidden), the body. */
interface PageAnswer {
  status: number;
  headers: Record<string, string | null>;
  body: string;
}
type PageResult = PageAnswer | { blocked: string };

const READ = ['etag', 'location', 'x-request-id', 'retry-after', 'idempotent-replayed', 'content-disposition', 'www-authenticate', 'content-type'];

/** fetch() run by the page itself (its origin, its cookies, its CORS checks). */
function fetchIn(page: Page, url: string, init: PageInit = {}): Promise<PageResult> {
  return page.evaluate(
    async ({ url, init, read }) => {
      try {
        const res = await fetch(url, init);
        const body = await res.text();
        return { status: res.status, headers: Object.fromEntries(read.map((name) => [name, res.headers.get(name)])), body };
      } catch (err) {
        return { blocked: String(err) };
      }
    },
    { url, init, read: READ },
  );
}

function answered(result: PageResult): PageAnswer {
  if ('blocked' in result) throw new Error(`the browser kept the answer from the page: ${result.blocked}`);
  return result;
}

const json = <T = Record<string, unknown>>(answer: PageAnswer): T => JSON.parse(answer.body) as T;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const refreshCookieOf = async (context: BrowserContext) => (await context.cookies()).find((c) => c.name === 'refresh_token');

/** A request from this process (no browser rules), to see the headers themselves. */
function rawRequest(url: string, method: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
const corsHeadersOf = (headers: IncomingHttpHeaders) => Object.keys(headers).filter((name) => name.startsWith('access-control-'));

/** What the page sees of docs/examples/typed-client.ts (globalThis.typedClient). */
interface BrowserSession {
  logout(): Promise<void>;
  client: {
    listCustomers(query: { city?: string; limit: number }): Promise<{ data: { name: string }[] }>;
    downloadExport(query: { city: string; format: 'csv' }, sink: WritableStream<Uint8Array>): Promise<string>;
  };
}
interface TypedClient {
  loginInBrowser(baseUrl: string, email: string, password: string): Promise<BrowserSession>;
  resumeSessionInBrowser(baseUrl: string): Promise<BrowserSession | null>;
}

describeIf(CHROMIUM !== undefined, 'frontend origin browser test', 'no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run installs it)')(
  'a browser frontend on its own origin, in headless Chromium',
  () => {
    beforeAll(async () => {
      for (const shape of SHAPES) running.set(shape.name, await start(shape));
    }, 90_000);

    afterAll(async () => {
      for (const { dir, context } of profiles) {
        await context.close();
        rmSync(dir, { recursive: true, force: true });
      }
      for (const r of running.values()) {
        await stopServer(r.api);
        for (const site of [r.frontend, r.foreign]) await new Promise((resolve) => site.server.close(resolve));
      }
    });

    describe.each(SHAPES)('$name', (shape) => {
      test('login with credentials: the token in the body, the refresh token only in an HttpOnly cookie the browser keeps (without credentials it keeps none)', async () => {
        const r = run(shape);
        const login = (credentials: 'include' | 'same-origin') =>
          fetchIn(r.page, `${r.apiBase}/api/auth/login`, {
            method: 'POST',
            credentials,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: r.user.user.email, password: r.user.password, refresh_token_in: 'cookie' }),
          });
        // The second row: answered, but a cross-origin answer's cookie is dropped without credentials.
        expect(answered(await login('same-origin')).status).toBe(200);
        expect(await refreshCookieOf(r.context)).toBeUndefined();

        const answer = answered(await login('include'));
        expect(answer.status).toBe(200);
        const body = json<{ token: string; session_id: string; expires_in: number }>(answer);
        expect(body).toMatchObject({ token_type: 'Bearer', expires_in: ACCESS_TOKEN_S, user: { id: r.user.user.id } });
        expect(body).not.toHaveProperty('refresh_token');
        expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(await refreshCookieOf(r.context)).toMatchObject({ domain: 'localhost', path: '/api/auth', httpOnly: true, ...shape.cookie, value: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
        Object.assign(r, { token: body.token, tokenAt: Date.now(), sessionId: body.session_id });
      });

      test('lists customers, reads the ETag and X-Request-Id, updates with If-Match, and gets 412 (in Turkish) with a stale one', async () => {
        const r = run(shape);
        const list = answered(await fetchIn(r.page, `${r.apiBase}/api/customers?city=${encodeURIComponent(r.city)}`, { headers: bearer(r.token) }));
        expect(list.status).toBe(200);
        expect(json<{ data: { id: number }[] }>(list).data.map((c) => c.id)).toEqual([r.customer.id]);

        const url = `${r.apiBase}/api/customers/${r.customer.id}`;
        const read = answered(await fetchIn(r.page, url, { headers: bearer(r.token) }));
        expect(read.status).toBe(200);
        expect(read.headers.etag).toBe(`"${r.customer.version}"`);
        expect(read.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

        const update = (ifMatch: string) =>
          fetchIn(r.page, url, {
            method: 'PATCH',
            headers: { ...bearer(r.token), 'content-type': 'application/json', 'if-match': ifMatch, 'accept-language': 'tr' },
            body: JSON.stringify({ notes: `updated from ${r.frontend.origin}` }),
          });
        const updated = answered(await update(read.headers.etag!));
        expect(updated.status).toBe(200);
        expect(updated.headers.etag).toBe(`"${r.customer.version + 1}"`);
        const stale = answered(await update(read.headers.etag!));
        expect(stale.status).toBe(412);
        expect(json(stale)).toMatchObject({ error: { code: 'PRECONDITION_FAILED', message: 'Kaynak okunduktan sonra değişti' } });
      });

      test('sends Idempotency-Key, traceparent and X-Request-Id through the preflight; reads Location, ETag and Idempotent-Replayed', async () => {
        const r = run(shape);
        const key = randomUUID();
        const create = (requestId: string) =>
          fetchIn(r.page, `${r.apiBase}/api/customers`, {
            method: 'POST',
            headers: {
              ...bearer(r.token),
              'content-type': 'application/json',
              'idempotency-key': key,
              traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
              'x-request-id': requestId,
            },
            body: JSON.stringify({ name: `Created from ${r.frontend.origin}`, city: r.city }),
          });
        const first = answered(await create('frontend-first'));
        expect(first.status).toBe(201);
        expect(first.headers).toMatchObject({ location: `/api/customers/${json<{ id: number }>(first).id}`, etag: '"1"', 'x-request-id': 'frontend-first', 'idempotent-replayed': null });
        const again = answered(await create('frontend-again'));
        expect(again).toMatchObject({ status: 201, body: first.body });
        expect(again.headers).toMatchObject({ location: first.headers.location, 'x-request-id': 'frontend-again', 'idempotent-replayed': 'true' });
      });

      test('reads Retry-After from a 429', async () => {
        const r = run(shape);
        const email = `nobody-${unique()}@example.com`;
        const attempt = () =>
          fetchIn(r.page, `${r.apiBase}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'not-the-password' }) });
        // Per email, 5 failures in 15 minutes lock it: the sixth attempt is 429.
        const statuses: number[] = [];
        let last = answered(await attempt());
        statuses.push(last.status);
        while (last.status === 401 && statuses.length < 10) {
          last = answered(await attempt());
          statuses.push(last.status);
        }
        expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
        expect(json(last)).toMatchObject({ error: { code: 'TOO_MANY_REQUESTS' } });
        expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
      });

      test('downloads an export and reads its file name from Content-Disposition', async () => {
        const r = run(shape);
        const download = answered(await fetchIn(r.page, `${r.apiBase}/api/customers/export?city=${encodeURIComponent(r.city)}&format=csv`, { headers: bearer(r.token) }));
        expect(download.status).toBe(200);
        expect(download.headers['content-disposition']).toMatch(/^attachment; filename="customers-\d{4}-\d{2}-\d{2}\.csv"$/);
        expect(download.body).toContain(r.customer.name);
      });

      test('refreshes with the cookie alone: a new access token for the same session, the cookie rotated', async () => {
        const r = run(shape);
        const before = await refreshCookieOf(r.context);
        const answer = answered(await fetchIn(r.page, `${r.apiBase}/api/auth/refresh`, { method: 'POST', credentials: 'include' }));
        expect(answer.status).toBe(200);
        const body = json<{ token: string; session_id: string }>(answer);
        expect(body.session_id).toBe(r.sessionId);
        expect(body).not.toHaveProperty('refresh_token');
        const after = await refreshCookieOf(r.context);
        expect(after?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(after?.value).not.toBe(before?.value);
        expect(answered(await fetchIn(r.page, `${r.apiBase}/api/auth/me`, { headers: bearer(body.token) })).status).toBe(200);
        Object.assign(r, { token: body.token, tokenAt: Date.now() });
      });

      test('a page on an origin not in CORS_ORIGINS is blocked by the browser: its answers carry no CORS header at all', async () => {
        const r = run(shape);
        const page = await r.context.newPage();
        await page.goto(`${r.foreign.origin}/`);
        expect(await fetchIn(page, `${r.apiBase}/api/health`)).toEqual({ blocked: expect.stringMatching(/TypeError/) });
        const login = await fetchIn(page, `${r.apiBase}/api/auth/login`, {
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: r.user.user.email, password: r.user.password, refresh_token_in: 'cookie' }),
        });
        expect(login).toEqual({ blocked: expect.stringMatching(/TypeError/) });
        await page.close();
        // The frontend's own page reads the same answer.
        expect(answered(await fetchIn(r.page, `${r.apiBase}/api/health`)).status).toBe(200);

        const preflight = { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,if-match,idempotency-key,traceparent' };
        expect(corsHeadersOf((await rawRequest(`${r.api.base}/api/health`, 'GET', { origin: r.foreign.origin })).headers)).toEqual([]);
        expect(corsHeadersOf((await rawRequest(`${r.api.base}/api/auth/login`, 'OPTIONS', { origin: r.foreign.origin, ...preflight })).headers)).toEqual([]);

        const allowed = await rawRequest(`${r.api.base}/api/auth/login`, 'OPTIONS', { origin: r.frontend.origin, ...preflight });
        expect(allowed.status).toBe(204);
        expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': r.frontend.origin, 'access-control-allow-credentials': 'true', vary: 'Origin' });
        expect(allowed.headers['access-control-allow-headers']?.split(', ')).toEqual(
          expect.arrayContaining(['Authorization', 'Content-Type', 'If-Match', 'Idempotency-Key', 'traceparent', 'Accept-Language', 'X-Request-Id']),
        );
        const answer = await rawRequest(`${r.api.base}/api/health`, 'GET', { origin: r.frontend.origin });
        expect(answer.headers['access-control-expose-headers']?.split(', ')).toEqual(
          expect.arrayContaining(['ETag', 'Location', 'X-Request-Id', 'Retry-After', 'Idempotent-Replayed', 'Content-Disposition', 'traceparent']),
        );
      });

      test('a form POST to /api/auth/refresh from that origin carries the cookie and is refused (403 ORIGIN_NOT_ALLOWED); the session goes on', async () => {
        const r = run(shape);
        const cookie = await refreshCookieOf(r.context);
        const page = await r.context.newPage();
        await page.goto(`${r.foreign.origin}/csrf`);
        const [response] = await Promise.all([page.waitForResponse((res) => res.url() === `${r.apiBase}/api/auth/refresh`), page.click('button')]);
        const sent = await response.request().allHeaders();
        expect(sent.origin).toBe(r.foreign.origin);
        expect(sent.cookie).toContain(`refresh_token=${cookie!.value}`);
        expect(response.status()).toBe(403);
        expect(await response.json()).toMatchObject({ error: { code: 'ORIGIN_NOT_ALLOWED' } });
        await page.close();
        // Nothing was used up: the cookie is the same, and the frontend refreshes with it.
        expect((await refreshCookieOf(r.context))?.value).toBe(cookie!.value);
        const answer = answered(await fetchIn(r.page, `${r.apiBase}/api/auth/refresh`, { method: 'POST', credentials: 'include' }));
        expect(answer.status).toBe(200);
        Object.assign(r, { token: json<{ token: string }>(answer).token, tokenAt: Date.now() });
      });

      test('the typed client (docs/examples/typed-client.ts) in the page: logs in, lists, downloads an export, goes on after a reload with the cookie alone, logs out', async () => {
        const r = run(shape);
        // A tab of its own, with a cookie jar of its own: the session above is left alone.
        const context = await newContext();
        const page = await context.newPage();
        const loaded = async () => {
          await page.goto(`${r.frontend.origin}/`);
          await page.waitForFunction(() => 'typedClient' in globalThis);
        };
        await loaded();
        const first = await page.evaluate(
          async ({ api, email, password, city }) => {
            const client = (globalThis as unknown as { typedClient: TypedClient }).typedClient;
            const session = await client.loginInBrowser(api, email, password);
            const names = (await session.client.listCustomers({ city, limit: 5 })).data.map((c) => c.name);
            let bytes = 0;
            const fileName = await session.client.downloadExport({ city, format: 'csv' }, new WritableStream<Uint8Array>({ write: (chunk) => void (bytes += chunk.length) }));
            return { names, fileName, bytes };
          },
          { api: r.apiBase, email: r.user.user.email, password: r.user.password, city: r.city },
        );
        expect(first.names).toContain(r.customer.name);
        expect(first.fileName).toMatch(/^customers-\d{4}-\d{2}-\d{2}\.csv$/);
        expect(first.bytes).toBeGreaterThan(100);

        // A reload loses the access token (it lived in memory), not the session.
        await loaded();
        const after = await page.evaluate(async (api) => {
          const client = (globalThis as unknown as { typedClient: TypedClient }).typedClient;
          const session = await client.resumeSessionInBrowser(api);
          if (session === null) return { resumed: false, listed: 0, afterLogout: 'still resumable' };
          const listed = (await session.client.listCustomers({ limit: 1 })).data.length;
          await session.logout();
          return { resumed: true, listed, afterLogout: (await client.resumeSessionInBrowser(api)) === null ? 'no session' : 'still resumable' };
        }, r.apiBase);
        expect(after).toEqual({ resumed: true, listed: 1, afterLogout: 'no session' });
        expect(await refreshCookieOf(context)).toBeUndefined();
        await context.close();
      });
    });

    describe('once the access token has expired', () => {
      test.each(SHAPES)(
        '$name: 401 with WWW-Authenticate readable; a refresh with the cookie renews it; logout clears the cookie, and the next refresh fails',
        async (shape) => {
          const r = run(shape);
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, r.tokenAt + (ACCESS_TOKEN_S + 1) * 1000 - Date.now())));
          const me = `${r.apiBase}/api/auth/me`;
          const refresh = () => fetchIn(r.page, `${r.apiBase}/api/auth/refresh`, { method: 'POST', credentials: 'include' });
          const expired = answered(await fetchIn(r.page, me, { headers: bearer(r.token) }));
          expect(expired.status).toBe(401);
          expect(expired.headers['www-authenticate']).toMatch(/^Bearer /);

          const renewed = answered(await refresh());
          expect(renewed.status).toBe(200);
          const token = json<{ token: string }>(renewed).token;
          expect(answered(await fetchIn(r.page, me, { headers: bearer(token) })).status).toBe(200);

          const cookie = await refreshCookieOf(r.context);
          const logout = answered(await fetchIn(r.page, `${r.apiBase}/api/auth/logout`, { method: 'POST', credentials: 'include', headers: bearer(token) }));
          expect(logout.status).toBe(204);
          expect(await refreshCookieOf(r.context)).toBeUndefined();
          expect(json(answered(await refresh()))).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
          // The cookie it had, sent again from its origin: its session has ended.
          const again = await rawRequest(`${r.api.base}/api/auth/refresh`, 'POST', { origin: r.frontend.origin, cookie: `refresh_token=${cookie!.value}` });
          expect(again.status).toBe(401);
        },
        (ACCESS_TOKEN_S + 30) * 1000,
      );
    });
  },
);
