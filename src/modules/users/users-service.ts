import { withTransaction } from '../../db';
import { AppError, conflict, notFound } from '../../http/errors';
import { forgetCurrentUser } from '../auth/current-user';
import { hashPassword } from '../auth/password';
import { deleteUser, insertUser, lockActiveAdminIds, updateUser, type User } from './users-repository';
import type { CreateUserBody, UpdateUserBody } from './users-schemas';

const lastAdmin = () => new AppError('CONFLICT', { messageKey: 'LAST_ADMIN' });

export async function createUser(body: CreateUserBody): Promise<User> {
  const passwordHash = await hashPassword(body.password);
  try {
    return await insertUser({ email: body.email, name: body.name, role: body.role, passwordHash });
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw conflict('EMAIL_TAKEN', err);
    throw err;
  }
}

/** Applies the changes; an admin cannot demote or deactivate the last active admin. */
export async function changeUser(id: number, body: UpdateUserBody): Promise<User> {
  const passwordHash = body.password === undefined ? undefined : await hashPassword(body.password);
  const removesAdmin = body.role === 'user' || body.is_active === false;
  const user = await withTransaction(async (tx) => {
    if (removesAdmin) {
      const admins = await lockActiveAdminIds(tx);
      if (admins.length === 1 && admins[0] === id) throw lastAdmin();
    }
    return updateUser(id, { name: body.name, role: body.role, is_active: body.is_active, passwordHash }, tx);
  });
  if (!user) throw notFound();
  forgetCurrentUser(id);
  return user;
}

export async function removeUser(id: number): Promise<void> {
  const deleted = await withTransaction(async (tx) => {
    const admins = await lockActiveAdminIds(tx);
    if (admins.length === 1 && admins[0] === id) throw lastAdmin();
    return deleteUser(id, tx);
  });
  forgetCurrentUser(id);
  if (!deleted) throw notFound();
}
