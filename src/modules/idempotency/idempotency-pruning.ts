import { getConfig } from '../../config/config';
import { pruneRound, startPruning, type PruningTask } from '../../lib/batched-pruning';
import { pruneIdempotencyKeys } from './idempotency-repository';

/** Expired keys, in batches of 500, at most 10,000 a round, once a minute. */
const task = (ttlSeconds: number): PruningTask => ({
  what: 'expired idempotency keys',
  deleteBatch: (batch) => pruneIdempotencyKeys(ttlSeconds, batch),
  batch: 500,
  maxBatches: 20,
  everyMs: 60_000,
});

/** One round: the count of expired keys deleted. */
export const pruneExpiredIdempotencyKeys = (ttlSeconds = getConfig().idempotencyKeyTtlSeconds): Promise<number> => pruneRound(task(ttlSeconds));

/** Prunes once a minute while the process runs; returns the stop function. */
export const startIdempotencyPruning = (): (() => void) => startPruning(task(getConfig().idempotencyKeyTtlSeconds));
