import { executeQueryOne, executeWrite, type DbClient } from '../../db';

/** An answer as stored: status, the headers that matter (Location, ETag), and the JSON text of the body. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  bodyText: string;
}

// The first key of the two-part advisory lock: this table's own class of locks.
const LOCK_CLASS = 0x1de7;

/**
 * Takes the key's lock for the rest of the transaction, or answers false at once when another
 * transaction holds it (that request is still running). Transaction-scoped: it holds behind a
 * transaction-mode pooler too. A hash collision only makes another key wait its turn.
 */
export async function tryLockIdempotencyKey(userId: number, key: string, db: DbClient): Promise<boolean> {
  const row = await executeQueryOne<{ locked: boolean }>(
    { name: 'idempotency_lock', text: 'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked' },
    [LOCK_CLASS, `${userId}:${key}`],
    db,
  );
  return row?.locked === true;
}

/** The stored answer of this user's key, when one younger than `ttlSeconds` exists. */
export async function findIdempotentAnswer(userId: number, key: string, ttlSeconds: number, db: DbClient): Promise<(StoredAnswer & { fingerprint: string }) | null> {
  const row = await executeQueryOne<{ fingerprint: string; status: number; headers: Record<string, string>; body: string }>(
    {
      name: 'idempotency_find',
      text: `SELECT fingerprint, status, headers, body FROM idempotency_keys
              WHERE user_id = $1 AND key = $2 AND created_at > now() - make_interval(secs => $3)`,
    },
    [userId, key, ttlSeconds],
    db,
  );
  return row ? { fingerprint: row.fingerprint, status: row.status, headers: row.headers, bodyText: row.body } : null;
}

/** Stores the answer (replacing an expired one of the same key), in the caller's transaction. */
export async function saveIdempotentAnswer(userId: number, key: string, fingerprint: string, answer: StoredAnswer, db: DbClient): Promise<void> {
  await executeWrite(
    {
      name: 'idempotency_save',
      text: `INSERT INTO idempotency_keys (user_id, key, fingerprint, status, headers, body) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id, key) DO UPDATE
               SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status, headers = EXCLUDED.headers, body = EXCLUDED.body, created_at = now()`,
    },
    [userId, key, fingerprint, answer.status, JSON.stringify(answer.headers), answer.bodyText],
    db,
  );
}

/**
 * Deletes up to `batch` keys older than `ttlSeconds`, oldest first; rows another transaction holds
 * are skipped, so a prune never waits on a request nor holds a long lock. The count deleted.
 */
export async function pruneIdempotencyKeys(ttlSeconds: number, batch: number): Promise<number> {
  const { rowCount } = await executeWrite(
    {
      name: 'idempotency_prune',
      text: `DELETE FROM idempotency_keys WHERE (user_id, key) IN (
               SELECT user_id, key FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)
                ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    },
    [ttlSeconds, batch],
  );
  return rowCount;
}
