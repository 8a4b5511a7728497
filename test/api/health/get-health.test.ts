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

  test('sets security headers', async () => {
    const res = await api().get('/api/health');
    expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'content-type': 'application/json; charset=utf-8' });
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('unknown routes', () => {
  test('answer a JSON 404 NOT_FOUND', async () => {
    const res = await api().get('/api/nope');
    expectApiError(res, 404, 'NOT_FOUND');
  });
});
