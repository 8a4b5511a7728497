// The idempotency module's public face: the creating routes answer through answerOnce.
export { answerOnce, IDEMPOTENCY_KEY_HEADER, type Answer, type StreamedBody } from './idempotency';
export { pruneExpiredIdempotencyKeys, startIdempotencyPruning } from './idempotency-pruning';
