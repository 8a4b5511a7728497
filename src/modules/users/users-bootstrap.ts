import { randomBytes } from 'node:crypto';
import { executeQuery, withTransaction } from '../../db';
import { hashPassword } from './users-password';
import { findUserIdByEmail, insertUser, updateUser } from './users-repository';

export const DEFAULT_ADMIN_EMAIL = 'admin@example.com';
// An arbitrary constant, one below the migrations' lock.
const ADMIN_BOOTSTRAP_LOCK_KEY = 7_245_104_980;

interface AdminOutcome {
  email: string;
  created: boolean;
  /** Set only when a password was generated here (printed once, never stored in clear). */
  generatedPassword?: string;
}

/**
 * Makes sure the admin exists: created when absent; with `resetPassword` an existing one gets the
 * given password (db:seed). Without a password, a random one is generated and returned once.
 */
export async function ensureAdmin(email: string, password: string | undefined, options: { resetPassword: boolean }): Promise<AdminOutcome> {
  const generatedPassword = password === undefined ? randomBytes(12).toString('base64url') : undefined;
  const passwordHash = await hashPassword(password ?? generatedPassword!);
  return withTransaction(async (tx) => {
    // Instances starting together on a new database would both find no admin and both insert it:
    // they take turns (a transaction-scoped lock, which a transaction-mode pooler keeps).
    await executeQuery('SELECT pg_advisory_xact_lock($1)', [ADMIN_BOOTSTRAP_LOCK_KEY], tx);
    const existing = await findUserIdByEmail(email, tx);
    if (existing !== null) {
      if (options.resetPassword && password !== undefined) await updateUser(existing, { passwordHash, role: 'admin', is_active: true }, tx);
      return { email, created: false };
    }
    await insertUser({ email, name: 'Administrator', role: 'admin', kind: 'person', passwordHash }, tx);
    return { email, created: true, generatedPassword };
    // Database work only: safe to run again when it was rolled back (a failover, a pooler).
  }, { rerunIfRolledBack: true });
}
