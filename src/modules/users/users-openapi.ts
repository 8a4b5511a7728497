import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { IdParamsSchema } from '../../http/common-schemas';
import { AUTHENTICATED, BEARER, IDEMPOTENT, IdempotencyKeyHeaders, REPLAYED_HEADER, WITH_BODY, errorResponses, jsonBody, jsonResponse } from '../../http/openapi';
import { CreateUserBodySchema, ListUsersQuerySchema, UpdateUserBodySchema, UserPageSchema, UserSchema } from './users-schemas';

const tags = ['Users'];

/** docs/api.md §4 in the OpenAPI document. */
export function registerUsersPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/api/users',
    operationId: 'listUsers',
    summary: 'List users, oldest first (admin)',
    tags,
    security: BEARER,
    request: { query: ListUsersQuerySchema },
    responses: { 200: jsonResponse('One page of users', UserPageSchema), ...errorResponses(400, 403, ...AUTHENTICATED) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/users',
    operationId: 'createUser',
    summary: 'Create a user (admin; send an Idempotency-Key to retry safely)',
    tags,
    security: BEARER,
    request: { headers: IdempotencyKeyHeaders, body: jsonBody(CreateUserBodySchema) },
    responses: {
      201: jsonResponse('Created (or, with Idempotent-Replayed: true, the first answer again)', UserSchema, {
        Location: { description: '/api/users/{id}', schema: { type: 'string' } },
        ...REPLAYED_HEADER,
      }),
      ...errorResponses(...WITH_BODY, 403, ...IDEMPOTENT, ...AUTHENTICATED),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/users/{id}',
    operationId: 'getUser',
    summary: 'Get a user (admin, or the user itself)',
    tags,
    security: BEARER,
    request: { params: IdParamsSchema },
    responses: { 200: jsonResponse('The user', UserSchema), ...errorResponses(400, 403, 404, ...AUTHENTICATED) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/users/{id}',
    operationId: 'updateUser',
    summary: 'Change a user (admin); the last active admin cannot be demoted or deactivated',
    tags,
    security: BEARER,
    request: { params: IdParamsSchema, body: jsonBody(UpdateUserBodySchema) },
    responses: { 200: jsonResponse('The user as changed', UserSchema), ...errorResponses(...WITH_BODY, 403, 404, 409, ...AUTHENTICATED) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/users/{id}',
    operationId: 'deleteUser',
    summary: 'Delete a user (admin); not the last active admin',
    tags,
    security: BEARER,
    request: { params: IdParamsSchema },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 403, 404, 409, ...AUTHENTICATED) },
  });
}
