import type { RequestListener } from 'node:http';
import request from 'supertest';
import { createApp } from '../../../src/app';
import { loadConfig, setConfig } from '../../../src/config/config';

// CORS and the refresh cookie's origin check through the whole app, on routes that never reach the
// database (health, and a refresh whose cookie is not even shaped like a token). The browser's side of
// it: test/api/auth/frontend-origin-browser.test.ts.
const BASE = { ENV_FILE: '/dev/null', DATABASE_URL: 'postgres://u@localhost:5432/db', LOG_LEVEL: 'silent', METRICS_ENABLED: 'false', JWT_SECRET: 'unit-secret-a-that-is-long-enough-0123456789' };
const FRONTEND = 'https://app.example.com';
const FOREIGN = 'https://evil.example.net';

function appWith(corsOrigins: string): RequestListener {
  setConfig(loadConfig({ ...BASE, CORS_ORIGINS: corsOrigins }));
  return createApp();
}

const corsHeadersOf = (headers: Record<string, string>) => Object.keys(headers).filter((name) => name.startsWith('access-control-'));
const preflight = { 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'authorization,content-type,if-match' };

describe('CORS', () => {
  test('a listed origin: itself, with credentials and the exposed headers; its preflight answered 204 with the allowed methods and headers', async () => {
    const app = appWith(FRONTEND);
    const res = await request(app).get('/api/health').set('Origin', FRONTEND);
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'access-control-allow-origin': FRONTEND, 'access-control-allow-credentials': 'true', vary: 'Origin' });
    expect(res.headers['access-control-expose-headers']).toBe('ETag, Location, X-Request-Id, Retry-After, Idempotent-Replayed, Content-Disposition, WWW-Authenticate, traceparent');

    const pre = await request(app).options('/api/customers/1').set('Origin', FRONTEND).set(preflight);
    expect(pre.status).toBe(204);
    expect(pre.headers).toMatchObject({
      'access-control-allow-origin': FRONTEND,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
      'access-control-max-age': '600',
    });
    expect(pre.headers['access-control-allow-headers']!.split(', ')).toEqual(
      expect.arrayContaining(['Authorization', 'Content-Type', 'If-Match', 'Idempotency-Key', 'traceparent', 'Accept-Language']),
    );
  });

  test('an origin not listed gets no CORS header at all, on an answer or a preflight', async () => {
    const app = appWith(FRONTEND);
    const res = await request(app).get('/api/health').set('Origin', FOREIGN);
    expect(res.status).toBe(200);
    expect(corsHeadersOf(res.headers)).toEqual([]);
    const pre = await request(app).options('/api/customers/1').set('Origin', FOREIGN).set(preflight);
    expect(corsHeadersOf(pre.headers)).toEqual([]);
    // Nor does a listed origin written another way (a browser writes it one way only).
    expect(corsHeadersOf((await request(app).get('/api/health').set('Origin', `${FRONTEND}/`)).headers)).toEqual([]);
  });

  test('with `*`, any other origin reads answers without credentials; a listed one still gets them', async () => {
    const app = appWith(`${FRONTEND},*`);
    const other = await request(app).get('/api/health').set('Origin', FOREIGN);
    expect(other.headers).toMatchObject({ 'access-control-allow-origin': '*', vary: 'Origin' });
    expect(other.headers['access-control-allow-credentials']).toBeUndefined();
    expect(other.headers['access-control-expose-headers']).toContain('ETag');
    const listed = await request(app).get('/api/health').set('Origin', FRONTEND);
    expect(listed.headers).toMatchObject({ 'access-control-allow-origin': FRONTEND, 'access-control-allow-credentials': 'true' });
  });

  test('without CORS_ORIGINS: no CORS header, no Vary', async () => {
    const res = await request(appWith('')).get('/api/health').set('Origin', FRONTEND);
    expect(corsHeadersOf(res.headers)).toEqual([]);
    expect(res.headers.vary).toBeUndefined();
  });
});

describe('the refresh cookie and the request origin', () => {
  // Not shaped like a refresh token: once past the origin check it is refused without the database.
  const refresh = (app: RequestListener) => request(app).post('/api/auth/refresh').set('Host', 'api.example.com').set('Cookie', 'refresh_token=not-a-token');

  test.each([
    ['a listed origin', FRONTEND, 401, 'UNAUTHORIZED'],
    ["the API's own (https)", 'https://api.example.com', 401, 'UNAUTHORIZED'],
    ["the API's own (http, TLS ended at a proxy)", 'http://api.example.com', 401, 'UNAUTHORIZED'],
    ['another origin', FOREIGN, 403, 'ORIGIN_NOT_ALLOWED'],
    ["another port of the API's host", 'https://api.example.com:8443', 403, 'ORIGIN_NOT_ALLOWED'],
    ['`*` is no trust', 'https://anywhere.example.org', 403, 'ORIGIN_NOT_ALLOWED'],
  ])('from %s', async (_case, origin, status, code) => {
    const res = await refresh(appWith(`${FRONTEND},*`)).set('Origin', origin);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  // A proxy that passes the port on (nginx `proxy_set_header Host $http_host`): the default port is the origin's.
  test.each([
    ['api.example.com:443', 'https://api.example.com', 401],
    ['api.example.com:80', 'http://api.example.com', 401],
    ['api.example.com:8443', 'https://api.example.com:8443', 401],
    ['api.example.com:443', 'https://api.example.com:8443', 403],
    ['api.example.com:8443', 'https://api.example.com', 403],
    ['api.example.com', 'https://api.example.com.evil.net', 403],
    ['[::1]:3000', 'http://[::1]:3000', 401],
  ])('Host %s, Origin %s: %i', async (host, origin, status) => {
    const res = await refresh(appWith(FRONTEND)).set('Host', host).set('Origin', origin);
    expect(res.status).toBe(status);
  });

  test('with no Origin: 403; without the cookie, no Origin is needed', async () => {
    const app = appWith(FRONTEND);
    const res = await refresh(app);
    expect([res.status, res.body.error.code]).toEqual([403, 'ORIGIN_NOT_ALLOWED']);
    const body = await request(app).post('/api/auth/refresh').send({ refresh_token: 'not-a-token' });
    expect([body.status, body.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
  });
});
