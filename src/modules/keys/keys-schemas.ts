import { z } from 'zod';
import { text, timestampSchema, type Held } from '../../http/common-schemas';
import { detail } from '../../http/messages';
import { SCOPES } from '../../http/scopes';

const ScopeSchema = z.enum(SCOPES);

/** POST /api/keys (docs/api.md §9). */
export const CreateKeyBodySchema = z.strictObject({
  name: text(100),
  scopes: z
    .array(ScopeSchema)
    .min(1)
    .refine((s) => new Set(s).size === s.length, { message: detail('EACH_ONCE') })
    .meta({ description: `What the key may do, at most what its owner may: ${SCOPES.join(', ')}` }),
  expires_at: z.iso.datetime({ offset: true }).meta({ description: 'Required: in the future, at most API_KEY_MAX_TTL_DAYS (default 365) from now' }),
  owner_id: z.number().int().positive().optional().meta({ description: 'Admins only: a service account to own the key (default: the caller)' }),
});
export type CreateKeyBody = z.infer<typeof CreateKeyBodySchema>;

/** GET /api/keys: the caller's keys; an admin may name another owner. */
export const ListKeysQuerySchema = z.object({
  owner: z.coerce.number().int().positive().optional().meta({ description: 'Admins only: the keys of this user (a service account)' }),
});

export const KeyIdParamsSchema = z.object({ id: z.string().regex(/^[0-9A-Za-z]{12}$/, 'a key id: 12 letters and digits') });

/** A key as the API answers it: never the secret, nor its hash. */
export const ApiKeySchema = z
  .object({
    id: z.string().meta({ description: 'The public id: the part of the key after cak_', example: 'V1StGXR8Z5jd' }),
    name: z.string(),
    owner_id: z.number().int(),
    scopes: z.array(ScopeSchema),
    created_by: z.number().int().nullable(),
    created_at: timestampSchema,
    expires_at: timestampSchema,
    last_used_at: timestampSchema.nullable().meta({ description: 'Written at most once a minute' }),
    last_used_from: z.string().nullable().meta({ description: 'The address of that use' }),
    revoked_at: timestampSchema.nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKey = Held<typeof ApiKeySchema, 'created_at' | 'expires_at'> & { last_used_at: Date | null; revoked_at: Date | null };

export const CreatedKeySchema = ApiKeySchema.extend({
  key: z.string().meta({ description: 'The key, shown this once: cak_<id>_<secret><checksum>', example: 'cak_V1StGXR8Z5jd_…' }),
}).meta({ id: 'CreatedApiKey' });

export const KeyListSchema = z.object({ data: z.array(ApiKeySchema) }).meta({ id: 'ApiKeyList' });
