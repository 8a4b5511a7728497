-- The answers of creating requests sent with an Idempotency-Key (docs/api.md §5). Each is written in the
-- same transaction as the write it answers, so a retry finds a commit whose answer was lost; kept
-- IDEMPOTENCY_KEY_TTL_S, then pruned in small batches (oldest first, through the created_at index).
CREATE TABLE idempotency_keys (
  user_id bigint NOT NULL,
  key text NOT NULL,
  -- sha256 of method, path and body: the same key with another request is refused (422).
  fingerprint text NOT NULL,
  status smallint NOT NULL,
  headers jsonb NOT NULL,
  -- The JSON text as it was sent, so that a replay is byte for byte the first answer.
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
