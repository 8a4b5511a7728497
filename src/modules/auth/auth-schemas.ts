import { z } from 'zod';
import { passwordSchema } from '../../http/common-schemas';

export const LoginBodySchema = z.strictObject({
  email: z.string().trim().min(1, 'is required').max(254, 'must be at most 254 characters'),
  // Not the new-password rules: a login attempt is only compared, never stored.
  password: z.string().min(1, 'is required').max(256, 'must be at most 256 characters'),
});
export type LoginBody = z.infer<typeof LoginBodySchema>;

export const ChangePasswordBodySchema = z.strictObject({
  current_password: z.string().min(1, 'is required').max(256, 'must be at most 256 characters'),
  new_password: passwordSchema,
});
export type ChangePasswordBody = z.infer<typeof ChangePasswordBodySchema>;

export const LoginResponseSchema = z
  .object({
    token: z.string().meta({ description: 'HS256 JWT: send as `Authorization: Bearer <token>`' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().meta({ description: 'Seconds', example: 3600 }),
    user: z.object({ id: z.number().int(), email: z.string(), name: z.string(), role: z.enum(['admin', 'user']) }),
  })
  .meta({ id: 'Login' });
