-- The dashboard counters' parts are appended by every write and deleted by the folds: vacuum them as
-- soon as a thousand rows are dead, so that their tables (which the dashboard sums) stay a few pages.
ALTER TABLE customer_status_counts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_threshold = 1000);
ALTER TABLE customer_day_counts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_threshold = 1000);
ALTER TABLE customer_city_counts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_threshold = 1000);
