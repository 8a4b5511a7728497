import { getConfig } from '../../config/config';
import { getLogger } from '../../logging/logger';
import { pruneIdempotencyKeys } from './idempotency-repository';

const PRUNE_EVERY_MS = 60_000;
const BATCH = 500;
const MAX_BATCHES = 20;

/** One round: expired keys deleted in batches of 500 (at most 10,000 a round); the count deleted. */
export async function pruneExpiredIdempotencyKeys(ttlSeconds = getConfig().idempotencyKeyTtlSeconds): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i += 1) {
    const deleted = await pruneIdempotencyKeys(ttlSeconds, BATCH);
    total += deleted;
    if (deleted < BATCH) break;
  }
  return total;
}

/** Prunes once a minute while the process runs; returns the stop function. A failed round waits for the next. */
export function startIdempotencyPruning(): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    pruneExpiredIdempotencyKeys()
      .then((deleted) => {
        if (deleted > 0) getLogger().debug({ deleted }, 'expired idempotency keys pruned');
      })
      .catch((err: unknown) => getLogger().debug({ err: (err as Error).message }, 'idempotency key pruning failed; trying again in a minute'))
      .finally(() => (running = false));
  }, PRUNE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
