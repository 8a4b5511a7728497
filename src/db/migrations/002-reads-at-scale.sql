-- Reads whose cost does not grow with the customers table (API.md §5 count modes and cursors, §6 dashboard).
-- No write may slip in between the counters' backfill and their triggers.
LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE;

-- count=estimated: the planner's row estimate for a query, without running it (PostgREST's "planned"
-- count). The query is the service's own text; its $1..$4 are bound from params.
CREATE FUNCTION count_estimate(query TEXT, VARIADIC params TEXT[] DEFAULT '{}') RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
  plan JSON;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan USING params[1], params[2], params[3], params[4];
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::BIGINT;
END $$;

-- Keyset pagination compares (sort key, id) as one row value, so the key must never be NULL:
-- customers without a city sort as the empty string (a city is never empty).
DROP INDEX customers_city_id_idx;
CREATE INDEX customers_city_sort_idx ON customers ((coalesce(city, '')), id);
-- Both filters at once: the capped count reads only the matches, however common each filter is alone.
CREATE INDEX customers_status_city_created_at_idx ON customers (status, city, created_at, id);

-- Dashboard counters, kept in the same transaction as every write. Each table holds parts whose sum is
-- the count: a write only appends its +/- parts (INSERT), so writers never wait for each other on a hot
-- counter row and cannot deadlock over one, and now and then one writer folds the parts into one row
-- per key. The dashboard sums a few dozen rows per key, however many customers there are.
CREATE TABLE customer_status_counts (
  status TEXT NOT NULL,
  n      BIGINT NOT NULL
);
CREATE TABLE customer_day_counts (
  day DATE NOT NULL, -- created_at's UTC date
  n   BIGINT NOT NULL
);
CREATE INDEX customer_day_counts_day_idx ON customer_day_counts (day);
CREATE TABLE customer_city_counts (
  city TEXT NOT NULL,
  n    BIGINT NOT NULL
);

-- Appends one +1/-1 part per changed row, summed per key.
CREATE FUNCTION customer_counts_change(statuses TEXT[], cities TEXT[], created TIMESTAMPTZ[], signs INT[]) RETURNS VOID
LANGUAGE sql AS $$
  WITH d AS (
    SELECT status, city, (created_at AT TIME ZONE 'UTC')::date AS day, sign
      FROM unnest(statuses, cities, created, signs) AS d(status, city, created_at, sign)
  ), by_status AS (
    INSERT INTO customer_status_counts (status, n) SELECT status, sum(sign) FROM d GROUP BY status HAVING sum(sign) <> 0
  ), by_day AS (
    INSERT INTO customer_day_counts (day, n) SELECT day, sum(sign) FROM d GROUP BY day HAVING sum(sign) <> 0
  )
  INSERT INTO customer_city_counts (city, n) SELECT city, sum(sign) FROM d WHERE city IS NOT NULL GROUP BY city HAVING sum(sign) <> 0;
$$;

-- Folds the parts into one row per key. Only rows committed before it started are touched, so a
-- concurrent writer's parts are left alone; the caller holds the fold lock, so folds never wait on
-- each other.
CREATE FUNCTION customer_counts_fold() RETURNS VOID
LANGUAGE sql AS $$
  WITH gone AS (DELETE FROM customer_status_counts RETURNING status, n)
  INSERT INTO customer_status_counts (status, n) SELECT status, sum(n) FROM gone GROUP BY status HAVING sum(n) <> 0;
  WITH gone AS (DELETE FROM customer_day_counts RETURNING day, n)
  INSERT INTO customer_day_counts (day, n) SELECT day, sum(n) FROM gone GROUP BY day HAVING sum(n) <> 0;
  WITH gone AS (DELETE FROM customer_city_counts RETURNING city, n)
  INSERT INTO customer_city_counts (city, n) SELECT city, sum(n) FROM gone GROUP BY city HAVING sum(n) <> 0;
$$;

-- Statement-level triggers with transition tables: a bulk insert of a million rows updates each counter
-- once, and an update that changes no counted column writes nothing.
CREATE FUNCTION customer_counts_track() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM customer_counts_change(array_agg(status), array_agg(city), array_agg(created_at), array_agg(1)) FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM customer_counts_change(array_agg(status), array_agg(city), array_agg(created_at), array_agg(-1)) FROM old_rows;
  ELSE
    PERFORM customer_counts_change(array_agg(status), array_agg(city), array_agg(created_at), array_agg(sign))
       FROM (SELECT status, city, created_at, 1 AS sign FROM new_rows
             UNION ALL
             SELECT status, city, created_at, -1 FROM old_rows) AS changed;
  END IF;
  -- About one write in 20 folds the parts, when no other transaction is folding (never waits).
  IF random() < 0.05 AND pg_try_advisory_xact_lock(7245104982) THEN
    PERFORM customer_counts_fold();
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION customer_counts_reset() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM customer_status_counts;
  DELETE FROM customer_day_counts;
  DELETE FROM customer_city_counts;
  RETURN NULL;
END $$;

CREATE TRIGGER customers_counts_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_track();
CREATE TRIGGER customers_counts_update AFTER UPDATE ON customers
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_track();
CREATE TRIGGER customers_counts_delete AFTER DELETE ON customers
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_track();
CREATE TRIGGER customers_counts_truncate AFTER TRUNCATE ON customers
  FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_reset();

INSERT INTO customer_status_counts (status, n) SELECT status, count(*) FROM customers GROUP BY status;
INSERT INTO customer_day_counts (day, n) SELECT (created_at AT TIME ZONE 'UTC')::date, count(*) FROM customers GROUP BY 1;
INSERT INTO customer_city_counts (city, n) SELECT city, count(*) FROM customers WHERE city IS NOT NULL GROUP BY city;
