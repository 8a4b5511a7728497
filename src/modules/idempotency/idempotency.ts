import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { getConfig } from '../../config/config';
import { changeAs, type DbClient } from '../../db';
import { AppError, validationError } from '../../http/errors';
import { detail } from '../../http/messages';
import { actorOf } from '../../http/request-context';
import { sendJsonText } from '../../http/send-json';
import { findIdempotentAnswer, saveIdempotentAnswer, tryLockIdempotencyKey, type StoredAnswer } from './idempotency-repository';

/**
 * Idempotency-Key on the creating POSTs (docs/api.md §5; Stripe's rules, draft-ietf-httpapi-idempotency-key-header).
 * The first answer is stored in the same transaction as the write, so a retry of a commit whose answer
 * was lost (a failover, a cut connection) gets that answer again instead of a second row.
 */

/** What a creating route answers: status, the headers worth replaying, the body. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
const KEY = /^[\x20-\x7e]{1,255}$/;

/** The request's key: undefined without the header; 400 when it is not 1-255 printable ASCII characters. */
function keyOf(req: Request): string | undefined {
  const key = req.get(IDEMPOTENCY_KEY_HEADER);
  if (key === undefined) return undefined;
  if (!KEY.test(key)) {
    throw validationError([{ path: IDEMPOTENCY_KEY_HEADER, message: detail('IDEMPOTENCY_KEY') }], 'VALIDATION_HEADER');
  }
  return key;
}

/**
 * A body the route reads as a stream (an import) instead of the parsed JSON: its digest once read, and
 * a way to read it to the end without using it (a replay compares the digest).
 */
export interface StreamedBody {
  digest(): string;
  drain(): Promise<void>;
}

/** Method, path (with its query) and body: the same key with another request is refused. */
const fingerprintOf = (req: Request, streamed: StreamedBody | undefined): string =>
  createHash('sha256')
    .update(`${req.method}\n${req.originalUrl}\n${streamed ? streamed.digest() : JSON.stringify(req.body ?? null)}`)
    .digest('hex');

function send(res: Response, answer: StoredAnswer, replayed: boolean): void {
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  sendJsonText(res, answer.status, answer.bodyText);
}

const stored = (answer: Answer): StoredAnswer => ({ status: answer.status, headers: answer.headers, bodyText: JSON.stringify(answer.body) });

/**
 * Runs a creating route's `write` in a transaction that names the caller as its actor, and sends its
 * answer. With Idempotency-Key, that transaction first takes the key's lock (held by a request still
 * running → 409 IDEMPOTENCY_KEY_IN_USE), then replays a stored answer for the same request (another request → 422
 * IDEMPOTENCY_KEY_REUSED), else writes and stores the answer. A write that fails stores nothing.
 * Parse and check the input before calling: a request that fails validation stores nothing either.
 */
export async function answerOnce(req: Request, res: Response, write: (db: DbClient) => Promise<Answer>, streamed: { streamedBody?: StreamedBody } = {}): Promise<void> {
  const key = keyOf(req);
  const { streamedBody } = streamed;
  // A change by the caller (changeAs), run again when rolled back before COMMIT — unless it read a
  // streamed body, which cannot be read twice.
  const actor = actorOf(req);
  const options = { rerunIfRolledBack: streamedBody === undefined };
  if (key === undefined) {
    send(res, stored(await changeAs(actor, write, options)), false);
    return;
  }
  const userId = req.user!.id;
  const ttlSeconds = getConfig().idempotencyKeyTtlSeconds;
  const outcome = await changeAs(actor, async (tx) => {
    if (!(await tryLockIdempotencyKey(userId, key, tx))) throw new AppError('IDEMPOTENCY_KEY_IN_USE', { retryAfterSeconds: 1 });
    const previous = await findIdempotentAnswer(userId, key, ttlSeconds, tx);
    if (previous) {
      await streamedBody?.drain();
      if (previous.fingerprint !== fingerprintOf(req, streamedBody)) throw new AppError('IDEMPOTENCY_KEY_REUSED');
      return { answer: previous, replayed: true };
    }
    const answer = stored(await write(tx));
    // A streamed body has been read by `write`: its digest is known now.
    await saveIdempotentAnswer(userId, key, fingerprintOf(req, streamedBody), answer, tx);
    return { answer, replayed: false };
  }, options);
  send(res, outcome.answer, outcome.replayed);
}
