import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { IdParamsSchema } from '../../http/common-schemas';
import { AUTHENTICATED, BEARER, WITH_BODY, creatingPost, errorResponses, jsonBody, jsonResponse } from '../../http/openapi';
import { scoped } from '../../http/scopes';
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
    security: scoped('users:read'),
    request: { query: ListUsersQuerySchema },
    responses: { 200: jsonResponse('One page of users', UserPageSchema), ...errorResponses(400, 403, ...AUTHENTICATED) },
  });
  registry.registerPath(
    creatingPost({ path: '/api/users', operationId: 'createUser', summary: 'Create a user (admin; send an Idempotency-Key to retry safely)', tags, body: CreateUserBodySchema, created: UserSchema, errors: [403] }),
  );
  registry.registerPath({
    method: 'get',
    path: '/api/users/{id}',
    operationId: 'getUser',
    summary: 'Get a user (admin, or the user itself)',
    tags,
    security: scoped('users:read'),
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
