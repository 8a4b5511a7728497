import { z } from 'zod';
import { timestampSchema, type Held } from '../../http/common-schemas';

/** A live session as GET /api/auth/sessions lists it (the auth module adds `current`). */
export const SessionSchema = z.object({
  id: z.uuid(),
  created_at: timestampSchema,
  last_used_at: timestampSchema.meta({ description: 'The login, or the last refresh' }),
  expires_at: timestampSchema.meta({ description: 'When it ends unless refreshed' }),
  user_agent: z.string().nullable(),
});

export type SessionSummary = Held<typeof SessionSchema, 'created_at' | 'last_used_at' | 'expires_at'>;
