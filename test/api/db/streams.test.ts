import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { copyFrom, copyTo, executeQuery, executeQueryOne, poolStats, queryBatches, withTransaction } from '../../../src/db';
import { inlineParams } from '../../../src/db/streams';
import { adminUrl, withAdminClient } from '../../helpers/admin-db';
import { expectNoClientInUse } from '../../helpers/pool';

afterEach(() => expectNoClientInUse());

beforeAll(async () => {
  await executeQuery('CREATE TABLE IF NOT EXISTS stream_test (n int PRIMARY KEY, label text)');
  await executeQuery('TRUNCATE stream_test');
  await executeQuery("INSERT INTO stream_test SELECT g, 'row ' || g FROM generate_series(1, 2500) g");
});

/** Statements of ours still running (or idle in a transaction) in PostgreSQL. */
const ourStatements = (like: string) =>
  withAdminClient(adminUrl(), async (c) => (await c.query('SELECT state FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()', [like])).rows as { state: string }[]);

async function waitFor(check: () => Promise<boolean> | boolean, ms = 1000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('queryBatches', () => {
  test('every row, in batches of the size asked; the client is back at the end', async () => {
    const sizes: number[] = [];
    let sum = 0;
    for await (const rows of queryBatches<{ n: number }>('SELECT n FROM stream_test WHERE n <= $1 ORDER BY n', [2500], { batchSize: 1000 })) {
      sizes.push(rows.length);
      for (const r of rows) sum += r.n;
    }
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(sum).toBe((2500 * 2501) / 2);
  });

  test('the consumer stopping early (break) closes the cursor and releases the client', async () => {
    let seen = 0;
    for await (const rows of queryBatches('SELECT n FROM stream_test ORDER BY n', [], { batchSize: 100 })) {
      seen += rows.length;
      if (seen >= 200) break;
    }
    expect(seen).toBe(200);
    expect(poolStats().in_use).toBe(0);
    expect(await ourStatements('SELECT n FROM stream_test ORDER BY n')).toEqual(expect.not.arrayContaining([expect.objectContaining({ state: expect.stringMatching(/in transaction/) })]));
  });

  test('an error in the SQL, or thrown by the consumer, releases the client', async () => {
    await expect(
      (async () => {
        for await (const rows of queryBatches('SELECT n / 0 FROM stream_test')) expect(rows).toBeUndefined();
      })(),
    ).rejects.toThrow(/division by zero/);
    await expect(
      (async () => {
        for await (const rows of queryBatches('SELECT n FROM stream_test', [], { batchSize: 10 })) if (rows.length > 0) throw new Error('consumer failed');
      })(),
    ).rejects.toThrow('consumer failed');
  });

  test('an abort signal stops it and the connection goes', async () => {
    const controller = new AbortController();
    const reading = (async () => {
      for await (const rows of queryBatches('SELECT n FROM stream_test', [], { batchSize: 10, signal: controller.signal })) {
        expect(rows).toHaveLength(10);
        controller.abort(new Error('stop'));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await expect(reading).rejects.toThrow();
    await waitFor(() => poolStats().in_use === 0);
  });
});

describe('copyTo', () => {
  test('streams the COPY output; parameters are written in as literals', async () => {
    const chunks: Buffer[] = [];
    await pipeline(
      copyTo('COPY (SELECT n, label FROM stream_test WHERE n <= $1 AND label <> $2 ORDER BY n) TO STDOUT WITH (FORMAT csv)', [3, "it's"]),
      new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) }),
    );
    expect(Buffer.concat(chunks).toString()).toBe('1,row 1\n2,row 2\n3,row 3\n');
    for (const value of ["O'Brien\\", 'İı🚀', '$2 -- not a parameter']) {
      expect((await executeQueryOne<{ v: string }>(`SELECT ${inlineParams('$1::text', [value])} AS v`))!.v).toBe(value);
    }
    expect(inlineParams('$1 AND $2 AND $3', [4, null, true])).toBe('4 AND NULL AND true');
  });

  test('destroying the stream stops the COPY within 1 s and releases the client', async () => {
    await executeQuery('CREATE TABLE IF NOT EXISTS stream_big AS SELECT g AS n, repeat(\'y\', 2000) AS pad FROM generate_series(1, 20000) g');
    const stream = copyTo('COPY (SELECT n, pad FROM stream_big) TO STDOUT');
    await new Promise((r) => stream.once('data', r));
    stream.pause();
    await waitFor(async () => (await ourStatements('COPY (SELECT n, pad FROM stream_big)%')).length === 1, 2000);
    stream.destroy();
    const started = Date.now();
    await waitFor(async () => poolStats().in_use === 0 && (await ourStatements('COPY (SELECT n, pad FROM stream_big)%')).length === 0, 3000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('an error in the statement fails the stream and releases the client', async () => {
    const sink = new Writable({ write: (_c, _e, done) => done() });
    await expect(pipeline(copyTo('COPY (SELECT n / 0 FROM stream_test) TO STDOUT'), sink)).rejects.toThrow(/division by zero/);
  });
});

describe('copyFrom', () => {
  test('copies a stream in its own transaction: the number of rows', async () => {
    await executeQuery('DELETE FROM stream_test WHERE n > 10000');
    const n = await copyFrom('COPY stream_test (n, label) FROM STDIN', Readable.from(['10001\tone\n10002\ttwo\n', '10003\tthree\n']));
    expect(n).toBe(3);
    expect((await executeQueryOne<{ c: number }>('SELECT count(*)::int AS c FROM stream_test WHERE n > 10000'))!.c).toBe(3);
  });

  test('a source that fails: nothing of it stays, the client is released', async () => {
    async function* failing() {
      yield await Promise.resolve('20001\tfirst\n');
      throw new Error('the source broke');
    }
    await expect(copyFrom('COPY stream_test (n, label) FROM STDIN', failing())).rejects.toThrow('the source broke');
    expect((await executeQueryOne<{ c: number }>('SELECT count(*)::int AS c FROM stream_test WHERE n > 20000'))!.c).toBe(0);
  });

  test('inside withTransaction it joins the transaction: a later failure rolls the copy back too', async () => {
    await expect(
      withTransaction(async (tx) => {
        await copyFrom('COPY stream_test (n, label) FROM STDIN', ['30001\tin tx\n'], { db: tx });
        throw new Error('after the copy');
      }),
    ).rejects.toThrow('after the copy');
    expect((await executeQueryOne<{ c: number }>('SELECT count(*)::int AS c FROM stream_test WHERE n > 30000'))!.c).toBe(0);
  });

  test('bad data: the server refuses it, nothing stays', async () => {
    await expect(copyFrom('COPY stream_test (n, label) FROM STDIN', ['40001\tok\nnot-a-number\tbad\n'])).rejects.toThrow(/invalid input syntax/);
    expect((await executeQueryOne<{ c: number }>('SELECT count(*)::int AS c FROM stream_test WHERE n > 40000'))!.c).toBe(0);
  });
});
