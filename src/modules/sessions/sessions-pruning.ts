import { startPruning } from '../../lib/batched-pruning';
import { pruneEndedSessions } from './sessions-repository';

/** Sessions ended more than a day ago (and their refresh tokens), 500 at a time, once a minute; returns the stop function. */
export const startSessionPruning = (): (() => void) =>
  startPruning({ what: 'ended sessions', deleteBatch: pruneEndedSessions, batch: 500, maxBatches: 20, everyMs: 60_000 });
