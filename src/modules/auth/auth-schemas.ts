import { z } from 'zod';
import { detail } from '../../http/messages';
import { passwordSchema } from '../../http/common-schemas';
import { CurrentUserSchema } from '../../http/request-context';
import { SessionSchema } from '../sessions';

/** Where the refresh token travels: in the JSON body (any client), or only in an HttpOnly cookie (a browser frontend). */
const RefreshTokenInSchema = z.enum(['body', 'cookie']);
export type RefreshTokenIn = z.infer<typeof RefreshTokenInSchema>;

export const LoginBodySchema = z.strictObject({
  email: z.string().trim().min(1, detail('REQUIRED')).max(254, detail('MAX_CHARS', { max: 254 })),
  // Not the new-password rules: a login attempt is only compared, never stored.
  password: z.string().min(1, detail('REQUIRED')).max(256, detail('MAX_CHARS', { max: 256 })),
  refresh_token_in: RefreshTokenInSchema.default('body').meta({
    description: '`cookie`: the refresh token is set only as an HttpOnly cookie (Path=/api/auth), out of reach of JavaScript — for a browser frontend. `body` (default): in the answer.',
  }),
});

/** POST /api/auth/refresh: the token in the body, or (a browser) in the cookie, with no body at all. */
export const RefreshBodySchema = z
  .strictObject({
    refresh_token: z.string().min(1, detail('NOT_EMPTY')).max(200, detail('NOT_A_REFRESH_TOKEN')).optional().meta({ description: 'The refresh token, unless it travels in the cookie' }),
  })
  .optional();

export const ChangePasswordBodySchema = z.strictObject({
  current_password: z.string().min(1, detail('REQUIRED')).max(256, detail('MAX_CHARS', { max: 256 })),
  new_password: passwordSchema,
});

export const SessionIdParamsSchema = z.object({
  id: z.uuid(detail('SESSION_ID')),
});

export const LoginResponseSchema = z
  .object({
    token: z.string().meta({ description: 'HS256 JWT: send as `Authorization: Bearer <token>`' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().meta({ description: 'Seconds until the access token expires (JWT_EXPIRES_IN): refresh before then', example: 900 }),
    refresh_token: z
      .string()
      .optional()
      .meta({ description: 'Opaque; one use: POST /api/auth/refresh gives the next pair. Absent when it went into the cookie (refresh_token_in=cookie)' }),
    refresh_expires_in: z.number().int().meta({ description: 'Seconds until the refresh token expires unless used (REFRESH_TOKEN_TTL_S, within SESSION_MAX_AGE_S)' }),
    session_id: z.uuid(),
    user: CurrentUserSchema,
  })
  .meta({ id: 'Login' });

const SessionListEntrySchema = SessionSchema.extend({ current: z.boolean().meta({ description: 'The session of the token asking' }) }).meta({ id: 'Session' });

export const SessionListSchema = z.object({ data: z.array(SessionListEntrySchema) }).meta({ id: 'SessionList' });
