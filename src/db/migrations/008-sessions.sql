-- Sessions that last and end when they should (docs/api.md §3). A login opens a session; its refresh
-- tokens (opaque, 256 random bits) are kept only as SHA-256 hashes; each refresh rotates the token.
-- Access tokens carry the session's id, so ending a session ends them too (the per-request check).
CREATE TABLE auth_sessions (
  id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Sliding: REFRESH_TOKEN_TTL_S from the last refresh, never past max_expires_at.
  expires_at     TIMESTAMPTZ NOT NULL,
  -- Absolute: SESSION_MAX_AGE_S from the login.
  max_expires_at TIMESTAMPTZ NOT NULL,
  revoked_at     TIMESTAMPTZ,
  revoked_reason TEXT,
  user_agent     TEXT CHECK (length(user_agent) <= 500)
);
-- The caller's live sessions, and ending all of a user's at once.
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id) WHERE revoked_at IS NULL;
-- Pruning: sessions past their end.
CREATE INDEX auth_sessions_expires_at_idx ON auth_sessions (expires_at);

-- Every refresh token a session was given, as a hash. rotated_at is set once, by the refresh that used
-- it (one UPDATE: two refreshes at once cannot both rotate it); the token it was rotated into is
-- derived from it (HMAC), so a second refresh within the grace window gets the same successor. A
-- rotated token presented after the window is a stolen one: the session is revoked.
CREATE TABLE auth_refresh_tokens (
  token_hash BYTEA PRIMARY KEY,
  session_id UUID NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
  issued_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  rotated_at TIMESTAMPTZ
);
CREATE INDEX auth_refresh_tokens_session_idx ON auth_refresh_tokens (session_id);
