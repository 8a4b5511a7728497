-- q of four characters or more is found through the text's 4-grams; the trigram index (001) serves a
-- q of three. A trigram index reads the whole posting list of the pattern's rarest trigram, and in a
-- customers table every trigram of a two-word q can be common while the q is rare: `kaya 12` at a
-- million rows read about 20,000 index entries (2.5 ms) to find nothing. Its 4-grams include the
-- ones that span the words ('ya 1', 'a 12'), which no row has: 0.2 ms. A 4-gram's posting list is at
-- most its trigrams', so no q reads more than it did. Building this index over a million rows took
-- 112 s here, writes waiting meanwhile: the statement timeout is lifted for migrations (migrate.ts).

-- The 4-grams of a text, overlapping, one per character position ('{}' below four characters).
CREATE FUNCTION search_grams(t TEXT) RETURNS TEXT[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  grams TEXT[] := '{}';
BEGIN
  FOR i IN 1 .. length(t) - 3 LOOP
    grams[i] := substr(t, i, 4);
  END LOOP;
  RETURN grams;
END $$;

-- The same text as customers_search_trgm_idx: a match in any one field is a match in it.
CREATE INDEX customers_search_grams_idx ON customers USING GIN (
  search_grams(lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(company, '') || ' ' || coalesce(phone, '')))
);
-- The planner's estimate of how many rows hold a q's 4-grams (statistics on the indexed expression).
ANALYZE customers;
