-- The upgrade benchmark's second test migration (never shipped): a nullable column without a default,
-- which takes a brief ACCESS EXCLUSIVE lock on customers (no rewrite), here behind a 30 s query.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS bench_loyalty_tier text;
