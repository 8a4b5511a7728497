import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { AUTHENTICATED, BEARER, WITH_BODY, errorResponses, jsonBody, jsonResponse } from '../../http/openapi';
import { UserSchema } from '../users';
import { ChangePasswordBodySchema, LoginBodySchema, LoginResponseSchema, RefreshBodySchema, SessionIdParamsSchema, SessionListSchema } from './auth-schemas';

const tags = ['Auth'];

const setCookie = {
  'Set-Cookie': {
    description:
      'With refresh_token_in=cookie (login) or a refresh that came in the cookie: `refresh_token=…; Path=/api/auth; HttpOnly; SameSite=Strict; Secure` (SameSite=None with REFRESH_COOKIE_SAMESITE=none; Secure in production, with SameSite=None, or over HTTPS)',
    schema: { type: 'string' as const },
  },
};
const RefreshCookie = z.object({
  refresh_token: z.string().optional().meta({ description: 'The refresh token, when the login asked for the cookie (a browser sends it by itself)' }),
});

/** A route the refresh cookie authenticates: its 403 when the cookie comes from an untrusted origin (CSRF). */
const ORIGIN_NOT_ALLOWED =
  'ORIGIN_NOT_ALLOWED: the request carries the refresh cookie but its Origin is neither the API\'s own (its Host, http or https) nor one of CORS_ORIGINS, or it has no Origin';

/** docs/api.md §3 in the OpenAPI document. */
export function registerAuthPaths(registry: OpenAPIRegistry): void {
  const login = errorResponses(...WITH_BODY, 401, 429, 503);
  login[401] = { ...login[401]!, description: 'INVALID_CREDENTIALS: unknown email, wrong password or inactive user (one answer for all)' };
  registry.registerPath({
    method: 'post',
    path: '/api/auth/login',
    operationId: 'login',
    summary: 'Log in: an access token for the other routes, and a refresh token that renews it',
    description:
      'Opens a session. Rate limited: per email, 5 failures in 15 minutes lock it (429, the right password too); per client address, 50 attempts per 15 minutes; more than 64 logins waiting for the password check at once: 429.',
    tags,
    request: { body: jsonBody(LoginBodySchema.meta({ example: { email: 'admin@example.com', password: 'your-password' } })) },
    responses: { 200: jsonResponse('Logged in', LoginResponseSchema, setCookie), ...login },
  });
  const refresh = errorResponses(...WITH_BODY, 401, 403, 503);
  refresh[403] = { ...refresh[403]!, description: ORIGIN_NOT_ALLOWED };
  refresh[401] = {
    ...refresh[401]!,
    description: 'UNAUTHORIZED: no refresh token, or it is unknown, already used, expired, or its session ended (a rotated token used again ends the session). Log in again.',
  };
  registry.registerPath({
    method: 'post',
    path: '/api/auth/refresh',
    operationId: 'refresh',
    summary: 'A new access token and refresh token for the session (each refresh token is good once)',
    description:
      'Send the refresh token in the body, or (a browser that logged in with refresh_token_in=cookie) no body: the cookie is sent by itself (from another origin: with credentials). The answer travels the same way. A request carrying the cookie must come from the API\'s own origin or one of CORS_ORIGINS (403 ORIGIN_NOT_ALLOWED). Two refreshes with the same token within 10 s (two tabs) get the same new pair.',
    tags,
    request: { cookies: RefreshCookie, body: { required: false, content: { 'application/json': { schema: RefreshBodySchema } } } },
    responses: { 200: jsonResponse('The next pair', LoginResponseSchema, setCookie), ...refresh },
  });
  const logout = errorResponses(403, ...AUTHENTICATED);
  logout[403] = { ...logout[403]!, description: ORIGIN_NOT_ALLOWED };
  registry.registerPath({
    method: 'post',
    path: '/api/auth/logout',
    operationId: 'logout',
    summary: 'End this session: its refresh token at once, its access tokens with it',
    tags,
    security: BEARER,
    responses: { 204: { description: 'Ended (and the refresh cookie cleared)', headers: setCookie }, ...logout },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/auth/sessions',
    operationId: 'listSessions',
    summary: 'The caller\'s live sessions (most recently used first, at most 100)',
    tags,
    security: BEARER,
    responses: { 200: jsonResponse('Live sessions', SessionListSchema), ...errorResponses(...AUTHENTICATED) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/auth/sessions/{id}',
    operationId: 'endSession',
    summary: 'End one of the caller\'s sessions (another device)',
    tags,
    security: BEARER,
    request: { params: SessionIdParamsSchema },
    responses: { 204: { description: 'Ended' }, ...errorResponses(400, 404, ...AUTHENTICATED) },
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
    summary: 'Change the own password (400 on current_password when it is wrong); every other session of the user ends',
    tags,
    security: BEARER,
    request: { body: jsonBody(ChangePasswordBodySchema) },
    responses: { 204: { description: 'Changed' }, ...errorResponses(...WITH_BODY, ...AUTHENTICATED) },
  });
}
