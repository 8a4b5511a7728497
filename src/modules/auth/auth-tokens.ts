import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { getConfig } from '../../config/config';
import { getLogger } from '../../logging/logger';
import type { TokenClaims } from '../../http/request-context';

let generatedSecret: string | undefined;

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

/** Signs an HS256 access token for the user (API.md §3). */
export function signAccessToken(user: { id: number; role: 'admin' | 'user' }): string {
  const { expiresInSeconds, issuer, audience } = getConfig().jwt;
  return jwt.sign({ role: user.role }, getJwtSecret(), {
    algorithm: 'HS256',
    expiresIn: expiresInSeconds,
    issuer,
    audience,
    subject: String(user.id),
  });
}

export type TokenProblem = 'expired' | 'invalid';

/**
 * Verifies signature (HS256 pinned), exp, nbf, iss and aud, and the claims' shape.
 * Returns the claims, or why the token is refused.
 */
export function verifyAccessToken(token: string): TokenClaims | TokenProblem {
  const { issuer, audience } = getConfig().jwt;
  let payload: string | jwt.JwtPayload;
  try {
    payload = jwt.verify(token, getJwtSecret(), { algorithms: ['HS256'], issuer, audience });
  } catch (err) {
    return err instanceof jwt.TokenExpiredError ? 'expired' : 'invalid';
  }
  if (typeof payload === 'string' || typeof payload.exp !== 'number') return 'invalid';
  const userId = Number(payload.sub);
  const role: unknown = payload.role;
  if (!Number.isSafeInteger(userId) || userId <= 0 || (role !== 'admin' && role !== 'user')) return 'invalid';
  return { userId, role };
}
