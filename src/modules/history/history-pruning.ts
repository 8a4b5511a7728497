import { getConfig } from '../../config/config';
import { pruneRound, startPruning, type PruningTask } from '../../lib/batched-pruning';
import { pruneHistory } from './history-repository';

/** Entries older than HISTORY_RETENTION_DAYS, in batches of 1,000, at most 50,000 a round, once a minute. */
const task = (days: number): PruningTask => ({
  what: 'history past its retention',
  deleteBatch: (batch) => pruneHistory(days, batch),
  batch: 1000,
  maxBatches: 50,
  everyMs: 60_000,
});

/** One round: the count of entries deleted (none when the retention is 0: kept forever). */
export const pruneOldHistory = (days = getConfig().historyRetentionDays): Promise<number> => (days === 0 ? Promise.resolve(0) : pruneRound(task(days)));

/** Prunes once a minute while the process runs, unless HISTORY_RETENTION_DAYS is 0; returns the stop function. */
export function startHistoryPruning(): () => void {
  const days = getConfig().historyRetentionDays;
  return days === 0 ? () => undefined : startPruning(task(days));
}
