import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { getConfig } from '../config/config';
import { getLogger } from '../logging/logger';
import type { TokenClaims } from './request-context';

let generatedSecret: string | undefined;
let key: { secret: string; object: KeyObject } | undefined;

/** JWT_SECRET, or outside production a random secret made once per process (tokens die with it). */
export function getJwtSecret(): string {
  const configured = getConfig().jwt.secret;
  if (configured) return configured;
  if (!generatedSecret) {
    generatedSecret = randomBytes(48).toString('base64url');
    getLogger().warn('JWT_SECRET is not set: using a random secret for this process; tokens stop working at restart');
  }
  return generatedSecret;
}

/**
 * The secret as a KeyObject, made once: given a string, jsonwebtoken tries to parse it as a public
 * key on every call, which cost a quarter of the CPU of an authenticated request.
 */
function signingKey(): KeyObject {
  const secret = getJwtSecret();
  if (key?.secret !== secret) key = { secret, object: createSecretKey(Buffer.from(secret, 'utf8')) };
  return key.object;
}

/** Signs an HS256 access token for the user (docs/api.md §3). */
export function signAccessToken(user: { id: number; role: 'admin' | 'user' }): string {
  const { expiresInSeconds, issuer, audience } = getConfig().jwt;
  return jwt.sign({ role: user.role }, signingKey(), {
    algorithm: 'HS256',
    expiresIn: expiresInSeconds,
    issuer,
    audience,
    subject: String(user.id),
  });
}

export type TokenProblem = 'expired' | 'invalid';

// Verifying a token (two base64 decodes, two JSON parses, an HMAC) was the largest cost of an
// authenticated read after Express. A token that verified is remembered by its exact text until
// it expires: the same text cannot carry other claims. Only valid tokens are kept, the map is
// bounded, and it starts afresh when the JWT settings change.
const MAX_VERIFIED = 10_000;
const verified = new Map<string, { claims: TokenClaims; exp: number }>();
let verifiedUnder: object | undefined;

function remember(token: string, claims: TokenClaims, exp: number): void {
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value!);
  verified.set(token, { claims, exp });
}

/**
 * Verifies signature (HS256 pinned), exp, nbf, iss and aud, and the claims' shape.
 * Returns the claims, or why the token is refused.
 */
export function verifyAccessToken(token: string): TokenClaims | TokenProblem {
  const jwtConfig = getConfig().jwt;
  if (verifiedUnder !== jwtConfig) {
    verified.clear();
    verifiedUnder = jwtConfig;
  }
  const known = verified.get(token);
  if (known) {
    // jsonwebtoken's own rule: expired once the current second reaches exp.
    if (Math.floor(Date.now() / 1000) < known.exp) return known.claims;
    verified.delete(token);
    return 'expired';
  }
  const { issuer, audience } = jwtConfig;
  let payload: string | jwt.JwtPayload;
  try {
    payload = jwt.verify(token, signingKey(), { algorithms: ['HS256'], issuer, audience });
  } catch (err) {
    return err instanceof jwt.TokenExpiredError ? 'expired' : 'invalid';
  }
  if (typeof payload === 'string' || typeof payload.exp !== 'number') return 'invalid';
  const userId = Number(payload.sub);
  const role: unknown = payload.role;
  if (!Number.isSafeInteger(userId) || userId <= 0 || (role !== 'admin' && role !== 'user')) return 'invalid';
  const claims: TokenClaims = { userId, role };
  remember(token, claims, payload.exp);
  return claims;
}
