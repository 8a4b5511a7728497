import { READ_REPLICA, executeQuery, executeQueryOne, executeWrite, queryPage, sortKey, type DbClient, type Page, type PageSort, type PageStart } from '../../db';
import type { Role } from '../../http/request-context';
import { UserSchema, type ListUsersQuery, type UpdateUserBody, type User } from './users-schemas';

export type { User };

/** A row as node-postgres returns it: bigint ids arrive as strings. */
type UserRow = Omit<User, 'id'> & { id: string };

/** The columns of a user as answered: UserSchema's fields, in its order. */
const USER_COLUMNS = Object.keys(UserSchema.shape).join(', ');

export const USER_SORT_KEY: PageSort = sortKey('id', 'bigint');

/** bigint ids arrive as strings; they are JSON integers in the API. Field by field: a page's row carries helper columns too. */
function toUser(row: UserRow): User {
  return { id: Number(row.id), email: row.email, name: row.name, role: row.role, kind: row.kind, is_active: row.is_active, created_at: row.created_at, updated_at: row.updated_at };
}

export async function findUserById(id: number, db?: DbClient): Promise<User | null> {
  const row = await executeQueryOne<UserRow>({ name: 'users_find_by_id', text: `SELECT ${USER_COLUMNS} FROM users WHERE id = $1` }, [id], db);
  return row ? toUser(row) : null;
}

/** The user with this email (case-insensitive) and its password hash, for login. */
export async function findUserCredentialsByEmail(email: string): Promise<(User & { password_hash: string }) | null> {
  const row = await executeQueryOne<UserRow & { password_hash: string }>(
    { name: 'users_find_credentials', text: `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE lower(email) = lower($1)` },
    [email],
  );
  return row ? { ...toUser(row), password_hash: row.password_hash } : null;
}

export async function findPasswordHash(id: number): Promise<string | null> {
  const row = await executeQueryOne<{ password_hash: string }>({ name: 'users_find_password_hash', text: 'SELECT password_hash FROM users WHERE id = $1' }, [id]);
  return row?.password_hash ?? null;
}

/** One page of users (oldest first) and their total, in one round trip; on a read replica when there is a healthy one. */
export async function listUsers(query: ListUsersQuery, start: PageStart): Promise<Page<User>> {
  return queryPage<UserRow, User>({
    name: 'users_list',
    table: 'users',
    columns: USER_COLUMNS,
    where: [],
    filterParams: [],
    sort: USER_SORT_KEY,
    ...start,
    limit: query.limit,
    count: query.count,
    filter: 'indexed',
  }, toUser, READ_REPLICA);
}

export interface NewUser {
  email: string;
  name: string;
  /** '!' for a service account: no password hashes to it. */
  passwordHash: string;
  role: Role;
  kind: User['kind'];
}

export async function insertUser(user: NewUser, db?: DbClient): Promise<User> {
  const { rows } = await executeWrite<UserRow>(
    `INSERT INTO users (email, name, password_hash, role, kind) VALUES ($1, $2, $3, $4, $5) RETURNING ${USER_COLUMNS}`,
    [user.email, user.name, user.passwordHash, user.role, user.kind],
    db,
  );
  return toUser(rows[0]!);
}

/** An update's fields (the body's, the password already hashed). */
type UserChanges = Omit<UpdateUserBody, 'password'> & { passwordHash?: string };

const CHANGE_COLUMNS: Record<keyof UserChanges, string> = { name: 'name', role: 'role', is_active: 'is_active', passwordHash: 'password_hash' };

export async function updateUser(id: number, changes: UserChanges, db?: DbClient): Promise<User | null> {
  const keys = (Object.keys(changes) as (keyof UserChanges)[]).filter((k) => changes[k] !== undefined);
  const sets = keys.map((k, i) => `${CHANGE_COLUMNS[k]} = $${i + 2}`);
  const { rows } = await executeWrite<UserRow>(
    `UPDATE users SET ${[...sets, 'updated_at = NOW()'].join(', ')} WHERE id = $1 RETURNING ${USER_COLUMNS}`,
    [id, ...keys.map((k) => changes[k])],
    db,
  );
  return rows[0] ? toUser(rows[0]) : null;
}

/**
 * The same password under a new hash (a login upgrading older parameters): updated_at stays, and the
 * history trigger is told it is no change (migration 007, app.password_rehash).
 */
export async function rehashPassword(id: number, passwordHash: string, db: DbClient): Promise<void> {
  await executeQuery("SELECT set_config('app.password_rehash', 'on', true)", [], db);
  await executeWrite({ name: 'users_rehash_password', text: 'UPDATE users SET password_hash = $2 WHERE id = $1' }, [id, passwordHash], db);
}

export async function deleteUser(id: number, db?: DbClient): Promise<boolean> {
  const { rowCount } = await executeWrite('DELETE FROM users WHERE id = $1', [id], db);
  return rowCount > 0;
}

/** Locks the active admins' rows, so that two concurrent demotions cannot both pass the check. */
export async function lockActiveAdminIds(db: DbClient): Promise<number[]> {
  const rows = await executeQuery<{ id: string }>("SELECT id FROM users WHERE role = 'admin' AND is_active AND kind = 'person' ORDER BY id FOR UPDATE", [], db);
  return rows.map((r) => Number(r.id));
}

export async function findUserIdByEmail(email: string, db?: DbClient): Promise<number | null> {
  const row = await executeQueryOne<{ id: string }>('SELECT id FROM users WHERE lower(email) = lower($1)', [email], db);
  return row ? Number(row.id) : null;
}
