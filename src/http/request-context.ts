import type { IncomingMessage } from 'node:http';
import accepts from 'accepts';
import type { Request } from 'express';
import { z } from 'zod';
import type { TransactionActor } from '../db';
import type { Locale } from './messages';
import type { Scope } from './scopes';

/** The roles a user can have: declared here only (users.role's CHECK in migration 001 is held to it by a test). */
export const ROLES = ['admin', 'user'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (value: unknown): value is Role => (ROLES as readonly unknown[]).includes(value);

/** What a verified token says (docs/api.md §3). */
export interface TokenClaims {
  userId: number;
  role: Role;
  /** The session the token belongs to (ending it ends the token). */
  sessionId: string;
}

/** The caller as the database knows it now (role in effect, not the one frozen in the token). */
export const CurrentUserSchema = z.object({ id: z.number().int(), email: z.string(), name: z.string(), role: z.enum(ROLES) });
export type CurrentUser = z.output<typeof CurrentUserSchema>;

/** The API key a request was made with (docs/api.md §9): never its secret. */
export interface CallerKey {
  /** The public id. */
  id: string;
  name: string;
  ownerId: number;
  scopes: readonly Scope[];
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the request logger: the caller's X-Request-Id when well formed, else a UUID. */
      id: string;
      /** Set by requireToken / requireAuth. */
      claims?: TokenClaims;
      /** Set by requireAuth; with a key, its owner. */
      user?: CurrentUser;
      /** Set by requireAuth / requireToken when the request was made with an API key. */
      apiKey?: CallerKey;
      /** The public id of the API key the request presented, admitted or not (for its log line). */
      keyId?: string;
    }
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's own X-Request-Id when it is well formed, else undefined. */
export function acceptableRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : undefined;
}

/** `en` or `tr`, from Accept-Language, else DEFAULT_LOCALE. */
export function localeOf(req: IncomingMessage, fallback: Locale): Locale {
  if (!req.headers['accept-language']) return fallback;
  const best = accepts(req).languages('en', 'tr');
  return best === 'tr' || best === 'en' ? best : fallback;
}

/**
 * The route template (`/api/customers/:id`), never the raw path with its ids. The mount path is
 * the one mount() recorded: Express resets req.baseUrl when an error leaves the router.
 */
export function routeTemplateOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return 'unmatched';
  const mount = (req.res?.locals.mountPath as string | undefined) ?? req.baseUrl;
  return path === '/' && mount ? mount : `${mount}${path}`;
}

/** The user id a request acted as, when it was authenticated. */
export function userIdOf(req: Request): number | undefined {
  return req.user?.id ?? req.claims?.userId;
}

/** Who a request's changes are made for, as the history records them: the caller and the request id. */
export function actorOf(req: Request): TransactionActor {
  return { userId: userIdOf(req) ?? null, requestId: req.id, keyId: req.apiKey?.id ?? null };
}
