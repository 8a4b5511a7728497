import type { ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ERROR_STATUS, ErrorDetailSchema, type ErrorCode } from './errors';
import { scoped, type Scope } from './scopes';

/**
 * Building blocks of the OpenAPI document (src/modules/docs): the §1 error shape and the error
 * answers each route can give. The routes' own zod schemas describe their inputs; the modules'
 * `*-openapi.ts` files say which answers each route gives.
 */

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]).meta({ description: 'Stable, never localized' }),
      message: z.string().meta({ description: 'Human-readable, localized (Accept-Language: en or tr)' }),
      details: z.array(ErrorDetailSchema).optional().meta({ description: 'One entry per bad field (VALIDATION_ERROR)' }),
    }),
    request_id: z.string().meta({ description: 'Also in the X-Request-Id header' }),
  })
  .meta({ id: 'Error', description: 'Every error answer (docs/api.md §1)' });

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' as const } } };

/** What each error status means here, with its codes. */
const ERRORS: Record<number, { description: string; headers?: ResponseConfig['headers'] }> = {
  400: { description: 'INVALID_JSON (body is not JSON) or VALIDATION_ERROR (body, query, path or header fails its schema; `details` names each field)' },
  401: {
    description: 'UNAUTHORIZED: missing, malformed, expired or wrongly signed token, an invalid, revoked or expired API key (or one sent in the URL), or an inactive user',
    headers: { 'WWW-Authenticate': { description: 'Bearer realm="customer-api", error="invalid_token"', schema: { type: 'string' } } },
  },
  403: {
    description:
      'FORBIDDEN: the role may not do this (or, with an API key, the key may not be used here: KEY_NOT_ALLOWED), or INSUFFICIENT_SCOPE: the API key lacks the scope the route needs (named in the message and in details[0].message)',
  },
  404: { description: 'NOT_FOUND: no such resource' },
  409: {
    description: 'CONFLICT (the email is taken), or IDEMPOTENCY_KEY_IN_USE (a request with the same Idempotency-Key is still running: try again after Retry-After)',
    headers: retryAfter,
  },
  412: { description: 'PRECONDITION_FAILED: If-Match does not match the current version; nothing changed' },
  413: { description: 'PAYLOAD_TOO_LARGE: body over BODY_LIMIT (default 100 kB; an import: IMPORT_MAX_BYTES, default 100 MB)' },
  422: { description: 'IDEMPOTENCY_KEY_REUSED: this Idempotency-Key was used for a different request (method, path or body)' },
  415: { description: 'UNSUPPORTED_MEDIA_TYPE: a body that is not application/json (an import: not text/csv or application/x-ndjson)' },
  429: { description: 'TOO_MANY_REQUESTS: login rate limit, an API key past API_KEY_RATE_LIMIT_PER_MINUTE, or EXPORT_MAX_CONCURRENT exports already running', headers: retryAfter },
  500: { description: 'INTERNAL_ERROR: anything else (never SQL, stack traces or secrets)' },
  503: { description: 'POOL_EXHAUSTED, DATABASE_UNAVAILABLE or QUERY_TIMEOUT', headers: retryAfter },
};

/** The error answers of a route: those named, plus 500 (every route). */
export function errorResponses(...statuses: number[]): Record<number, ResponseConfig> {
  const out: Record<number, ResponseConfig> = {};
  for (const status of [...statuses, 500]) {
    const { description, headers } = ERRORS[status]!;
    out[status] = { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: ErrorBodySchema } } };
  }
  return out;
}

/** A JSON answer. */
export const jsonResponse = (description: string, schema: z.ZodType, headers?: ResponseConfig['headers']): ResponseConfig => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema } },
});

/** A JSON request body. */
export const jsonBody = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema } } });

/** The request header of a creating POST (docs/api.md §5). */
export const IdempotencyKeyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({
      description:
        'Any 1-255 printable ASCII characters, new for each logical request (a UUID). Sent again with the same body after a 503 or a cut connection, it gets the first answer again (Idempotent-Replayed: true) instead of creating twice. Scoped to the caller; kept IDEMPOTENCY_KEY_TTL_S (default 24 h).',
    }),
});

/**
 * A creating POST (docs/api.md §5): `Idempotency-Key` in; 201 with `Location` (plus `headers`) and the
 * replay header out; 409 and 422 for the key, besides the body's own errors and `errors`.
 */
export function creatingPost(route: {
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  body: z.ZodType;
  created: z.ZodType;
  headers?: ResponseConfig['headers'];
  errors?: number[];
  /** The scope an API key needs (none: keys may not call it). */
  scope?: Scope;
}): RouteConfig {
  return {
    method: 'post',
    path: route.path,
    operationId: route.operationId,
    summary: route.summary,
    tags: route.tags,
    security: route.scope === undefined ? BEARER : scoped(route.scope),
    request: { headers: IdempotencyKeyHeaders, body: jsonBody(route.body) },
    responses: {
      201: jsonResponse('Created (or, with Idempotent-Replayed: true, the first answer again)', route.created, {
        ...route.headers,
        Location: { description: `${route.path}/{id}`, schema: { type: 'string' } },
        'Idempotent-Replayed': { description: 'true when this is the stored answer of an earlier request with the same Idempotency-Key', schema: { type: 'string' } },
      }),
      ...errorResponses(...WITH_BODY, ...(route.errors ?? []), 409, 422, ...AUTHENTICATED),
    },
  };
}

/** Routes that need a token: the document's bearer scheme. */
export const BEARER = [{ bearerAuth: [] }];

/**
 * Error answers shared by every route behind the token: an invalid token or key; a key not allowed here
 * or without the route's scope; a key past its rate limit; database trouble.
 */
export const AUTHENTICATED = [401, 403, 429, 503] as const;
/** A route with a JSON body can get these before it runs. */
export const WITH_BODY = [400, 413, 415] as const;
