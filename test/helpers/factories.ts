import { randomBytes } from 'node:crypto';
import { openSession } from '../../src/modules/sessions';
import { hashPassword } from '../../src/modules/users';
import { insertCustomer, type Customer } from '../../src/modules/customers/customers-repository';
import type { CreateCustomerBody } from '../../src/modules/customers/customers-schemas';
import { insertUser, updateUser, type User } from '../../src/modules/users/users-repository';
import { bearer, tokenFor } from './auth';

export const unique = (): string => randomBytes(4).toString('hex');

export interface TestUser {
  user: User;
  password: string;
  sessionId: string;
  refreshToken: string;
  /** `Bearer <token>` for this user. */
  auth: string;
}

/** A user row with a real password hash (argon2id, as the API writes it). */
export async function createUser(overrides: { email?: string; name?: string; role?: 'admin' | 'user'; is_active?: boolean } = {}): Promise<TestUser> {
  const password = `password-${unique()}`;
  let user = await insertUser({
    email: overrides.email ?? `user-${unique()}@example.com`,
    name: overrides.name ?? `Test User ${unique()}`,
    role: overrides.role ?? 'user',
    kind: 'person',
    passwordHash: await hashPassword(password),
  });
  // A session, as a login opens one (the token names it; ending it ends the token).
  const session = await openSession(user.id, 'test factory');
  if (overrides.is_active === false) user = (await updateUser(user.id, { is_active: false }))!;
  return { user, password, sessionId: session.id, refreshToken: session.refreshToken, auth: bearer(tokenFor({ id: user.id, role: user.role, sid: session.id })) };
}

export const createAdmin = () => createUser({ role: 'admin' });

export async function createCustomer(overrides: Partial<CreateCustomerBody> = {}, createdBy: number | null = null): Promise<Customer> {
  return insertCustomer({ name: `Customer ${unique()}`, email: `c-${unique()}@example.com`, city: 'Ankara', status: 'lead', ...overrides }, createdBy);
}
