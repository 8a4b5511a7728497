import { createHash, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

const ISSUER = 'customer-api';
const AUDIENCE = 'customer-api-clients';

function secret(): string {
  const s = process.env.JWT_SECRET;
  if (!s) throw new Error('JWT_SECRET is not set for the tests');
  return s;
}

export interface TokenUser {
  id: number;
  role: 'admin' | 'user';
  /** The session (auth_sessions.id); a random one when left out (refused by routes that check the session). */
  sid?: string;
}

/** A secret's kid, as the service derives it (http/access-tokens.ts). */
export const keyIdOf = (s: string): string => createHash('sha256').update(s).digest('base64url').slice(0, 12);

/** A real token, signed as the service signs them. */
export function tokenFor(user: TokenUser, options: jwt.SignOptions = {}): string {
  return jwt.sign({ role: user.role, sid: user.sid ?? randomUUID() }, secret(), {
    algorithm: 'HS256',
    keyid: keyIdOf(secret()),
    expiresIn: 3600,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: String(user.id),
    ...options,
  });
}

export function expiredTokenFor(user: TokenUser): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign({ role: user.role, sid: user.sid ?? randomUUID(), iat: now - 7200, exp: now - 3600 }, secret(), {
    algorithm: 'HS256',
    keyid: keyIdOf(secret()),
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: String(user.id),
  });
}

export function wrongSecretTokenFor(user: TokenUser): string {
  const other = 'another-secret-that-is-long-enough-0123456789';
  // With the right kid: the signature, not the key lookup, must be what refuses it.
  return jwt.sign({ role: user.role, sid: user.sid ?? randomUUID() }, other, {
    algorithm: 'HS256',
    keyid: keyIdOf(secret()),
    expiresIn: 3600,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: String(user.id),
  });
}

export const bearer = (token: string) => `Bearer ${token}`;
