import { z } from 'zod';
import { emailSchema, passwordSchema, text } from '../../http/common-schemas';
import { checkPaging, pagingFields } from '../../http/list-paging';

const RoleSchema = z.enum(['admin', 'user']);

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
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'must change at least one field' });
export type UpdateUserBody = z.infer<typeof UpdateUserBodySchema>;

/** GET /api/users: the shared paging rules, oldest first (by id). */
export const ListUsersQuerySchema = z.object(pagingFields).superRefine(checkPaging);
export type ListUsersQuery = z.infer<typeof ListUsersQuerySchema>;
