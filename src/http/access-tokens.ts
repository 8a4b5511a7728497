import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { getConfig } from '../config/config';
import { getLogger } from '../logging/logger';
import { setBounded } from '../lib/bounded-map';
import { isRole, type Role, type TokenClaims } from './request-context';

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

interface Keys {
  /** What they were made from: JWT_SECRET (or the generated one) and JWT_PREVIOUS_SECRETS. */
  from: readonly string[];
  signing: { kid: string; key: KeyObject };
  byKid: Map<string, KeyObject>;
}
let keys: Keys | undefined;

/** A secret's key id (the token header's `kid`): the start of its SHA-256, which says nothing of the secret. */
const keyIdOf = (secret: string): string => createHash('sha256').update(secret).digest('base64url').slice(0, 12);

/**
 * The keys as KeyObjects, made once: JWT_SECRET signs and verifies, JWT_PREVIOUS_SECRETS only verify,
 * each found by its kid. (Given a string, jsonwebtoken tries to parse it as a public key on every
 * call, which cost a quarter of the CPU of an authenticated request.)
 */
function currentKeys(): Keys {
  const from = [getJwtSecret(), ...getConfig().jwt.previousSecrets];
  if (keys && keys.from.length === from.length && keys.from.every((s, i) => s === from[i])) return keys;
  const made = from.map((secret) => ({ kid: keyIdOf(secret), key: createSecretKey(Buffer.from(secret, 'utf8')) }));
  keys = { from, signing: made[0]!, byKid: new Map(made.map((k) => [k.kid, k.key])) };
  return keys;
}

/** Signs an HS256 access token for the user's session (docs/api.md §3), with the signing key's kid. */
export function signAccessToken(user: { id: number; role: Role }, sessionId: string): string {
  const { expiresInSeconds, issuer, audience } = getConfig().jwt;
  const { signing } = currentKeys();
  return jwt.sign({ role: user.role, sid: sessionId }, signing.key, {
    algorithm: 'HS256',
    keyid: signing.kid,
    expiresIn: expiresInSeconds,
    issuer,
    audience,
    subject: String(user.id),
  });
}

/** The kid of a token's header, read without verifying anything (it only picks the key to verify with). */
function keyIdOfToken(token: string): string | undefined {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
    const kid = (header as { kid?: unknown } | null)?.kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type TokenProblem = 'expired' | 'invalid';

// Verifying a token (two base64 decodes, two JSON parses, an HMAC) was the largest cost of an
// authenticated read after Express. A token that verified is remembered by its exact text until
// it expires: the same text cannot carry other claims. Only valid tokens are kept, the map is
// bounded, and it starts afresh when the JWT settings change.
const MAX_VERIFIED = 10_000;
const verified = new Map<string, { claims: TokenClaims; exp: number }>();
let verifiedUnder: object | undefined;

function remember(token: string, claims: TokenClaims, exp: number): void {
  setBounded(verified, token, { claims, exp }, MAX_VERIFIED);
}

/**
 * Verifies signature (HS256 pinned, the key its kid names: JWT_SECRET or one of JWT_PREVIOUS_SECRETS),
 * exp, nbf, iss and aud, and the claims' shape (sub, role, sid). Returns the claims, or why the token
 * is refused. Whether its session still lives is the per-request check's (sessions module).
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
  const key = currentKeys().byKid.get(keyIdOfToken(token) ?? '');
  if (!key) return 'invalid';
  let payload: string | jwt.JwtPayload;
  try {
    payload = jwt.verify(token, key, { algorithms: ['HS256'], issuer, audience });
  } catch (err) {
    return err instanceof jwt.TokenExpiredError ? 'expired' : 'invalid';
  }
  if (typeof payload === 'string' || typeof payload.exp !== 'number') return 'invalid';
  const userId = Number(payload.sub);
  const role: unknown = payload.role;
  const sessionId: unknown = payload.sid;
  if (!Number.isSafeInteger(userId) || userId <= 0 || !isRole(role) || typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) return 'invalid';
  const claims: TokenClaims = { userId, role, sessionId };
  remember(token, claims, payload.exp);
  return claims;
}
