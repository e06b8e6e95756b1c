-- People search on indexes that neither depend on the database's locale nor
-- sort every match (API.md Part 2, "People"; chatcore-sqlx/src/messenger/
-- search.rs says how they are used).

-- The distinct substrings of `key` of the given lengths, in characters.
CREATE FUNCTION chatcore_search_grams(key TEXT, lengths INT[]) RETURNS SETOF TEXT
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT DISTINCT substr(key, i, len) COLLATE "C"
    FROM unnest(lengths) AS len, generate_series(1, char_length(key) - len + 1) AS i
$$;

-- The trigrams of a key, as an array. COST: computing them for each row is
-- far dearer than the planner's default guess for a function, and with the
-- default it may test every row of a B-tree walk instead of using the
-- index below.
CREATE FUNCTION chatcore_search_trigrams(key TEXT) RETURNS TEXT[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000
AS $$
    SELECT coalesce(array_agg(g), '{}') FROM chatcore_search_grams(key, '{3}') AS g
$$;

-- "Contains" for queries of 3 characters or more: every trigram of the
-- query among those of a key. Replaces the pg_trgm indexes, which extract
-- trigrams of letters and digits only, as the database's LC_CTYPE defines
-- them: in the C locale no letter outside ASCII, so a Cyrillic or accented
-- query read the whole index. These see every character, in any locale.
DROP INDEX users_display_name_key_trgm_idx;
DROP INDEX users_username_key_trgm_idx;
CREATE INDEX users_search_trigrams_idx ON users USING gin (
    (chatcore_search_trigrams(display_name_key) || chatcore_search_trigrams(username_key))
) WITH (fastupdate = off);

-- For every user, each distinct substring of one or two characters of
-- either key, with the display-name key beside it. The primary key orders a
-- gram's users exactly as the search ranks them (display_name_key, id), so
-- "the first n users whose names contain q, in display-name order" is one
-- range of it read in order, however rare q is and wherever its users sort:
-- no scan of every user, no sort of every match. Kept equal to the keys of
-- `users` by the trigger below, whoever writes them.
CREATE TABLE user_search_grams (
    gram             TEXT COLLATE "C" NOT NULL,
    display_name_key TEXT COLLATE "C" NOT NULL,
    user_id          UUID NOT NULL,
    PRIMARY KEY (gram, display_name_key, user_id)
);

CREATE FUNCTION chatcore_user_search_grams() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.display_name_key IS NOT NULL THEN
        DELETE FROM user_search_grams
        WHERE display_name_key = OLD.display_name_key AND user_id = OLD.id AND gram IN (
            SELECT chatcore_search_grams(OLD.display_name_key, '{1,2}')
            UNION SELECT chatcore_search_grams(OLD.username_key, '{1,2}'));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.display_name_key IS NOT NULL THEN
        INSERT INTO user_search_grams (gram, display_name_key, user_id)
        SELECT g, NEW.display_name_key, NEW.id FROM (
            SELECT chatcore_search_grams(NEW.display_name_key, '{1,2}')
            UNION SELECT chatcore_search_grams(NEW.username_key, '{1,2}')) AS grams (g)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_search_grams
AFTER INSERT OR UPDATE OF display_name_key, username_key OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION chatcore_user_search_grams();

-- The users that already have their keys (the others get their grams when
-- the connect-time backfill writes their keys: the trigger).
INSERT INTO user_search_grams (gram, display_name_key, user_id)
SELECT g, display_name_key, id FROM (
    SELECT chatcore_search_grams(display_name_key, '{1,2}') AS g, display_name_key, id
    FROM users WHERE display_name_key IS NOT NULL
    UNION SELECT chatcore_search_grams(username_key, '{1,2}'), display_name_key, id
    FROM users WHERE display_name_key IS NOT NULL) AS grams
ON CONFLICT DO NOTHING;
