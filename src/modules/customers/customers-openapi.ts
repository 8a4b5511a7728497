import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { IdParamsSchema } from '../../http/common-schemas';
import { AUTHENTICATED, BEARER, WITH_BODY, creatingPost, errorResponses, jsonBody, jsonResponse } from '../../http/openapi';
import { CreateCustomerBodySchema, CustomerPageSchema, CustomerSchema, ListCustomersQuerySchema, UpdateCustomerBodySchema } from './customers-schemas';

const etag = { ETag: { description: 'The customer\'s version, e.g. "3": send it back in If-Match', schema: { type: 'string' as const } } };
const IfMatchHeaders = z.object({
  'if-match': z.string().optional().meta({ description: 'A version from ETag ("3"), a list of them, or *: a stale write gets 412 and changes nothing' }),
});
const tags = ['Customers'];

/** docs/api.md §5 in the OpenAPI document. */
export function registerCustomersPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/api/customers',
    operationId: 'listCustomers',
    summary: 'List customers: filter, search, sort; page by cursor (or page number)',
    description:
      'Keyset pagination: pass `next_cursor` back as `cursor` with the same q/status/city/sort/order. `page` is for jumping and is bounded: (page − 1) × limit ≤ 10,000. `count`: estimated (default: exact up to 10,000 matches, then the planner estimate), exact, or none.',
    tags,
    security: BEARER,
    request: { query: ListCustomersQuerySchema },
    responses: { 200: jsonResponse('One page of customers', CustomerPageSchema), ...errorResponses(400, ...AUTHENTICATED) },
  });
  registry.registerPath(
    creatingPost({ path: '/api/customers', operationId: 'createCustomer', summary: 'Create a customer (send an Idempotency-Key to retry safely)', tags, body: CreateCustomerBodySchema, created: CustomerSchema, headers: etag }),
  );
  registry.registerPath({
    method: 'get',
    path: '/api/customers/{id}',
    operationId: 'getCustomer',
    summary: 'Get a customer (with its ETag)',
    tags,
    security: BEARER,
    request: { params: IdParamsSchema },
    responses: {
      200: jsonResponse('The customer', CustomerSchema, etag),
      304: { description: 'Not modified: If-None-Match matched the current ETag' },
      ...errorResponses(400, 404, ...AUTHENTICATED),
    },
  });
  for (const [method, operationId, summary, body] of [
    ['patch', 'updateCustomer', 'Change some fields of a customer', UpdateCustomerBodySchema],
    ['put', 'replaceCustomer', 'Replace a customer (fields left out become null, status lead)', CreateCustomerBodySchema],
  ] as const) {
    registry.registerPath({
      method,
      path: '/api/customers/{id}',
      operationId,
      summary,
      tags,
      security: BEARER,
      request: { params: IdParamsSchema, headers: IfMatchHeaders, body: jsonBody(body) },
      responses: { 200: jsonResponse('The customer as changed', CustomerSchema, etag), ...errorResponses(...WITH_BODY, 404, 412, ...AUTHENTICATED) },
    });
  }
  registry.registerPath({
    method: 'delete',
    path: '/api/customers/{id}',
    operationId: 'deleteCustomer',
    summary: 'Delete a customer (admin)',
    tags,
    security: BEARER,
    request: { params: IdParamsSchema },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 403, 404, ...AUTHENTICATED) },
  });
}
