import { createHash, createHmac, randomBytes } from 'node:crypto';
import { getJwtSecret } from '../../http/access-tokens';

/** A refresh token: 256 random bits, base64url (43 characters). */
export const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const newRefreshToken = (): string => randomBytes(32).toString('base64url');

/** What the database keeps of a refresh token: its SHA-256 (a 256-bit random token needs no slow hash). */
export const hashOfToken = (token: string): Buffer => createHash('sha256').update(token).digest();

let successorKey: { secret: string; key: Buffer } | undefined;

/**
 * The token a refresh token is rotated into: an HMAC of it under a key derived from JWT_SECRET. Two
 * refreshes with the same token (two tabs at once) get the same successor without the database ever
 * holding a token in plain.
 */
export function successorOf(token: string): string {
  const secret = getJwtSecret();
  if (successorKey?.secret !== secret) successorKey = { secret, key: createHash('sha256').update(`customer-api refresh successor\u0000${secret}`).digest() };
  return createHmac('sha256', successorKey.key).update(token).digest('base64url');
}
