//! People search on an index (API.md Part 2, "People").
//!
//! Both keys (`display_name_key`, `username_key`) hold
//! [`fold`](chatcore::fold::fold)ed names and compare by code point on both
//! backends (SQLite's BINARY collation, PostgreSQL's `COLLATE "C"`, Rust's
//! `str` order), so one statement ([`sql::search`]) ranks alike everywhere:
//!
//! 1. **exact**: a key equals the query — B-tree lookups on both keys;
//! 2. **prefix**: a key starts with the query — B-tree range scans
//!    `key >= q AND key < successor(q)` ([`successor`]);
//! 3. **contains**: the rest, through the backend's condition:
//!    - 3 characters or more: a trigram index (SQLite: the FTS5 table
//!      `users_search`, `MATCH` of the query as one phrase; PostgreSQL:
//!      `pg_trgm` GIN indexes, `LIKE '%q%'` with the wildcards of the query
//!      escaped, `like_contains`);
//!    - 1 or 2 characters: no trigram to look up, and such substrings are
//!      common, so the group walks the `(display_name_key, id)` index in
//!      order, tests each row (`instr` / `strpos`) and stops at the limit.
//!
//! Each group takes at most `limit` rows in display-name-key order, then
//! the union is ordered by group and cut to `limit`.

use chatcore::messenger::Person;
use chatcore::{StoreError, UserId};

use super::{rows, sql, Backend, Conn, Stmt};
use crate::error::backend;

/// Queries shorter than this many characters have no trigram.
pub(crate) const TRIGRAM: usize = 3;

/// The least string above every string that starts with `prefix`, in code
/// point order: the last character that can be incremented, incremented,
/// and what follows it dropped ("ab" → "ac", "a\u{10FFFF}" → "b"). A prefix
/// of nothing but U+10FFFF has none; then a string of 1024 U+10FFFF, above
/// every key shorter than that (keys are folded names of at most 64
/// characters, a few times longer at most once folded).
pub(crate) fn successor(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    "\u{10FFFF}".repeat(1024)
}

/// A `LIKE` pattern (escape character `\`) matching strings that contain
/// `text` literally: `%`, `_` and `\` of `text` are escaped.
#[cfg(feature = "postgres")]
pub(crate) fn like_contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// An FTS5 query of `text` as one phrase (a string in double quotes, its
/// own double quotes doubled): with the trigram tokenizer, the rows
/// containing `text`.
#[cfg(feature = "sqlite")]
pub(crate) fn fts5_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

pub(crate) async fn search_people<B: Backend>(
    b: &B,
    caller: UserId,
    folded_query: &str,
    limit: u32,
) -> Result<Vec<Person>, StoreError> {
    // No key holds NUL (names have no control characters), and PostgreSQL
    // text cannot hold it: nothing matches, on both backends.
    if folded_query.is_empty() || folded_query.contains('\0') || limit == 0 {
        return Ok(Vec::new());
    }
    let short = folded_query.chars().count() < TRIGRAM;
    let stmt = Stmt::new(sql::search(B::contains_condition(short)))
        .text(folded_query)
        .id(caller)
        .int(i64::from(limit))
        .text(successor(folded_query))
        .text(B::contains_arg(folded_query, short));
    let mut conn = b.reads().acquire().await.map_err(backend)?;
    let found = conn.all(&stmt).await.map_err(backend)?;
    Ok(found
        .iter()
        .map(rows::person)
        .collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts_within(prefix: &str, candidate: &str) -> bool {
        candidate >= prefix && candidate < successor(prefix).as_str()
    }

    #[test]
    fn successor_bounds_exactly_the_strings_with_the_prefix() {
        assert_eq!(successor("ab"), "ac");
        assert_eq!(successor("a\u{10FFFF}"), "b");
        assert_eq!(successor("\u{D7FF}"), "\u{E000}");
        for (prefix, candidate, expected) in [
            ("é", "élodie", true),
            ("é", "f", false),
            ("é", "e\u{301}", false),
            ("ab", "ab", true),
            ("ab", "abz\u{10FFFF}", true),
            ("ab", "ac", false),
            ("ab", "aa\u{10FFFF}", false),
            ("a\u{10FFFF}", "a\u{10FFFF}\u{10FFFF}x", true),
            ("\u{10FFFF}", "\u{10FFFF}zz", true),
        ] {
            assert_eq!(
                starts_within(prefix, candidate),
                expected,
                "{prefix:?} {candidate:?}"
            );
            assert_eq!(candidate.starts_with(prefix), expected);
        }
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
        assert_eq!(like_contains("élo"), "%élo%");
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn fts5_phrases_double_quotes() {
        assert_eq!(fts5_phrase("a\"b"), "\"a\"\"b\"");
        assert_eq!(fts5_phrase("x AND y"), "\"x AND y\"");
    }
}
