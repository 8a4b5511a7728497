-- migrate: no-transaction
-- squawk-disable-assume-in-transaction
-- A search whose matches are common enough walks the default order (created_at, newest first) and tests
-- each row it passes; a term rare along that order (`ahmet kaya`, 1 % of rows) passes ~2,400 rows for a
-- page of 20, and once the test is the stored text (migration 009) reading each row from the heap is
-- most of its cost. This index is the default order's with the stored text in its entries: the walk
-- tests the text on the index alone (an index-only scan where the visibility map allows) and reads only
-- the rows that pass. It takes the place of 001's customers_created_at_id_idx (the same keys), so that
-- the planner never prefers the narrow one and the writes keep one index for the order, not two.
-- Both built and dropped concurrently: writes go on meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_created_at_search_idx ON customers (created_at, id) INCLUDE (search_text);
DROP INDEX CONCURRENTLY IF EXISTS customers_created_at_id_idx;
-- The planner's statistics of the stored text, which a search's estimate asks about (until now only
-- autovacuum's next ANALYZE would gather them after 009's backfill).
ANALYZE customers (search_text);
