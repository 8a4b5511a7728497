-- migrate: no-transaction
-- squawk-disable-assume-in-transaction
-- The upgrade benchmark's first test migration (npm run bench -- --upgrade; never shipped): a new index on
-- customers, built concurrently while the API serves reads and writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_bench_phone_idx ON customers (phone);
