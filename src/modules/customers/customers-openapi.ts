import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { IdParamsSchema } from '../../http/common-schemas';
import { AUTHENTICATED, ErrorBodySchema, IdempotencyKeyHeaders, WITH_BODY, creatingPost, errorResponses, jsonBody, jsonResponse } from '../../http/openapi';
import { scoped } from '../../http/scopes';
import { ImportCustomersQuerySchema } from './customers-import';
import {
  CreateCustomerBodySchema,
  CustomerPageSchema,
  CustomerSchema,
  ExportCustomersQuerySchema,
  ImportReportSchema,
  ListCustomersQuerySchema,
  UpdateCustomerBodySchema,
} from './customers-schemas';

const etag = { ETag: { description: 'The customer\'s version, e.g. "3": send it back in If-Match', schema: { type: 'string' as const } } };
const IfMatchHeaders = z.object({
  'if-match': z.string().optional().meta({ description: 'A version from ETag ("3"), a list of them, or *: a stale write gets 412 and changes nothing' }),
});
const tags = ['Customers'];

const ImportInvalidSchema = ErrorBodySchema.extend(ImportReportSchema.partial().shape).meta({ id: 'ImportInvalid', description: 'IMPORT_INVALID: the error and the report; nothing was written' });

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
    security: scoped('customers:read'),
    request: { query: ListCustomersQuerySchema },
    responses: { 200: jsonResponse('One page of customers', CustomerPageSchema), ...errorResponses(400, ...AUTHENTICATED) },
  });
  registry.registerPath(
    creatingPost({ path: '/api/customers', operationId: 'createCustomer', summary: 'Create a customer (send an Idempotency-Key to retry safely)', tags, body: CreateCustomerBodySchema, created: CustomerSchema, headers: etag, scope: 'customers:write' }),
  );
  registry.registerPath({
    method: 'get',
    path: '/api/customers/export',
    operationId: 'exportCustomers',
    summary: 'Every customer the filters match, streamed as CSV or NDJSON from one snapshot',
    description:
      "No paging and no total: every match, in the list's order. CSV: RFC 4180 (CRLF), a header row, UTF-8 (`bom=true` for Excel); a cell starting with =, +, -, @, tab, CR or ' gets a ' in front (OWASP's CSV-injection advice; an import takes it off). NDJSON: one customer per line, as the API's JSON. At most EXPORT_MAX_CONCURRENT exports per process (429 past that). A transfer cut off mid-way (the database failed) ends without its last chunk: the client sees it incomplete.",
    tags,
    security: scoped('customers:export'),
    request: { query: ExportCustomersQuerySchema },
    responses: {
      200: {
        description: 'The customers, streamed (chunked)',
        headers: { 'Content-Disposition': { description: 'attachment; filename="customers-YYYY-MM-DD.csv" (or .ndjson)', schema: { type: 'string' } } },
        content: {
          'text/csv': { schema: { type: 'string', description: 'id,name,email,phone,company,city,status,notes,version,created_at,updated_at,created_by, then a row per customer' } },
          'application/x-ndjson': { schema: { type: 'string', description: 'A Customer object per line' } },
        },
      },
      ...errorResponses(400, 429, ...AUTHENTICATED),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/customers/import',
    operationId: 'importCustomers',
    summary: 'Create customers from a CSV or NDJSON file (admin), in one transaction',
    description:
      "Each row is checked as the body of POST /api/customers. CSV: a header row naming the columns (name required; id, version, created_at, updated_at and created_by are read and left out, so an export imports as it is); an empty cell is null. `mode=all-or-nothing` (default): any invalid row → 422 IMPORT_INVALID with the report, nothing written; `skip-invalid`: the valid rows are written and the others reported. The body is streamed, up to IMPORT_MAX_BYTES.",
    tags,
    security: scoped('customers:import'),
    request: {
      query: ImportCustomersQuerySchema,
      headers: IdempotencyKeyHeaders,
      body: {
        required: true,
        content: {
          'text/csv': { schema: { type: 'string', description: 'name,email,phone,company,city,status,notes (any order, any subset with name)' } },
          'application/x-ndjson': { schema: { type: 'string', description: 'One object per line, with the fields of POST /api/customers' } },
        },
      },
    },
    responses: {
      200: jsonResponse('What was written, and the rows refused', ImportReportSchema, {
        'Idempotent-Replayed': { description: 'true when this is the stored answer of an earlier request with the same Idempotency-Key', schema: { type: 'string' } },
      }),
      422: { description: 'IMPORT_INVALID (all-or-nothing; the report says which rows), or IDEMPOTENCY_KEY_REUSED', content: { 'application/json': { schema: ImportInvalidSchema } } },
      ...errorResponses(...WITH_BODY, 403, 409, ...AUTHENTICATED),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/customers/{id}',
    operationId: 'getCustomer',
    summary: 'Get a customer (with its ETag)',
    tags,
    security: scoped('customers:read'),
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
      security: scoped('customers:write'),
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
    security: scoped('customers:write'),
    request: { params: IdParamsSchema },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 403, 404, ...AUTHENTICATED) },
  });
}
