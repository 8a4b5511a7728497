import { getConfig } from '../../config/config';
import { getMetrics } from '../../metrics/metrics';
import type { DbClient } from '../../db';
import { getLogger } from '../../logging/logger';
import { forgetCurrentUser, forgetSession } from './sessions-current-user';
import { findUsedToken, insertSession, listUserSessions, revokeSession, revokeUserSessions, rotateRefreshToken } from './sessions-repository';
import type { SessionSummary } from './sessions-schemas';
import { hashOfToken, newRefreshToken, successorOf } from './sessions-refresh-tokens';

/** A session and the refresh token just issued for it (the only time it is known in plain). */
export interface IssuedSession {
  id: string;
  userId: number;
  refreshToken: string;
  expiresAt: Date;
}

/** Why a refresh was refused (all are 401 to the client; `reused` also ended the session). */
export type RefreshRefusal = 'unknown' | 'ended' | 'reused' | 'superseded';

const USER_AGENT_MAX = 500;

/** Opens a session for a user who just proved their password. */
export async function openSession(userId: number, userAgent: string | undefined): Promise<IssuedSession> {
  const refreshToken = newRefreshToken();
  const row = await insertSession(userId, userAgent?.slice(0, USER_AGENT_MAX) ?? null, hashOfToken(refreshToken), getConfig().sessions);
  return { id: row.id, userId, refreshToken, expiresAt: row.expires_at };
}

/**
 * One use per refresh token: the session's next token, or why not. Two refreshes with the same token
 * within REFRESH_GRACE_SECONDS (parallel tabs) both get the same successor; a rotated token presented
 * after that is a stolen one: the whole session ends, with a warn line.
 */
export async function refreshSession(token: string): Promise<IssuedSession | RefreshRefusal> {
  const hash = hashOfToken(token);
  const successor = successorOf(token);
  const successorHash = hashOfToken(successor);
  const rotated = await rotateRefreshToken(hash, successorHash, getConfig().sessions.refreshTtlSeconds);
  if (rotated) return { id: rotated.id, userId: Number(rotated.user_id), refreshToken: successor, expiresAt: rotated.expires_at };
  const used = await findUsedToken(hash, successorHash);
  if (!used) return 'unknown';
  if (!used.live) return 'ended';
  if (used.in_grace) return used.successor_fresh ? { id: used.session_id, userId: Number(used.user_id), refreshToken: successor, expiresAt: used.expires_at } : 'superseded';
  if (!used.rotated) return 'unknown';
  const userId = Number(used.user_id);
  await revokeSession(used.session_id, userId, 'refresh token reused');
  forgetSession(used.session_id);
  getLogger().warn({ sessionId: used.session_id, userId }, 'a refresh token was used again after it had been rotated (a stolen token?): the session is ended');
  if (getConfig().metrics.enabled) getMetrics().refreshTokenReuses.inc();
  return 'reused';
}

/** Ends one of the user's sessions (logout, or from the sessions list): false when it was not live. */
export async function endSession(sessionId: string, userId: number, reason: string): Promise<boolean> {
  const ended = await revokeSession(sessionId, userId, reason);
  forgetSession(sessionId);
  return ended;
}

/**
 * Ends every session of the user but `keep`: refresh tokens at once, access tokens on the next
 * per-request check (at once here, within AUTH_CACHE_TTL_MS elsewhere). Pass the transaction of the
 * change that causes it; then this instance's cached copies are the caller's to drop after its COMMIT
 * (forgetCurrentUser): dropped before, a request in between could cache the sessions as still live.
 */
export async function endUserSessions(userId: number, reason: string, keep: string | null, db?: DbClient): Promise<number> {
  const ended = await revokeUserSessions(userId, reason, keep, db);
  if (db === undefined) forgetCurrentUser(userId);
  return ended;
}

export const listSessions = (userId: number): Promise<SessionSummary[]> => listUserSessions(userId);
