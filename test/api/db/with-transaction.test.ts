import { DatabaseUnavailableError, executeQuery, executeQueryOne, executeWrite, poolStats, withTransaction, type DbClient } from '../../../src/db';
import { adminUrl, withAdminClient } from '../../helpers/admin-db';
import { unique } from '../../helpers/factories';

// withTransaction runs its callback once: a callback that sends an e-mail or bumps a counter elsewhere
// must not do it twice behind the caller's back. Only a caller that opts in gets a second run.

/** Ends this transaction's session from outside, as pg_terminate_backend or a failover would. */
async function terminate(tx: DbClient): Promise<void> {
  const row = await executeQueryOne<{ pid: number }>('SELECT pg_backend_pid() AS pid', [], tx);
  await withAdminClient(adminUrl(), (c) => c.query('SELECT pg_terminate_backend($1)', [row!.pid]));
}

const named = async (name: string) => (await executeQuery('SELECT id FROM customers WHERE name = $1', [name])).length;

describe('withTransaction when the connection is lost after the callback ran a statement', () => {
  test('by default: the callback ran once, DatabaseUnavailableError reaches the caller, nothing is written', async () => {
    const name = `Once ${unique()}`;
    let runs = 0;
    const err = await withTransaction(async (tx) => {
      runs += 1;
      await executeWrite('INSERT INTO customers (name) VALUES ($1)', [name], tx);
      await terminate(tx);
      await executeWrite('INSERT INTO customers (name) VALUES ($1)', [`${name} too`], tx);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect(runs).toBe(1);
    expect(await named(name)).toBe(0);
    expect(poolStats().in_use).toBe(0);
  });

  test('with rerunIfRolledBack: the callback runs once more on a fresh connection, and its writes land once', async () => {
    const name = `Rerun ${unique()}`;
    let runs = 0;
    await withTransaction(
      async (tx) => {
        runs += 1;
        await executeWrite('INSERT INTO customers (name) VALUES ($1)', [name], tx);
        if (runs === 1) await terminate(tx);
        await executeWrite('SELECT 1', [], tx);
      },
      { rerunIfRolledBack: true },
    );
    expect(runs).toBe(2);
    expect(await named(name)).toBe(1);
  });

  test('an error of the callback itself is never a reason to run it again', async () => {
    let runs = 0;
    await expect(
      withTransaction(
        () => {
          runs += 1;
          return Promise.reject(new Error('the caller changed its mind'));
        },
        { rerunIfRolledBack: true },
      ),
    ).rejects.toThrow('the caller changed its mind');
    expect(runs).toBe(1);
  });
});
