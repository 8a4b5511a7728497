import { executeQuery } from '../../../src/db';
import { ensureAdmin } from '../../../src/modules/users/users-bootstrap';
import { unique } from '../../helpers/factories';

describe('ensureAdmin (start-up, and npm run db:seed)', () => {
  test('instances starting together on a new database create the admin once, and none fails', async () => {
    const email = `admin-${unique()}@example.com`;
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => ensureAdmin(email, 'a-long-enough-password', { resetPassword: false })));
    expect(outcomes.filter((o) => o.created)).toHaveLength(1);
    const [row] = await executeQuery<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)', [email]);
    expect(row!.n).toBe(1);
  });
});
