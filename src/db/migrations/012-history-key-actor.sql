-- A change made with an API key names the key (docs/api.md §8, §9): the data layer sets app.actor_key_id
-- with the transaction's other actor settings, and the history's triggers (migration 007), which list
-- their columns, leave this one to its default. Two steps: a column added with a default that is not
-- a constant would rewrite the table.
ALTER TABLE history ADD COLUMN actor_key_id TEXT;
ALTER TABLE history ALTER COLUMN actor_key_id SET DEFAULT nullif(current_setting('app.actor_key_id', true), '');
