import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { errorResponses } from '../http/openapi';
import { scoped } from '../http/scopes';

/** docs/api.md §7 (/metrics) in the OpenAPI document. */
export function registerMetricsPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: "Prometheus text format (bearer METRICS_TOKEN, or an admin's API key with metrics:read, when METRICS_TOKEN is set)",
    tags: ['Operations'],
    security: [{}, { metricsToken: [] }, ...scoped('metrics:read')],
    responses: {
      200: { description: 'Pool, query and HTTP metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
      ...errorResponses(401, 403, 429),
    },
  });
}
