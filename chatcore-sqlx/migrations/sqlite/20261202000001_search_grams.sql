-- People search, the "contains" group in display-name order (API.md Part 2,
-- "People"; chatcore-sqlx/src/messenger/search.rs says how it is used).
--
-- user_search_grams holds, for every user, each distinct substring of one
-- or two characters of either search key, with the user's display-name key
-- beside it. Its primary key orders a gram's users exactly as the search
-- ranks them (display_name_key, id), so "the first n users whose names
-- contain q, in display-name order" is one range of the key read in order,
-- however rare q is and wherever its users sort: no scan of every user,
-- and no sort of every match.
--
-- The triggers below keep it equal to the keys of `users`, whoever writes
-- them; substr and length count characters, so the grams are characters,
-- not bytes, as in Rust and on PostgreSQL.
CREATE TABLE user_search_grams (
    gram             TEXT NOT NULL,
    display_name_key TEXT NOT NULL,
    user_id          BLOB NOT NULL,
    PRIMARY KEY (gram, display_name_key, user_id)
) WITHOUT ROWID;

-- 1, 2, … 4096: the character positions of a key (SQLite allows no WITH in
-- a trigger). Keys are folded names of at most 64 characters; NFKC and case
-- folding expand a character to at most 18, so 4096 is more than enough.
CREATE TABLE search_positions (n INTEGER PRIMARY KEY);
INSERT INTO search_positions (n)
WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < 4096)
SELECT n FROM p;

-- Each user's grams, as the row stands: read by the triggers below before a
-- change (the old grams) and after it (the new ones).
CREATE VIEW users_grams AS
SELECT DISTINCT substr(k.key, p.n, w.len) AS gram, k.display_name_key, k.id
FROM (SELECT id, display_name_key, display_name_key AS key FROM users
      UNION ALL SELECT id, display_name_key, username_key FROM users) AS k,
     (SELECT 1 AS len UNION ALL SELECT 2) AS w,
     search_positions AS p
WHERE k.display_name_key IS NOT NULL AND p.n <= length(k.key) - w.len + 1;

CREATE TRIGGER users_search_grams_insert
AFTER INSERT ON users
FOR EACH ROW
BEGIN
    INSERT OR IGNORE INTO user_search_grams (gram, display_name_key, user_id)
    SELECT gram, display_name_key, id FROM users_grams WHERE id = NEW.id;
END;

CREATE TRIGGER users_search_grams_before_update
BEFORE UPDATE OF display_name_key, username_key ON users
FOR EACH ROW
BEGIN
    DELETE FROM user_search_grams WHERE user_id = OLD.id
    AND (gram, display_name_key) IN (
        SELECT gram, display_name_key FROM users_grams WHERE id = OLD.id);
END;

CREATE TRIGGER users_search_grams_after_update
AFTER UPDATE OF display_name_key, username_key ON users
FOR EACH ROW
BEGIN
    INSERT OR IGNORE INTO user_search_grams (gram, display_name_key, user_id)
    SELECT gram, display_name_key, id FROM users_grams WHERE id = NEW.id;
END;

CREATE TRIGGER users_search_grams_delete
BEFORE DELETE ON users
FOR EACH ROW
BEGIN
    DELETE FROM user_search_grams WHERE user_id = OLD.id
    AND (gram, display_name_key) IN (
        SELECT gram, display_name_key FROM users_grams WHERE id = OLD.id);
END;

-- The users that already have their keys (the others get their grams when
-- the connect-time backfill writes their keys: the update triggers).
INSERT OR IGNORE INTO user_search_grams (gram, display_name_key, user_id)
SELECT gram, display_name_key, id FROM users_grams;
