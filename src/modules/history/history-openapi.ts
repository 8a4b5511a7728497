import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { IdParamsSchema } from '../../http/common-schemas';
import { AUTHENTICATED, errorResponses, jsonResponse } from '../../http/openapi';
import { scoped } from '../../http/scopes';
import { HistoryPageSchema, ListHistoryQuerySchema, RecordHistoryQuerySchema } from './history-schemas';

const tags = ['History'];
const PAGING = 'Cursor-paged like the lists (pass `next_cursor` back as `cursor`); newest first.';

/** docs/api.md §8 in the OpenAPI document. */
export function registerHistoryPaths(registry: OpenAPIRegistry): void {
  for (const [path, operationId, record, who] of [
    ['/api/customers/{id}/history', 'getCustomerHistory', 'customer', 'Any authenticated user; a deleted customer\'s history: admins only.'],
    ['/api/users/{id}/history', 'getUserHistory', 'user', 'Admin.'],
  ] as const) {
    registry.registerPath({
      method: 'get',
      path,
      operationId,
      summary: `Who changed this ${record}, when and what: its history`,
      description: `${PAGING} Each entry names the actor, the request id and only the fields that changed. ${who}`,
      tags,
      security: scoped('history:read'),
      request: { params: IdParamsSchema, query: RecordHistoryQuerySchema },
      responses: { 200: jsonResponse(`One page of the ${record}'s changes`, HistoryPageSchema), ...errorResponses(400, 403, 404, ...AUTHENTICATED) },
    });
  }
  registry.registerPath({
    method: 'get',
    path: '/api/history',
    operationId: 'listHistory',
    summary: 'Changes across records (admin): by entity, actor and time',
    description: `${PAGING} \`since\` is inclusive, \`until\` exclusive. Kept HISTORY_RETENTION_DAYS (default 730).`,
    tags,
    security: scoped('history:read'),
    request: { query: ListHistoryQuerySchema },
    responses: { 200: jsonResponse('One page of changes', HistoryPageSchema), ...errorResponses(400, 403, ...AUTHENTICATED) },
  });
}
