import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { verifyAccessToken } from './access-tokens';
import { AppError, forbidden } from './errors';
import type { CallerKey, CurrentUser, TokenClaims } from './request-context';
import type { ScopeOf } from './scopes';

/**
 * Looks up the caller's current state; given to requireAuth by the app (app.ts passes the sessions
 * module's resolveCurrentUser: http/ imports no module). A cached answer may come back as is, a
 * looked-up one as a promise.
 */
type CurrentUserResolver = (claims: TokenClaims) => CurrentUser | null | Promise<CurrentUser | null>;

/** A key as a request presents it, resolved: the key and its owner now. */
export interface ResolvedKey {
  key: CallerKey;
  owner: CurrentUser;
  /** Records the use (last used at / from), once the request is admitted. */
  recordUse: () => void;
}

/**
 * API keys (docs/api.md §9), given by the app: the keys module's resolver (null: refused) and the
 * scope each route declares in the OpenAPI document.
 */
export interface KeyAuth {
  resolveKey: (presented: string, from: string | undefined) => ResolvedKey | null | Promise<ResolvedKey | null>;
  scopeOf: ScopeOf;
  /** The per-key rate limit, run once a key is admitted (none given: no limit). */
  limit?: RequestHandler;
}

// The scheme is case-insensitive (RFC 7235); the credential is a JWT (base64url parts) or an API key.
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i;
/** API keys start so (the keys module makes them); no JWT does (its first part is base64url JSON: `eyJ`). */
export const KEY_PREFIX = 'cak_';
/** An API key anywhere in a text, as a secret scanner matches it (docs/api.md §9). */
export const KEY_IN_TEXT = /cak_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}/;

/** Whether the URL carries an API key (decoded or not): it is then in every proxy's and browser's history. */
function keyInUrl(url: string): boolean {
  if (!url.includes('cak_') && !url.includes('%')) return false;
  let decoded = url;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    // A malformed escape: the raw text is what a scanner would see.
  }
  return KEY_IN_TEXT.test(decoded) || KEY_IN_TEXT.test(url);
}

/** The Bearer credential; a key sent in the URL is refused, even beside a good header (rotate it). */
function credentialOf(req: IncomingMessage): string {
  if (keyInUrl(req.url ?? '')) throw new AppError('UNAUTHORIZED', { messageKey: 'KEY_IN_URL' });
  const match = BEARER.exec(req.headers.authorization ?? '');
  if (!match?.[1]) throw new AppError('UNAUTHORIZED');
  return match[1];
}

function claimsOf(credential: string): TokenClaims {
  const result = verifyAccessToken(credential);
  if (result === 'expired') throw new AppError('UNAUTHORIZED', { messageKey: 'TOKEN_EXPIRED' });
  if (result === 'invalid') throw new AppError('UNAUTHORIZED', { messageKey: 'TOKEN_INVALID' });
  return result;
}

const pathOf = (req: Request): string => {
  const url = req.originalUrl;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

/**
 * Admits a request made with a key: refused (401) unless resolved; 403 where the route takes no key
 * (KEY_NOT_ALLOWED) or the key lacks the route's scope (INSUFFICIENT_SCOPE, naming it). The owner's
 * own rights still apply after this (requireRole): a key can do at most what its owner can.
 */
function admitKey(req: Request, res: Response, resolved: ResolvedKey | null, keys: KeyAuth, next: NextFunction): void | Promise<void> {
  if (!resolved) throw new AppError('UNAUTHORIZED', { messageKey: 'KEY_INVALID' });
  const scope = keys.scopeOf(req.method, pathOf(req));
  if (scope === undefined) throw forbidden('KEY_NOT_ALLOWED');
  if (!resolved.key.scopes.includes(scope)) throw new AppError('INSUFFICIENT_SCOPE', { params: { scope }, details: [{ path: 'scope', message: scope }] });
  req.user = resolved.owner;
  req.apiKey = resolved.key;
  resolved.recordUse();
  if (keys.limit === undefined) return next();
  return keys.limit(req, res, next) as void | Promise<void>;
}

function withKey(req: Request, res: Response, credential: string, keys: KeyAuth, next: NextFunction): void | Promise<void> {
  // The public id (not a secret) names the request in its log line, refused or not.
  const publicId = credential.slice(KEY_PREFIX.length, KEY_PREFIX.length + 12);
  if (/^[0-9A-Za-z]{12}$/.test(publicId)) req.keyId = publicId;
  const found = keys.resolveKey(credential, req.ip);
  if (found instanceof Promise) return found.then((resolved) => admitKey(req, res, resolved, keys, next));
  return admitKey(req, res, found, keys, next);
}

/**
 * For the health routes, which must answer while the pool is exhausted: an access token's signature
 * only, without touching the database; or an API key with the route's scope (its row is cached).
 */
export function requireToken(keys: KeyAuth): RequestHandler {
  return (req, res, next) => {
    const credential = credentialOf(req);
    if (credential.startsWith(KEY_PREFIX)) return withKey(req, res, credential, keys, next);
    req.claims = claimsOf(credential);
    next();
  };
}

/**
 * Express middleware: verifies the token before anything touches the pool, then loads the caller's
 * current state (active, role) through `resolve` — a deactivated or deleted user is refused — and sets
 * req.claims and req.user; or admits an API key (admitKey). Synchronous when that state is cached (no
 * promise on the path nearly every authenticated request takes); Express 5 passes a throw or a
 * rejected promise to the error handler.
 */
export function requireAuth(resolve: CurrentUserResolver, keys: KeyAuth): RequestHandler {
  const admit = (req: Request, claims: TokenClaims, user: CurrentUser | null, next: NextFunction): void => {
    if (!user) throw new AppError('UNAUTHORIZED', { messageKey: 'TOKEN_INVALID' });
    req.claims = claims;
    req.user = user;
    next();
  };
  return (req, res, next) => {
    const credential = credentialOf(req);
    if (credential.startsWith(KEY_PREFIX)) return withKey(req, res, credential, keys, next);
    const claims = claimsOf(credential);
    const found = resolve(claims);
    if (found instanceof Promise) return found.then((user) => admit(req, claims, user, next));
    admit(req, claims, found, next);
  };
}

/** Lets only the given roles through (after requireAuth). */
export function requireRole(...roles: CurrentUser['role'][]): RequestHandler {
  return (req, _res, next) => {
    if (!req.user || !roles.includes(req.user.role)) throw forbidden();
    next();
  };
}

/** Refuses an API key (after requireAuth): what only a person may do — keys, passwords, sessions. */
export const refuseKey: RequestHandler = (req, _res, next) => {
  if (req.apiKey) throw forbidden('KEY_NOT_ALLOWED');
  next();
};
