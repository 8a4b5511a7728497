import { getLogger } from '../logging/logger';

/** A table that is pruned now and then: what it is called in the log, and how one batch is deleted. */
export interface PruningTask {
  /** What is pruned, for the log line ("expired idempotency keys"). */
  what: string;
  /** Deletes up to `batch` rows (oldest first, never waiting on a lock): the count deleted. */
  deleteBatch: (batch: number) => Promise<number>;
  batch: number;
  /** At most this many batches a round, so that one round never runs long. */
  maxBatches: number;
  everyMs: number;
}

/** One round: batches until one deletes fewer than a batch (or maxBatches ran); the count deleted. */
export async function pruneRound(task: Pick<PruningTask, 'deleteBatch' | 'batch' | 'maxBatches'>): Promise<number> {
  let total = 0;
  for (let i = 0; i < task.maxBatches; i += 1) {
    const deleted = await task.deleteBatch(task.batch);
    total += deleted;
    if (deleted < task.batch) break;
  }
  return total;
}

/** Prunes every `everyMs` while the process runs; returns the stop function. A failed round waits for the next. */
export function startPruning(task: PruningTask): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    pruneRound(task)
      .then((deleted) => {
        if (deleted > 0) getLogger().debug({ deleted }, `${task.what} pruned`);
      })
      .catch((err: unknown) => getLogger().debug({ err: (err as Error).message }, `pruning ${task.what} failed; trying again next round`))
      .finally(() => (running = false));
  }, task.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
