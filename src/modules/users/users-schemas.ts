import { z } from 'zod';
import { detail } from '../../http/messages';
import { emailSchema, passwordSchema, text, timestampSchema, type Held } from '../../http/common-schemas';
import { checkPaging, pageSchemaOf, pagingFields } from '../../http/list-paging';
import { ROLES } from '../../http/request-context';

const RoleSchema = z.enum(ROLES);

export const CreateUserBodySchema = z.strictObject({
  email: emailSchema,
  name: text(200),
  password: passwordSchema,
  role: RoleSchema.default('user'),
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
    is_active: z.boolean(),
    created_at: timestampSchema,
    updated_at: timestampSchema,
  })
  .meta({ id: 'User' });

export type User = Held<typeof UserSchema, 'created_at' | 'updated_at'>;

export const UserPageSchema = pageSchemaOf(UserSchema, 'UserPage');
