import express from 'express';
import request from 'supertest';
import { createApp } from '../../../src/app';
import { getConfig, loadConfig, setConfig } from '../../../src/config/config';
import { bearer, expiredTokenFor, tokenFor } from '../../helpers/auth';
import { createCustomer, createUser, type TestUser } from '../../helpers/factories';

// GET /api/customers/:id is answered without Express (src/http/fast-lane.ts). A query string sends
// the same request through Express, so every answer can be compared with Express's own.
// `handle` is how every Express app dispatches a request (not in Express's types).
const expressHandle = jest.spyOn(express.application as unknown as { handle: (...args: unknown[]) => void }, 'handle');
const listener = createApp();

let caller: TestUser;
let customerId: number;
beforeAll(async () => {
  caller = await createUser();
  customerId = (await createCustomer({ name: 'Fast Lane', city: 'İzmir', notes: 'ünïcode ✓' })).id;
});
beforeEach(() => expressHandle.mockClear());

const VARYING = new Set(['date', 'x-request-id']);
function comparable(res: request.Response) {
  const headers = Object.fromEntries(Object.entries(res.headers).filter(([name]) => !VARYING.has(name)));
  const body = res.body as Record<string, unknown>;
  return { status: res.status, headers, body: { ...body, request_id: body.request_id === undefined ? undefined : typeof body.request_id } };
}

async function bothWays(path: string, headers: Record<string, string>, app = listener) {
  const fast = await request(app).get(path).set(headers);
  const fastReachedExpress = expressHandle.mock.calls.length;
  const slow = await request(app).get(`${path}?via=express`).set(headers);
  expect({ fastReachedExpress, slowReachedExpress: expressHandle.mock.calls.length }).toEqual({ fastReachedExpress: 0, slowReachedExpress: 1 });
  expect(fast.headers['x-request-id']).toEqual(expect.any(String));
  return { fast: comparable(fast), slow: comparable(slow) };
}

describe('GET /api/customers/:id on the fast lane', () => {
  test.each([
    ['the customer', () => `/api/customers/${customerId}`, () => ({ authorization: caller.auth })],
    ['an absent id (404)', () => '/api/customers/999999999', () => ({ authorization: caller.auth })],
    ['an id out of range (400)', () => '/api/customers/99999999999999999', () => ({ authorization: caller.auth })],
    ['no token (401)', () => `/api/customers/${customerId}`, () => ({})],
    ['an expired token (401)', () => `/api/customers/${customerId}`, () => ({ authorization: bearer(expiredTokenFor(caller.user)) })],
    ['a deleted user (401)', () => `/api/customers/${customerId}`, () => ({ authorization: bearer(tokenFor({ id: 2_000_000_000, role: 'user' })) })],
    ['Turkish messages', () => '/api/customers/999999999', () => ({ authorization: caller.auth, 'accept-language': 'tr' })],
  ])('answers %s exactly as Express does', async (_name, path, headers) => {
    const { fast, slow } = await bothWays(path(), headers());
    expect(fast).toEqual(slow);
  });

  test('keeps the caller’s X-Request-Id and the customer’s ETag', async () => {
    const res = await request(listener).get(`/api/customers/${customerId}`).set({ authorization: caller.auth, 'x-request-id': 'fast-lane-1' });
    expect(res).toMatchObject({ status: 200, body: { id: customerId, name: 'Fast Lane' } });
    expect(res.headers).toMatchObject({ 'x-request-id': 'fast-lane-1', etag: '"1"', 'content-type': 'application/json; charset=utf-8' });
    expect(expressHandle).not.toHaveBeenCalled();
  });

  test.each([
    ['HEAD', (r: request.Agent) => r.head(`/api/customers/1`)],
    ['a conditional GET', (r: request.Agent) => r.get(`/api/customers/1`).set('if-none-match', '"1"')],
    ['a cross-origin GET', (r: request.Agent) => r.get(`/api/customers/1`).set('origin', 'https://elsewhere.example')],
    ['a trailing slash', (r: request.Agent) => r.get(`/api/customers/1/`)],
    ['an encoded id', (r: request.Agent) => r.get(`/api/customers/%31`)],
  ])('leaves %s to Express', async (_name, send) => {
    await send(request.agent(listener)).set('authorization', caller.auth);
    expect(expressHandle).toHaveBeenCalledTimes(1);
  });
});

describe('GET /api/customers/:id on the fast lane, with CORS_ORIGINS set', () => {
  test('answers with the headers Express and cors give (Vary: Origin)', async () => {
    const saved = getConfig();
    setConfig(loadConfig({ ...process.env, CORS_ORIGINS: 'https://app.example' }));
    try {
      const { fast, slow } = await bothWays(`/api/customers/${customerId}`, { authorization: caller.auth }, createApp());
      expect(fast).toEqual(slow);
      expect(fast.headers).toMatchObject({ vary: 'Origin' });
    } finally {
      setConfig(saved);
    }
  });
});
