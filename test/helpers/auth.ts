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
}

/** A real token, signed as the service signs them. */
export function tokenFor(user: TokenUser, options: jwt.SignOptions = {}): string {
  return jwt.sign({ role: user.role }, secret(), {
    algorithm: 'HS256',
    expiresIn: 3600,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: String(user.id),
    ...options,
  });
}

export function expiredTokenFor(user: TokenUser): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign({ role: user.role, iat: now - 7200, exp: now - 3600 }, secret(), {
    algorithm: 'HS256',
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: String(user.id),
  });
}

export function wrongSecretTokenFor(user: TokenUser): string {
  return jwt.sign({ role: user.role }, 'another-secret-that-is-long-enough-0123456789', {
    algorithm: 'HS256',
    expiresIn: 3600,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: String(user.id),
  });
}

export const bearer = (token: string) => `Bearer ${token}`;
