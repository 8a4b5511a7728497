-- Machine clients (docs/api.md §9): API keys, and service accounts to own them.
-- A service account is a user that cannot log in with a password: its password_hash is '!', which no
-- password hashes to (as a locked account in /etc/shadow), and login refuses its kind before looking.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service'));

-- A key is `cak_<public_id>_<secret><checksum>`: only a SHA-256 of the secret is kept (the secret is
-- 190 random bits: no password hashing needed, docs/api.md §9). Looked up by its public id.
CREATE TABLE api_keys (
  public_id      TEXT PRIMARY KEY CHECK (public_id ~ '^[0-9A-Za-z]{12}$'),
  secret_hash    BYTEA NOT NULL,
  name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  owner_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scopes         TEXT[] NOT NULL,
  created_by     BIGINT REFERENCES users (id) ON DELETE SET NULL,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at     TIMESTAMPTZ NOT NULL,
  -- Written at most once a minute per key (not per request).
  last_used_at   TIMESTAMPTZ,
  last_used_from TEXT CHECK (length(last_used_from) <= 64),
  revoked_at     TIMESTAMPTZ
);
-- A user's keys, newest first; and ON DELETE of a user.
CREATE INDEX api_keys_owner_idx ON api_keys (owner_id, created_at);
CREATE INDEX api_keys_created_by_idx ON api_keys (created_by);
