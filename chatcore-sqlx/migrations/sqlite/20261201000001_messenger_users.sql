-- The messenger's profile columns and people search (API.md Part 2, "People").
--
-- display_name: NOT NULL, existing rows take their username. SQLite adds a
-- NOT NULL column only with a default; every insert of chatcore names the
-- column, so the default never applies.
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
UPDATE users SET display_name = username;
-- The avatar's media key (a random file name), when there is one.
ALTER TABLE users ADD COLUMN avatar TEXT;

-- The comparison keys of people search: chatcore::fold::fold of the display
-- name and of the username, computed in Rust on every write of a name. SQL
-- cannot compute them, so rows that existed before this migration get them
-- at connect time (the store's `migrate` backfills every row whose key is
-- NULL); from then on they are required (the triggers below).
ALTER TABLE users ADD COLUMN display_name_key TEXT;
ALTER TABLE users ADD COLUMN username_key TEXT;
-- The row's number in the search index. Not the rowid: VACUUM may renumber
-- the rowids of a table without an INTEGER PRIMARY KEY, which would point
-- the index at other users. New rows take max + 1 (one writer at a time).
ALTER TABLE users ADD COLUMN search_rowid INTEGER;
UPDATE users SET search_rowid = rowid;
CREATE UNIQUE INDEX users_search_rowid_key ON users (search_rowid);

-- Exact and prefix matches (`key = q`, `key >= q AND key < successor(q)`),
-- and the walk in display-name order of the "contains" group of queries
-- too short for trigrams (1-2 characters).
CREATE INDEX users_display_name_key_idx ON users (display_name_key, id);
CREATE INDEX users_username_key_idx ON users (username_key);
-- The connect-time backfill finds the rows without keys (empty once done).
CREATE INDEX users_search_keys_missing_idx ON users (id)
    WHERE display_name_key IS NULL OR username_key IS NULL;

-- "Contains" for queries of 3 characters or more: an FTS5 trigram index of
-- both keys (already folded, hence case_sensitive 1: no second folding),
-- contentless (the keys live in users), rowid = users.search_rowid.
CREATE VIRTUAL TABLE users_search USING fts5(
    display_name_key, username_key,
    content = '', contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1'
);

CREATE TRIGGER users_search_keys_required_insert
BEFORE INSERT ON users
FOR EACH ROW
WHEN NEW.display_name_key IS NULL OR NEW.username_key IS NULL OR NEW.search_rowid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'users: display_name_key, username_key and search_rowid are required');
END;

CREATE TRIGGER users_search_keys_required_update
BEFORE UPDATE ON users
FOR EACH ROW
WHEN NEW.display_name_key IS NULL OR NEW.username_key IS NULL OR NEW.search_rowid IS NULL
BEGIN
    SELECT RAISE(ABORT, 'users: display_name_key, username_key and search_rowid are required');
END;

CREATE TRIGGER users_search_insert
AFTER INSERT ON users
FOR EACH ROW
BEGIN
    INSERT INTO users_search (rowid, display_name_key, username_key)
    VALUES (NEW.search_rowid, NEW.display_name_key, NEW.username_key);
END;

CREATE TRIGGER users_search_update
AFTER UPDATE OF display_name_key, username_key, search_rowid ON users
FOR EACH ROW
BEGIN
    DELETE FROM users_search WHERE rowid = OLD.search_rowid;
    INSERT INTO users_search (rowid, display_name_key, username_key)
    VALUES (NEW.search_rowid, NEW.display_name_key, NEW.username_key);
END;

CREATE TRIGGER users_search_delete
AFTER DELETE ON users
FOR EACH ROW
BEGIN
    DELETE FROM users_search WHERE rowid = OLD.search_rowid;
END;
