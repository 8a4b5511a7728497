import { z } from 'zod';
import { detail } from '../../http/messages';
import { emailSchema, passwordSchema, text, timestampSchema, type Held } from '../../http/common-schemas';
import { checkPaging, pageSchemaOf, pagingFields } from '../../http/list-paging';
import { ROLES } from '../../http/request-context';

const RoleSchema = z.enum(ROLES);

/** A person logs in with a password; a service account has none and exists to own API keys (docs/api.md §9). */
export const USER_KINDS = ['person', 'service'] as const;
const KindSchema = z.enum(USER_KINDS);

export const CreateUserBodySchema = z
  .strictObject({
    email: emailSchema,
    name: text(200),
    password: passwordSchema.optional().meta({ description: 'Required for a person; a service account has none' }),
    role: RoleSchema.default('user'),
    kind: KindSchema.default('person'),
  })
  .superRefine((b, ctx) => {
    if ((b.password === undefined) !== (b.kind === 'service')) ctx.addIssue({ code: 'custom', path: ['password'], message: detail('PASSWORD_FOR_PERSON') });
  });
export type CreateUserBody = z.infer<typeof CreateUserBodySchema>;

export const UpdateUserBodySchema = z
  .strictObject({
    name: text(200).optional(),
    role: RoleSchema.optional(),
    is_active: z.boolean().optional(),
    password: passwordSchema.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: detail('CHANGE_ONE') });
export type UpdateUserBody = z.infer<typeof UpdateUserBodySchema>;

/** GET /api/users: the shared paging rules, oldest first (by id). */
export const ListUsersQuerySchema = z.object(pagingFields).superRefine(checkPaging);
export type ListUsersQuery = z.infer<typeof ListUsersQuerySchema>;

/** A user as the API answers it: never the password or its hash (docs/api.md §4). */
export const UserSchema = z
  .object({
    id: z.number().int().meta({ example: 1 }),
    email: z.string().meta({ example: 'admin@example.com' }),
    name: z.string(),
    role: RoleSchema,
    kind: KindSchema,
    is_active: z.boolean(),
    created_at: timestampSchema,
    updated_at: timestampSchema,
  })
  .meta({ id: 'User' });

export type User = Held<typeof UserSchema, 'created_at' | 'updated_at'>;

export const UserPageSchema = pageSchemaOf(UserSchema, 'UserPage');
