import type pg from 'pg';
import { executeQuery, executeQueryOne, executeWrite, poolStats, withTransaction, type DbClient } from '../../../src/db';
import { unique } from '../../helpers/factories';
import { expectNoClientInUse } from '../../helpers/pool';

// A transaction's BEGIN, and its actor's settings, travel with its first statement (src/db/transaction-opening.ts).

afterEach(() => expectNoClientInUse());

/** Counts the server's ReadyForQuery messages on this client from now on: one per round trip. */
function roundTrips(tx: DbClient): { count: number } {
  const seen = { count: 0 };
  (tx as unknown as pg.Client).connection.on('readyForQuery', () => {
    seen.count += 1;
  });
  return seen;
}

const named = async (name: string) => (await executeQuery('SELECT id FROM customers WHERE name = $1', [name])).length;
const actor = { userId: 4242, requestId: 'opening-test' };

describe('withTransaction sends BEGIN with the first statement', () => {
  test('a one-statement transaction takes two round trips (statement, COMMIT), and the statement sees the actor', async () => {
    let trips = { count: 0 };
    const seen = await withTransaction(
      async (tx) => {
        trips = roundTrips(tx);
        return executeQueryOne<{ actor: string; request: string }>(
          "SELECT current_setting('app.actor_id', true) AS actor, current_setting('app.request_id', $1) AS request",
          [true],
          tx,
        );
      },
      { actor },
    );
    expect(seen).toEqual({ actor: '4242', request: 'opening-test' });
    expect(trips.count).toBe(2);
  });

  test('its statements are one transaction: a later failure undoes the first, and the client is clean for the next user', async () => {
    const name = `Opening ${unique()}`;
    await expect(
      withTransaction(async (tx) => {
        const first = await executeQueryOne<{ xid: string }>('INSERT INTO customers (name) VALUES ($1) RETURNING txid_current()::text AS xid', [name], tx);
        const second = await executeQueryOne<{ xid: string }>('SELECT txid_current()::text AS xid', [], tx);
        expect(second).toEqual(first);
        await executeQuery('SELECT no_such_column FROM customers', [], tx);
      }),
    ).rejects.toThrow(/no_such_column/);
    expect(await named(name)).toBe(0);
  });

  test('a first statement the server refuses: the error reaches the caller, nothing is left open', async () => {
    await expect(withTransaction((tx) => executeQuery('SELECT * FROM no_such_table WHERE id = $1', [1], tx))).rejects.toThrow(/no_such_table/);
    expect(poolStats().in_use).toBe(0);
    expect(await withTransaction((tx) => executeQueryOne<{ one: number }>('SELECT $1::int AS one', [1], tx))).toEqual({ one: 1 });
  });

  test('a first value node-postgres cannot send (its toPostgres throws): refused before the statement, rolled back', async () => {
    const name = `Unsent ${unique()}`;
    const bad = {
      toPostgres: () => {
        throw new Error('cannot serialise this');
      },
    };
    await expect(
      withTransaction(async (tx) => {
        await executeWrite('INSERT INTO customers (name) VALUES ($1)', [bad], tx);
      }),
    ).rejects.toThrow('cannot serialise this');
    await withTransaction(async (tx) => {
      await executeWrite('INSERT INTO customers (name) VALUES ($1)', [name], tx);
    });
    expect(await named(name)).toBe(1);
  });

  test('a callback that sends nothing opens no transaction and costs no round trip', async () => {
    let trips = { count: 0 };
    const result = await withTransaction(
      (tx) => {
        trips = roundTrips(tx);
        return Promise.resolve('nothing to do');
      },
      { actor },
    );
    expect(result).toBe('nothing to do');
    expect(trips.count).toBe(0);
  });

  test('SQL text alone first (tx.query, the simple protocol): BEGIN goes on its own before it, with the actor', async () => {
    const name = `Text ${unique()}`;
    await expect(
      withTransaction(
        async (tx) => {
          await tx.query(`INSERT INTO customers (name) VALUES ('${name}')`);
          const row = await executeQueryOne<{ actor: string }>("SELECT current_setting('app.actor_id', true) AS actor", [], tx);
          expect(row).toEqual({ actor: '4242' });
          throw new Error('undo it');
        },
        { actor },
      ),
    ).rejects.toThrow('undo it');
    expect(await named(name)).toBe(0);
  });

  test('two statements sent at once by the callback both join the transaction', async () => {
    const [a, b] = [`Twin A ${unique()}`, `Twin B ${unique()}`];
    await expect(
      withTransaction(async (tx) => {
        await Promise.all([executeWrite('INSERT INTO customers (name) VALUES ($1)', [a], tx), executeWrite('INSERT INTO customers (name) VALUES ($1)', [b], tx)]);
        throw new Error('undo both');
      }),
    ).rejects.toThrow('undo both');
    expect((await named(a)) + (await named(b))).toBe(0);
  });

  test('the stand-in for a first use of the client is gone when the transaction ends, whether or not a statement ran', async () => {
    const clients: DbClient[] = [];
    await withTransaction((tx) => Promise.resolve(clients.push(tx)));
    await withTransaction(async (tx) => {
      clients.push(tx);
      await executeQuery('SELECT $1::int', [1], tx);
    });
    for (const client of clients) expect(client.query).toBe((Object.getPrototypeOf(client) as DbClient).query);
  });
});
