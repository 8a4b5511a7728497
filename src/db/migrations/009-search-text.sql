-- migrate: no-transaction
-- squawk-disable-assume-in-transaction
-- A search tests each row it walks with lower() of four fields (name, email, company, phone): four
-- conversions of multibyte text per row, about 1 µs. A term that is rare on its own order (`ahmet kaya`,
-- 1 % of rows) walks ~2,000 rows for a page of 20. search_text holds the same lower-case text as the
-- search indexes' expression (migration 005), kept by a trigger on every insert and on every update of
-- those fields; a search tests it first (one LIKE on plain text, ~0.1 µs) and the four fields only on
-- the rows it keeps, so that a match within one field stays the rule. A row whose search_text is NULL
-- (not yet backfilled, or written with triggers disabled) is tested on its fields as before.
-- Not a generated column: adding one rewrites the table under an ACCESS EXCLUSIVE lock.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS search_text text;

CREATE OR REPLACE FUNCTION customers_search_text() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_text := lower(NEW.name || ' ' || coalesce(NEW.email, '') || ' ' || coalesce(NEW.company, '') || ' ' || coalesce(NEW.phone, ''));
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS customers_search_text ON customers;
CREATE TRIGGER customers_search_text BEFORE INSERT OR UPDATE OF name, email, company, phone ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_search_text();

-- The history records a customer's fields, not this derived text: migration 007's function, with
-- search_text left out of what a create, an update and a delete record.
CREATE OR REPLACE FUNCTION customers_history_track() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO history (entity, entity_id, operation, actor_id, request_id, row_data)
    SELECT 'customer', n.id, 'insert', history_actor_id(), history_request_id(),
           jsonb_strip_nulls(to_jsonb(n) - '{id,version,created_at,updated_at,created_by,search_text}'::text[])
      FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO history (entity, entity_id, operation, actor_id, request_id, changes)
    SELECT 'customer', n.id, 'update', history_actor_id(), history_request_id(), d.changes
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (
       SELECT jsonb_object_agg(f.key, jsonb_build_object('old', r.old_row -> f.key, 'new', f.value)) AS changes
         FROM (SELECT to_jsonb(o) AS old_row) r, jsonb_each(to_jsonb(n)) f
        WHERE f.key NOT IN ('version', 'updated_at', 'created_by', 'search_text') AND f.value IS DISTINCT FROM r.old_row -> f.key
     ) d
     WHERE d.changes IS NOT NULL;
  ELSE
    INSERT INTO history (entity, entity_id, operation, actor_id, request_id, row_data)
    SELECT 'customer', o.id, 'delete', history_actor_id(), history_request_id(), to_jsonb(o) - 'search_text'
      FROM old_rows o;
  END IF;
  RETURN NULL;
END $$;

-- The rows written before the trigger, in batches of 5,000 by id, each its own transaction (row locks
-- for one batch at a time; a run cut short resumes at the first row still NULL). The history records
-- nothing for them (search_text is left out above).
DO $$
DECLARE
  last_id bigint := 0;
  top bigint;
BEGIN
  SELECT coalesce(max(id), 0) INTO top FROM customers;
  WHILE last_id < top LOOP
    UPDATE customers
       SET search_text = lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(company, '') || ' ' || coalesce(phone, ''))
     WHERE id > last_id AND id <= last_id + 5000 AND search_text IS NULL;
    last_id := last_id + 5000;
    COMMIT;
  END LOOP;
END $$;
