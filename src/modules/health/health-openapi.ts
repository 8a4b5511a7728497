import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { errorResponses, jsonResponse } from '../../http/openapi';
import { scoped } from '../../http/scopes';
import { DbTestSchema, LivenessSchema, PoolHealthSchema, ReadinessSchema } from './health-schemas';

const tags = ['Health'];

/** docs/api.md §2 in the OpenAPI document. */
export function registerHealthPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/api/health',
    operationId: 'getLiveness',
    summary: 'Liveness: never touches the database',
    tags,
    responses: { 200: jsonResponse('Running', LivenessSchema), ...errorResponses() },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/health/ready',
    operationId: 'getReadiness',
    summary: 'Readiness: a SELECT 1 through the pool within 1 s, and not draining',
    tags,
    responses: { 200: jsonResponse('Ready', ReadinessSchema), 503: jsonResponse('Unavailable (or draining)', ReadinessSchema), ...errorResponses() },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/health/db',
    operationId: 'getPoolHealth',
    summary: 'Pool numbers, warnings and counters; each read replica with its state and lag',
    tags,
    security: scoped('health:read'),
    responses: {
      200: jsonResponse('healthy, or warning (with a line per reason)', PoolHealthSchema),
      503: jsonResponse('error: the pool cannot reach the database', PoolHealthSchema),
      ...errorResponses(401, 403, 429),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/health/db/test',
    operationId: 'testDatabase',
    summary: 'SELECT 1 AS test, NOW() AS current_time through the pool',
    tags,
    security: scoped('health:read'),
    responses: { 200: jsonResponse('Connected', DbTestSchema), 503: jsonResponse('Connection failed', DbTestSchema), ...errorResponses(401, 403, 429) },
  });
}
