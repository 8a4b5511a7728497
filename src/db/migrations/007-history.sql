-- Who changed what (docs/api.md §8): every insert, update and delete of a customer, and every change to
-- a user, recorded by triggers in the same transaction as the change, so a rolled-back change leaves no
-- history and a change made outside the API (psql, a migration) is recorded too, with no actor.
--
-- The actor and the request id are transaction-local settings (app.actor_id, app.request_id) that the
-- data layer sets with BEGIN (withTransaction's `actor` option): right behind a transaction-mode pooler,
-- where a session setting would leak to whoever gets the server connection next.
CREATE TABLE history (
  id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entity     TEXT NOT NULL CHECK (entity IN ('customer', 'user')),
  entity_id  BIGINT NOT NULL,
  operation  TEXT NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
  -- The moment of the change (not of its transaction's start): a change that waited for another's row
  -- lock comes after it.
  changed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  -- No foreign key: the history of a deleted user's changes stays.
  actor_id   BIGINT,
  request_id TEXT,
  -- An update: only the fields that changed, {"field": {"old": …, "new": …}}.
  changes    JSONB,
  -- An insert: the fields it set (the API shows them as changes from null); a delete: the last full row.
  row_data   JSONB
);
-- One record's history, newest first, by keyset: cost independent of the table's size.
CREATE INDEX history_record_idx ON history (entity, entity_id, id);
-- Across records, newest first (and pruning, oldest first); by actor. Users' entries, rare next to the
-- customers', have an index of their own (partial: a customer's change does not write to it), so that
-- entity=user does not walk past every customer's change; entity=customer walks the first. The entity
-- rides along in the other two, so that a filter on it (and the list's count, up to 10,001) is decided
-- in the index without reading the rows.
CREATE INDEX history_changed_at_idx ON history (changed_at, id) INCLUDE (entity);
CREATE INDEX history_user_changed_at_idx ON history (changed_at, id) WHERE entity = 'user';
CREATE INDEX history_actor_changed_at_idx ON history (actor_id, changed_at, id) INCLUDE (entity);

CREATE FUNCTION history_actor_id() RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.actor_id', true), '')::bigint $$;

CREATE FUNCTION history_request_id() RETURNS TEXT
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.request_id', true), '') $$;

-- Statement-level triggers with transition tables (as the counters of migration 002): a bulk write of
-- many rows records them in one INSERT … SELECT. An update records only the fields that differ, as
-- {"field": {"old": …, "new": …}}; the diff is written out in each trigger rather than called as a
-- function (a SQL function with a FROM is not inlined: each call would start an executor of its own).
-- An update that changes no recorded field (version and updated_at always move; created_by only when
-- its user is deleted, which the user's history records) records nothing.
CREATE FUNCTION customers_history_track() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO history (entity, entity_id, operation, actor_id, request_id, row_data)
    SELECT 'customer', n.id, 'insert', history_actor_id(), history_request_id(),
           jsonb_strip_nulls(to_jsonb(n) - '{id,version,created_at,updated_at,created_by}'::text[])
      FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO history (entity, entity_id, operation, actor_id, request_id, changes)
    SELECT 'customer', n.id, 'update', history_actor_id(), history_request_id(), d.changes
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (
       SELECT jsonb_object_agg(f.key, jsonb_build_object('old', r.old_row -> f.key, 'new', f.value)) AS changes
         FROM (SELECT to_jsonb(o) AS old_row) r, jsonb_each(to_jsonb(n)) f
        WHERE f.key NOT IN ('version', 'updated_at', 'created_by') AND f.value IS DISTINCT FROM r.old_row -> f.key
     ) d
     WHERE d.changes IS NOT NULL;
  ELSE
    INSERT INTO history (entity, entity_id, operation, actor_id, request_id, row_data)
    SELECT 'customer', o.id, 'delete', history_actor_id(), history_request_id(), to_jsonb(o)
      FROM old_rows o;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER customers_history_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_history_track();
CREATE TRIGGER customers_history_update AFTER UPDATE ON customers
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_history_track();
CREATE TRIGGER customers_history_delete AFTER DELETE ON customers
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_history_track();

-- A user's password hash is never recorded: a new one shows as {"password": {"changed": true}}. A login
-- that replaces a hash made with older parameters (the same password) says so with the transaction-local
-- app.password_rehash: that is no change of the user, and records nothing.
CREATE FUNCTION users_history_track() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO history (entity, entity_id, operation, actor_id, request_id, row_data)
    SELECT 'user', n.id, 'insert', history_actor_id(), history_request_id(),
           jsonb_strip_nulls(to_jsonb(n) - '{id,password_hash,created_at,updated_at}'::text[])
      FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO history (entity, entity_id, operation, actor_id, request_id, changes)
    SELECT 'user', n.id, 'update', history_actor_id(), history_request_id(), d.changes
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (
       SELECT nullif(
                coalesce((SELECT jsonb_object_agg(f.key, jsonb_build_object('old', r.old_row -> f.key, 'new', f.value))
                            FROM (SELECT to_jsonb(o) AS old_row) r, jsonb_each(to_jsonb(n)) f
                           WHERE f.key NOT IN ('password_hash', 'updated_at') AND f.value IS DISTINCT FROM r.old_row -> f.key), '{}')
                  || CASE WHEN o.password_hash IS DISTINCT FROM n.password_hash AND current_setting('app.password_rehash', true) IS DISTINCT FROM 'on'
                          THEN '{"password": {"changed": true}}'::jsonb ELSE '{}' END,
                '{}') AS changes
     ) d
     WHERE d.changes IS NOT NULL;
  ELSE
    INSERT INTO history (entity, entity_id, operation, actor_id, request_id, row_data)
    SELECT 'user', o.id, 'delete', history_actor_id(), history_request_id(), to_jsonb(o) - 'password_hash'
      FROM old_rows o;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER users_history_insert AFTER INSERT ON users
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION users_history_track();
CREATE TRIGGER users_history_update AFTER UPDATE ON users
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION users_history_track();
CREATE TRIGGER users_history_delete AFTER DELETE ON users
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION users_history_track();
