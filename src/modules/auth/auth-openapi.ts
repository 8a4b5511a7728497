import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { AUTHENTICATED, BEARER, WITH_BODY, errorResponses, jsonBody, jsonResponse } from '../../http/openapi';
import { UserSchema } from '../users';
import { ChangePasswordBodySchema, LoginBodySchema, LoginResponseSchema } from './auth-schemas';

const tags = ['Auth'];

/** docs/api.md §3 in the OpenAPI document. */
export function registerAuthPaths(registry: OpenAPIRegistry): void {
  const login = errorResponses(...WITH_BODY, 401, 429, 503);
  login[401] = { ...login[401]!, description: 'INVALID_CREDENTIALS: unknown email, wrong password or inactive user (one answer for all)' };
  registry.registerPath({
    method: 'post',
    path: '/api/auth/login',
    operationId: 'login',
    summary: 'Log in: a bearer token for the other routes',
    description: 'Rate limited: per email, 5 failures in 15 minutes lock it (429, the right password too); per client address, 50 attempts per 15 minutes.',
    tags,
    request: { body: jsonBody(LoginBodySchema.meta({ example: { email: 'admin@example.com', password: 'your-password' } })) },
    responses: { 200: jsonResponse('Logged in', LoginResponseSchema), ...login },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/auth/me',
    operationId: 'getCurrentUser',
    summary: 'The user of the token',
    tags,
    security: BEARER,
    responses: { 200: jsonResponse('The current user', UserSchema), ...errorResponses(404, ...AUTHENTICATED) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/auth/change-password',
    operationId: 'changePassword',
    summary: 'Change the own password (400 on current_password when it is wrong)',
    tags,
    security: BEARER,
    request: { body: jsonBody(ChangePasswordBodySchema) },
    responses: { 204: { description: 'Changed' }, ...errorResponses(...WITH_BODY, ...AUTHENTICATED) },
  });
}
