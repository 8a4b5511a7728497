import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { AUTHENTICATED, errorResponses, jsonResponse } from '../../http/openapi';
import { scoped } from '../../http/scopes';
import { DashboardSchema } from './dashboard-schemas';

/** docs/api.md §6 in the OpenAPI document. */
export function registerDashboardPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/api/dashboard',
    operationId: 'getDashboard',
    summary: 'Customer and user numbers, top cities, newest customers',
    description: 'At most DASHBOARD_MAX_AGE_S old (generated_at says when it was computed); its cost does not grow with the customers table.',
    tags: ['Dashboard'],
    security: scoped('customers:read'),
    responses: {
      200: jsonResponse('The dashboard', DashboardSchema, {
        'Cache-Control': { description: 'private, max-age=<seconds until DASHBOARD_MAX_AGE_S is reached>', schema: { type: 'string' } },
      }),
      ...errorResponses(...AUTHENTICATED),
    },
  });
}
