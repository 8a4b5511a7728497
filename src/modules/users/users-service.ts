import { UniqueViolationError, changeAs, type DbClient, type TransactionActor } from '../../db';
import { AppError, conflict, notFound, validationError } from '../../http/errors';
import { detail } from '../../http/messages';
import { forgetKeysOf } from '../keys';
import { endUserSessions, forgetCurrentUser } from '../sessions';
import { hashPassword } from './users-password';
import { deleteUser, insertUser, lockActiveAdminIds, rehashPassword, updateUser, type NewUser, type User } from './users-repository';
import type { CreateUserBody, UpdateUserBody } from './users-schemas';


/** A service account's password hash (migration 011). */
const SERVICE_PASSWORD_HASH = '!';

const lastAdmin = () => new AppError('CONFLICT', { messageKey: 'LAST_ADMIN' });

/** The body with its password hashed (argon2id: done before a connection is held). */
export async function prepareNewUser(body: CreateUserBody): Promise<NewUser> {
  // A service account's hash is '!', which no password hashes to: it cannot log in.
  const passwordHash = body.kind === 'service' || body.password === undefined ? SERVICE_PASSWORD_HASH : await hashPassword(body.password);
  return { email: body.email, name: body.name, role: body.role, kind: body.kind, passwordHash };
}

/** Inserts the user; a taken email is 409 EMAIL_TAKEN. */
export async function createUser(user: NewUser, db?: DbClient): Promise<User> {
  try {
    return await insertUser(user, db);
  } catch (err) {
    if (err instanceof UniqueViolationError) throw conflict('EMAIL_TAKEN', err);
    throw err;
  }
}

/**
 * Applies the changes; an admin cannot demote or deactivate the last active admin. A new password, a
 * role or deactivation ends every session of the user, in the same transaction.
 */
export async function changeUser(id: number, body: UpdateUserBody, actor: TransactionActor): Promise<User> {
  const passwordHash = body.password === undefined ? undefined : await hashPassword(body.password);
  const removesAdmin = body.role === 'user' || body.is_active === false;
  const endsSessions = passwordHash !== undefined || body.role !== undefined || body.is_active === false;
  const user = await changeAs(actor, async (tx) => {
    if (removesAdmin) {
      const admins = await lockActiveAdminIds(tx);
      if (admins.length === 1 && admins[0] === id) throw lastAdmin();
    }
    const changed = await updateUser(id, { name: body.name, role: body.role, is_active: body.is_active, passwordHash }, tx);
    if (changed?.kind === 'service' && passwordHash !== undefined) throw validationError([{ path: 'password', message: detail('NO_PASSWORD_FOR_SERVICE') }]);
    if (changed && endsSessions) await endUserSessions(id, 'changed by an admin', null, tx);
    return changed;
  });
  if (!user) throw notFound();
  forgetCurrentUser(id);
  forgetKeysOf(id);
  return user;
}

export async function removeUser(id: number, actor: TransactionActor): Promise<void> {
  const deleted = await changeAs(actor, async (tx) => {
    const admins = await lockActiveAdminIds(tx);
    if (admins.length === 1 && admins[0] === id) throw lastAdmin();
    return deleteUser(id, tx);
  });
  forgetCurrentUser(id);
  forgetKeysOf(id);
  if (!deleted) throw notFound();
}

/**
 * Replaces the user's password (hashed here) and ends every other session of the user (`keep`: the one
 * asking goes on), in one transaction.
 */
export async function setPassword(userId: number, password: string, actor: TransactionActor, keep: string | null): Promise<void> {
  const passwordHash = await hashPassword(password);
  await changeAs(actor, async (tx) => {
    await updateUser(userId, { passwordHash }, tx);
    await endUserSessions(userId, 'password changed', keep, tx);
  });
  forgetCurrentUser(userId);
}

/**
 * Replaces a hash made with older parameters, on a login that just proved the password: the same
 * password, so no session ends and the history records nothing (it is not a change of the user).
 */
export async function upgradePasswordHash(userId: number, password: string, actor: TransactionActor): Promise<void> {
  const passwordHash = await hashPassword(password);
  await changeAs(actor, (tx) => rehashPassword(userId, passwordHash, tx));
}
