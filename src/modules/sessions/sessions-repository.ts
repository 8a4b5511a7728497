import { executeQuery, executeQueryOne, executeWrite, type DbClient } from '../../db';
import type { CurrentUser } from '../../http/request-context';
import type { SessionSummary } from './sessions-schemas';

/** Two refreshes with one token within this many seconds are two tabs, not a theft. */
export const REFRESH_GRACE_SECONDS = 10;


/** Opens a session and records its first refresh token, in one statement. */
export async function insertSession(
  userId: number,
  userAgent: string | null,
  tokenHash: Buffer,
  lifetimes: { refreshTtlSeconds: number; maxAgeSeconds: number },
  db?: DbClient,
): Promise<{ id: string; expires_at: Date }> {
  const row = await executeQueryOne<{ id: string; expires_at: Date }>(
    {
      name: 'sessions_insert',
      text: `WITH s AS (
               INSERT INTO auth_sessions (user_id, user_agent, expires_at, max_expires_at)
               VALUES ($1, $2, now() + make_interval(secs => least($3::int, $4::int)), now() + make_interval(secs => $4::int))
               RETURNING id, expires_at
             ), t AS (INSERT INTO auth_refresh_tokens (token_hash, session_id) SELECT $5, id FROM s)
             SELECT id, expires_at FROM s`,
    },
    [userId, userAgent, lifetimes.refreshTtlSeconds, lifetimes.maxAgeSeconds, tokenHash],
    db,
  );
  return row!;
}

/**
 * Rotates a refresh token, in one statement: marks it used (only if it was not: two refreshes at once
 * cannot both pass), slides the session's end, and records the successor. The session and user, or
 * null when the token is unknown, already used, or its session has ended.
 */
export async function rotateRefreshToken(tokenHash: Buffer, successorHash: Buffer, refreshTtlSeconds: number): Promise<{ id: string; user_id: string; expires_at: Date } | null> {
  return executeQueryOne(
    {
      name: 'sessions_rotate',
      text: `WITH used AS (
               UPDATE auth_refresh_tokens SET rotated_at = now() WHERE token_hash = $1 AND rotated_at IS NULL RETURNING session_id
             ), session AS (
               UPDATE auth_sessions s SET last_used_at = now(), expires_at = least(now() + make_interval(secs => $3), s.max_expires_at)
                 FROM used WHERE s.id = used.session_id AND s.revoked_at IS NULL AND s.expires_at > now()
               RETURNING s.id, s.user_id, s.expires_at
             ), successor AS (INSERT INTO auth_refresh_tokens (token_hash, session_id) SELECT $2, id FROM session)
             SELECT id, user_id, expires_at FROM session`,
    },
    [tokenHash, successorHash, refreshTtlSeconds],
  );
}

interface UsedToken {
  session_id: string;
  user_id: string;
  expires_at: Date;
  /** The session has not ended. */
  live: boolean;
  /** The token was rotated, less than REFRESH_GRACE_SECONDS ago. */
  in_grace: boolean;
  rotated: boolean;
  /** Its successor exists and has not been rotated itself. */
  successor_fresh: boolean;
}

/** What is known of a token that did not rotate: its session, and whether it was used and when. */
export async function findUsedToken(tokenHash: Buffer, successorHash: Buffer): Promise<UsedToken | null> {
  return executeQueryOne<UsedToken>(
    {
      name: 'sessions_find_used_token',
      text: `SELECT t.session_id, s.user_id, s.expires_at, s.revoked_at IS NULL AND s.expires_at > now() AS live,
                    t.rotated_at IS NOT NULL AS rotated,
                    coalesce(t.rotated_at > now() - make_interval(secs => ${REFRESH_GRACE_SECONDS}), false) AS in_grace,
                    EXISTS (SELECT 1 FROM auth_refresh_tokens n WHERE n.token_hash = $2 AND n.session_id = t.session_id AND n.rotated_at IS NULL) AS successor_fresh
               FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
              WHERE t.token_hash = $1`,
    },
    [tokenHash, successorHash],
  );
}

/** Ends one session (of this user): true when it was live. */
export async function revokeSession(sessionId: string, userId: number, reason: string, db?: DbClient): Promise<boolean> {
  const { rowCount } = await executeWrite(
    {
      name: 'sessions_revoke',
      text: 'UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL',
    },
    [sessionId, userId, reason],
    db,
  );
  return rowCount > 0;
}

/** Ends every live session of the user but `keep` (when given); the count ended. */
export async function revokeUserSessions(userId: number, reason: string, keep: string | null, db?: DbClient): Promise<number> {
  const { rowCount } = await executeWrite(
    {
      name: 'sessions_revoke_user',
      text: 'UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $3::uuid',
    },
    [userId, reason, keep],
    db,
  );
  return rowCount;
}

/** The user's live sessions, most recently used first (at most 100). */
export async function listUserSessions(userId: number): Promise<SessionSummary[]> {
  return executeQuery<SessionSummary>(
    {
      name: 'sessions_list',
      text: `SELECT id, created_at, last_used_at, expires_at, user_agent FROM auth_sessions
              WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY last_used_at DESC LIMIT 100`,
    },
    [userId],
  );
}

/**
 * The caller behind an access token as the database knows it now: the user, active, and the token's
 * session not ended (revoked, or past its absolute age). Null otherwise.
 */
export async function findSessionUser(sessionId: string, userId: number): Promise<CurrentUser | null> {
  const row = await executeQueryOne<Omit<CurrentUser, 'id'> & { id: string }>(
    {
      name: 'sessions_find_user',
      text: `SELECT u.id, u.email, u.name, u.role FROM auth_sessions s JOIN users u ON u.id = s.user_id
              WHERE s.id = $1 AND s.user_id = $2 AND u.is_active AND s.revoked_at IS NULL AND s.max_expires_at > now()`,
    },
    [sessionId, userId],
  );
  return row ? { ...row, id: Number(row.id) } : null;
}

/** Deletes up to `batch` sessions that ended more than a day ago (their tokens with them). */
export async function pruneEndedSessions(batch: number): Promise<number> {
  const { rowCount } = await executeWrite(
    {
      name: 'sessions_prune',
      text: `DELETE FROM auth_sessions WHERE id IN (
               SELECT id FROM auth_sessions WHERE expires_at < now() - interval '1 day' ORDER BY expires_at LIMIT $1)`,
    },
    [batch],
  );
  return rowCount;
}
