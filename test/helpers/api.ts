import type { RequestListener } from 'node:http';
import request from 'supertest';
import { createApp } from '../../src/app';
import { withContractCheck } from './contract';

let app: RequestListener | undefined;

/** The app under test, in-process (built once per test file); every answer is checked against the OpenAPI document. */
export function api(): request.Agent {
  app ??= withContractCheck(createApp());
  return request.agent(app);
}

/** Asserts the docs/api.md §1 error shape and returns the body's error. */
export function expectApiError(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ error: { code, message: expect.any(String) }, request_id: expect.any(String) });
  expect(res.headers['x-request-id']).toBe(res.body.request_id);
}
