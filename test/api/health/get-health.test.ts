import { poolStats } from '../../../src/db';
import { api, expectApiError } from '../../helpers/api';

describe('GET /api/health', () => {
  test('answers without auth and without touching the database', async () => {
    const res = await api().get('/api/health');
    expect(res).toMatchObject({ status: 200, body: { status: 'ok', message: 'API is running' } });
    expect(poolStats().total).toBe(0);
  });

  test('speaks Turkish for Accept-Language: tr', async () => {
    const res = await api().get('/api/health').set('Accept-Language', 'tr-TR,tr;q=0.9');
    expect(res.body).toEqual({ status: 'ok', message: 'API çalışıyor' });
  });

  test("echoes a well-formed X-Request-Id and replaces a malformed one", async () => {
    const own = await api().get('/api/health').set('X-Request-Id', 'abc-123:x.y_z');
    expect(own.headers['x-request-id']).toBe('abc-123:x.y_z');
    const bad = await api().get('/api/health').set('X-Request-Id', 'has spaces and <html>');
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const long = await api().get('/api/health').set('X-Request-Id', 'a'.repeat(129));
    expect(long.headers['x-request-id']).not.toBe('a'.repeat(129));
  });

  test('sets the security headers of a JSON API, and not those of HTML pages', async () => {
    const res = await api().get('/api/health');
    expect(res.headers).toMatchObject({
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'content-type': 'application/json; charset=utf-8',
    });
    for (const name of ['x-powered-by', 'cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-xss-protection']) {
      expect(res.headers[name]).toBeUndefined();
    }
  });
});

describe('unknown routes', () => {
  test('answer a JSON 404 NOT_FOUND', async () => {
    const res = await api().get('/api/nope');
    expectApiError(res, 404, 'NOT_FOUND');
  });
});
