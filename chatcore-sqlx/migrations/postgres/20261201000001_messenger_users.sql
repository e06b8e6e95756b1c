-- The messenger's profile columns and people search (API.md Part 2, "People").

-- Trigram indexes for "contains" (a trusted extension: the database owner
-- may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- display_name: NOT NULL, existing rows take their username.
ALTER TABLE users ADD COLUMN display_name TEXT;
UPDATE users SET display_name = username;
ALTER TABLE users ALTER COLUMN display_name SET NOT NULL;
-- The avatar's media key (a random file name), when there is one.
ALTER TABLE users ADD COLUMN avatar TEXT;

-- The comparison keys of people search: chatcore::fold::fold of the display
-- name and of the username, computed in Rust on every write of a name.
-- COLLATE "C": comparisons and ORDER BY by code point (UTF-8 bytes), as on
-- SQLite and in Rust, so both backends rank alike, and B-tree range scans
-- serve prefixes. SQL cannot compute the keys, so rows that existed before
-- this migration get them at connect time (the store's `migrate` backfills
-- every row whose key is NULL); the NOT VALID check requires them of every
-- row written from now on without failing on those old rows.
ALTER TABLE users ADD COLUMN display_name_key TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN username_key TEXT COLLATE "C";
ALTER TABLE users ADD CONSTRAINT users_search_keys_present
    CHECK (display_name_key IS NOT NULL AND username_key IS NOT NULL) NOT VALID;

-- Exact and prefix matches (`key = q`, `key >= q AND key < successor(q)`),
-- and the walk in display-name order of the "contains" group of queries
-- too short for trigrams (1-2 characters).
CREATE INDEX users_display_name_key_idx ON users (display_name_key, id);
CREATE INDEX users_username_key_idx ON users (username_key);
-- "Contains" for queries of 3 characters or more (LIKE '%q%'). Without
-- fastupdate: users are written rarely, and new entries go straight into
-- the index instead of a pending list that the planner prices as a
-- sequential read until the next vacuum.
CREATE INDEX users_display_name_key_trgm_idx ON users
    USING gin (display_name_key gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX users_username_key_trgm_idx ON users
    USING gin (username_key gin_trgm_ops) WITH (fastupdate = off);
-- The connect-time backfill finds the rows without keys (empty once done).
CREATE INDEX users_search_keys_missing_idx ON users (id)
    WHERE display_name_key IS NULL OR username_key IS NULL;
