import { crc32 } from 'node:zlib';

// API keys made the way a secret scanner checks them (docs/api.md §9), independently of the service's code.
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** CRC32 of `body` as six base62 digits, most significant first. */
export function checksumOf(body: string): string {
  let n = crc32(body);
  let digits = '';
  for (let i = 0; i < 6; i++) {
    digits = ALPHABET[n % 62]! + digits;
    n = Math.floor(n / 62);
  }
  return digits;
}

/** A well-formed key (its checksum right) for this public id and secret. */
export const keyOf = (publicId: string, secret: string): string => `cak_${publicId}_${secret}${checksumOf(`cak_${publicId}_${secret}`)}`;
