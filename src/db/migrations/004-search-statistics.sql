-- The planner's estimate of how many rows a search's per-field test keeps. Without statistics on these
-- expressions it guessed a few dozen for any q, and served a search with tens of thousands of matches
-- by reading every match and sorting them, instead of walking the sort index to the page: `yılmaz`
-- (50,000 of a million rows) took 230 ms, 41 ms with these (the page walks the sort index without the trigram test: `matchIndex` in page-query.ts).
CREATE STATISTICS IF NOT EXISTS customers_search_fields_stats
  ON (lower(name)), (lower(coalesce(email, ''))), (lower(coalesce(company, ''))), (lower(coalesce(phone, '')))
  FROM customers;
ANALYZE customers;
