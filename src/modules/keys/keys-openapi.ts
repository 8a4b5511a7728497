import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { AUTHENTICATED, BEARER, WITH_BODY, errorResponses, jsonBody, jsonResponse } from '../../http/openapi';
import { CreateKeyBodySchema, CreatedKeySchema, KeyIdParamsSchema, KeyListSchema, ListKeysQuerySchema } from './keys-schemas';

const tags = ['API keys'];
const PERSON_ONLY = 'A person only: an API key can never create, list or revoke keys.';

/** docs/api.md §9 in the OpenAPI document. */
export function registerKeysPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/keys',
    operationId: 'createApiKey',
    summary: 'Create an API key for yourself (an admin: also for a service account); the key is in this answer only',
    description: `The key: \`cak_<id>_<secret><checksum>\` (55 characters). Send it as \`Authorization: Bearer cak_…\`, never in a URL. ${PERSON_ONLY}`,
    tags,
    security: BEARER,
    request: { body: jsonBody(CreateKeyBodySchema) },
    responses: {
      201: jsonResponse('The key, shown once (Cache-Control: no-store)', CreatedKeySchema),
      ...errorResponses(...WITH_BODY, 403, ...AUTHENTICATED),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/keys',
    operationId: 'listApiKeys',
    summary: 'Your API keys (an admin: `owner` for another user\'s), newest first, revoked ones included',
    description: PERSON_ONLY,
    tags,
    security: BEARER,
    request: { query: ListKeysQuerySchema },
    responses: { 200: jsonResponse('The keys (never their secrets)', KeyListSchema), ...errorResponses(400, 403, 404, ...AUTHENTICATED) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/keys/{id}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key (yours; an admin: any): refused at once here, within AUTH_CACHE_TTL_MS on every instance',
    description: PERSON_ONLY,
    tags,
    security: BEARER,
    request: { params: KeyIdParamsSchema },
    responses: { 204: { description: 'Revoked (also when it already was)' }, ...errorResponses(400, 403, 404, ...AUTHENTICATED) },
  });
}
