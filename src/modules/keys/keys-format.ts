import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { KEY_PREFIX } from '../../http/authenticate';

/**
 * An API key as its owner holds it (docs/api.md §9): `cak_<public id>_<secret><checksum>`, 55
 * characters of [0-9A-Za-z_]:
 * - `cak_` (KEY_PREFIX): the prefix a secret scanner matches (KEY_IN_TEXT);
 * - the public id, 12 base62 characters: how the key is looked up and named (logs, the history, GET /api/keys);
 * - the secret, 32 base62 characters (190 random bits): only its SHA-256 is stored;
 * - the checksum, 6 base62 characters: CRC32 of everything before it, so that a scanner can tell a
 *   real key from a look-alike offline, and the API refuses a mistyped key before any lookup.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PUBLIC_ID_LENGTH = 12;
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY = /^cak_([0-9A-Za-z]{12})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

/** `length` base62 characters, each uniform (bytes ≥ 248 are drawn again: 248 = 4 × 62). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

function checksumOf(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** SHA-256 of the secret: what is stored and compared. */
export const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

export interface NewKey {
  publicId: string;
  /** The whole key, shown once. */
  key: string;
  secretHash: Buffer;
}

export function makeKey(): NewKey {
  const publicId = randomBase62(PUBLIC_ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${KEY_PREFIX}${publicId}_${secret}`;
  return { publicId, key: `${body}${checksumOf(body)}`, secretHash: hashSecret(secret) };
}

/** The public id and secret of a well-formed key whose checksum holds, else null (no lookup needed). */
export function parseKey(text: string): { publicId: string; secret: string } | null {
  const match = KEY.exec(text);
  if (!match) return null;
  if (checksumOf(text.slice(0, -CHECKSUM_LENGTH)) !== match[3]) return null;
  return { publicId: match[1]!, secret: match[2]! };
}

/** Whether the secret hashes to the stored hash, in constant time. */
export function secretMatches(secret: string, stored: Buffer): boolean {
  const hash = hashSecret(secret);
  return hash.length === stored.length && timingSafeEqual(hash, stored);
}
