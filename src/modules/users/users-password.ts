import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import argon2 from 'argon2';
import { getConfig } from '../../config/config';
import { AppError } from '../../http/errors';

/**
 * Passwords: argon2id at OWASP's first recommendation (m = 19 MiB, t = 2, p = 1), chosen by measured
 * login latency and memory on this machine kind (docs/api.md §3, "Passwords"; docs/operations.md). The parameters are stored with
 * each hash (the PHC string), so a hash made with older ones — argon2id with other parameters, or the
 * scrypt hashes of earlier versions — still verifies, and is replaced on the next successful login.
 */
const ARGON2 = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * At most PASSWORD_HASH_CONCURRENCY hashes at once per process (19 MiB each), up to MAX_WAITING more
 * queued; past that a login is refused with 429 and Retry-After, so that a flood of logins cannot push
 * the process past its memory. (The login rate limits stay in front of this.)
 */
const MAX_WAITING = 64;
let running = 0;
const waiting: (() => void)[] = [];

async function withKdfSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= getConfig().passwordHashConcurrency) {
    if (waiting.length >= MAX_WAITING) throw new AppError('TOO_MANY_REQUESTS', { retryAfterSeconds: 1 });
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running += 1;
  }
  try {
    return await work();
  } finally {
    // The slot passes straight to the next in line, or is given back.
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

/** A new hash: `$argon2id$v=19$m=19456,t=2,p=1$salt$hash` (the PHC string). */
export function hashPassword(password: string): Promise<string> {
  return withKdfSlot(() => argon2.hash(password.normalize('NFC'), ARGON2));
}

/** The scrypt hashes of earlier versions: `scrypt$N$r$p$salt$hash` (base64url). */
function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const [, n, r, p, salt, hash] = stored.split('$');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!salt || !hash || !Object.values(params).every((v) => Number.isSafeInteger(v) && v > 0)) return Promise.resolve(false);
  const expected = Buffer.from(hash, 'base64url');
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), Buffer.from(salt, 'base64url'), expected.length, options, (err, key) => (err ? reject(err) : resolve(timingSafeEqual(key, expected))));
  });
}

/** Compares in constant time; a malformed stored hash never matches. */
export function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (stored.startsWith('scrypt$')) return withKdfSlot(() => verifyScrypt(password, stored));
  if (!stored.startsWith('$argon2')) return Promise.resolve(false);
  return withKdfSlot(() => argon2.verify(stored, password.normalize('NFC')).catch(() => false));
}

/** Whether a stored hash was made with other parameters than today's (then it is replaced at the next login). */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith('$argon2id$') || argon2.needsRehash(stored, ARGON2);
}

let dummyHash: Promise<string> | undefined;

/** Spends the same time as a real check, for unknown emails (same answer, same timing). */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummyHash);
  return false;
}
