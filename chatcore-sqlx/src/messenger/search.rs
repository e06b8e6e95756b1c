//! People search on indexes (API.md Part 2, "People").
//!
//! Both keys (`display_name_key`, `username_key`) hold
//! [`fold`](chatcore::fold::fold)ed names and compare by code point on both
//! backends (SQLite's BINARY collation, PostgreSQL's `COLLATE "C"`, Rust's
//! `str` order), so the statements rank alike everywhere. The groups run
//! one after the other, each only while fewer than the limit are found,
//! each taking at most what is still wanted, in (display-name key, id)
//! order. A group is the merge of a few statements, each with its
//! condition on one column so that it has one index to read ([`plan`]);
//! an `OR` of two columns under `ORDER BY … LIMIT` lets the planner walk
//! the display-name index and test every row:
//!
//! 1. **exact**: the display-name key equals the query (read along the
//!    `(display_name_key, id)` index), or the username key does (a lookup);
//! 2. **prefix**: a key starts with the query, `key >= q AND key <
//!    successor(q)` ([`successor`]): display names read in order along
//!    their index; usernames through theirs, and since those users sort by
//!    display name, sorted when at most [`SORT_AT_MOST`] match (counted
//!    first, up to one more), else read along the display-name index, where
//!    with that many matches they come often;
//! 3. **contains**, the rest:
//!    - 1 or 2 characters: the query is a gram of `user_search_grams`
//!      (every 1- and 2-character substring of each user's keys, keyed by
//!      `(gram, display_name_key, user_id)`), read in order from the gram's
//!      first entry and stopped at the limit. The entries skipped on the
//!      way are users of groups 1–2, fewer than the limit (else this group
//!      would not run), so the read is bounded by twice the limit however
//!      rare the query and wherever its users sort (the Cyrillic names
//!      after every Latin one, say);
//!    - 3 characters or more: the backend's trigram index
//!      ([`Backend::trigram_candidates`]: SQLite's FTS5 trigram table,
//!      PostgreSQL's GIN index of trigram arrays) counts the users who
//!      contain the query, up to [`SORT_AT_MOST`] + 1. At most that many are
//!      read through the index and sorted; more walk the `user_search_grams`
//!      entries of the query's first two characters in order, testing each
//!      user, until the limit: with more than [`SORT_AT_MOST`] matches among
//!      that gram's users, matches come often on the walk.
//!
//! The walks' bound in the last two cases is statistical, not strict: a
//! few thousand matches that all sort after most users with the same gram
//! (or display-name prefix) make the walk long. The groups are separate
//! reads; a user renamed between two of them could be in both, and the
//! second copy is dropped.

use std::collections::HashSet;

use chatcore::messenger::Person;
use chatcore::{StoreError, UserId};

use super::{rows, sql, Backend, Columns, Conn, Stmt};
use crate::error::backend;

/// Queries shorter than this many characters have no trigram.
pub(crate) const TRIGRAM: usize = 3;

/// The most matches of a query of [`TRIGRAM`] characters or more that are
/// sorted rather than walked in order.
pub(crate) const SORT_AT_MOST: u32 = 1_000;

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
    search_people_sorting_at_most(b, caller, folded_query, limit, SORT_AT_MOST).await
}

/// How a statement of a search reads its users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// Along the index of the condition, in order ([`sql::search_ordered`]).
    Ordered,
    /// All through the index of the condition, then sorted
    /// ([`sql::search_sorted`]).
    Sorted,
    /// The `user_search_grams` entries of `gram` in order; `test`: a user
    /// with the gram may not contain the query ([`sql::search_walk`]).
    Walk { gram: String, test: bool },
}

/// [`search_people`] with the threshold between sorting and walking as a
/// parameter (the tests take both paths with few users).
pub(crate) async fn search_people_sorting_at_most<B: Backend>(
    b: &B,
    caller: UserId,
    folded_query: &str,
    limit: u32,
    sort_at_most: u32,
) -> Result<Vec<Person>, StoreError> {
    // No key holds NUL (names have no control characters), and PostgreSQL
    // text cannot hold it: nothing matches, on both backends.
    if folded_query.is_empty() || folded_query.contains('\0') || limit == 0 {
        return Ok(Vec::new());
    }
    let mut conn = b.reads().acquire().await.map_err(backend)?;
    let q = Query::new(folded_query, caller);
    let mut found = Found {
        limit,
        people: Vec::new(),
    };
    for group in GROUPS {
        if found.wanted() == 0 {
            break;
        }
        let mut rows = Vec::new();
        for (condition, read) in plan::<B, _>(&mut *conn, &q, group, sort_at_most).await? {
            let stmt = q.statement::<B>(group, condition, &read, found.wanted());
            rows.push(conn.all(&stmt).await.map_err(backend)?);
        }
        found.add(merge(rows)?);
    }
    Ok(found.people)
}

/// The groups, in rank order.
pub(crate) const GROUPS: [&str; 3] = ["exact", "prefix", "rest"];

/// The statements of `group` (its condition and how to read it), whose
/// results merged are the group.
pub(crate) async fn plan<B: Backend, C: Conn>(
    conn: &mut C,
    q: &Query<'_>,
    group: &str,
    sort_at_most: u32,
) -> Result<Vec<(String, Read)>, StoreError> {
    let short = q.text.chars().count() < TRIGRAM;
    Ok(match group {
        "exact" => vec![
            (sql::NAME_IS.to_owned(), Read::Ordered),
            (sql::USERNAME_IS.to_owned(), Read::Ordered),
        ],
        "prefix" => {
            // Users sort by display name, not by username: the users whose
            // username starts with the query are sorted when few, else
            // found often enough along the display-name index.
            let read = if q
                .count::<B>(conn, sql::USERNAME_STARTS, sort_at_most)
                .await?
            {
                Read::Sorted
            } else {
                Read::Ordered
            };
            vec![
                (sql::NAME_STARTS.to_owned(), Read::Ordered),
                (sql::USERNAME_STARTS.to_owned(), read),
            ]
        }
        _ if short => vec![(
            String::new(),
            Read::Walk {
                gram: q.text.to_owned(),
                test: false,
            },
        )],
        _ => {
            let candidates = B::trigram_candidates("$5");
            if q.count::<B>(conn, &candidates, sort_at_most).await? {
                let contains = sql::search_contains(B::FIND);
                vec![(format!("{candidates} AND {contains}"), Read::Sorted)]
            } else {
                vec![(
                    String::new(),
                    Read::Walk {
                        gram: q.text.chars().take(2).collect(),
                        test: true,
                    },
                )]
            }
        }
    })
}

/// Merges statements' results, each in (display-name key, id) order, into
/// one list in that order, each person once.
fn merge<R: Columns>(results: Vec<Vec<R>>) -> Result<Vec<Person>, StoreError> {
    let mut all = Vec::new();
    for rows in &results {
        for row in rows {
            all.push((row.text("sort_key")?, rows::person(row)?));
        }
    }
    all.sort_by(|a, b| (&a.0, a.1.id).cmp(&(&b.0, b.1.id)));
    let mut seen = HashSet::new();
    Ok(all
        .into_iter()
        .filter_map(|(_, person)| seen.insert(person.id).then_some(person))
        .collect())
}

/// The statements of one search (sql.rs, "people search": `$1`…`$5`).
pub(crate) struct Query<'a> {
    text: &'a str,
    caller: UserId,
    upper: String,
}

impl<'a> Query<'a> {
    pub(crate) fn new(folded_query: &'a str, caller: UserId) -> Self {
        Query {
            text: folded_query,
            caller,
            upper: successor(folded_query),
        }
    }

    fn bind(&self, sql: String, at_most: u32, fifth: String) -> Stmt {
        Stmt::new(sql)
            .text(self.text)
            .id(self.caller)
            .int(i64::from(at_most))
            .text(self.upper.as_str())
            .text(fifth)
    }

    /// The statement of `group` reading `condition` as `read` says.
    pub(crate) fn statement<B: Backend>(
        &self,
        group: &str,
        condition: String,
        read: &Read,
        wanted: u32,
    ) -> Stmt {
        match read {
            Read::Ordered => self.bind(
                sql::search_ordered(group, &condition),
                wanted,
                self.trigram::<B>(),
            ),
            Read::Sorted => self.bind(
                sql::search_sorted(group, &condition),
                wanted,
                self.trigram::<B>(),
            ),
            Read::Walk { gram, test } => {
                let contains = if *test {
                    sql::search_contains(B::FIND)
                } else {
                    "TRUE".to_owned()
                };
                self.bind(sql::search_walk(&contains), wanted, gram.clone())
            }
        }
    }

    fn trigram<B: Backend>(&self) -> String {
        B::trigram_arg(self.text)
    }

    /// Counts the users `condition` finds, up to `at_most` + 1.
    pub(crate) fn count_statement<B: Backend>(&self, condition: &str, at_most: u32) -> Stmt {
        self.bind(
            sql::search_count(condition),
            at_most.saturating_add(1),
            self.trigram::<B>(),
        )
    }

    /// Whether `condition` finds at most `at_most` users.
    async fn count<B: Backend>(
        &self,
        conn: &mut impl Conn,
        condition: &str,
        at_most: u32,
    ) -> Result<bool, StoreError> {
        let count = conn
            .opt(&self.count_statement::<B>(condition, at_most))
            .await
            .map_err(backend)?
            .map_or(Ok(0), |row| row.int("n"))?;
        Ok(count <= i64::from(at_most))
    }
}

/// The people found so far.
struct Found {
    limit: u32,
    people: Vec<Person>,
}

impl Found {
    fn wanted(&self) -> u32 {
        self.limit
            .saturating_sub(u32::try_from(self.people.len()).unwrap_or(u32::MAX))
    }

    /// A group's people, after those of the groups before (a user renamed
    /// between two groups could be in both: the second copy is dropped).
    fn add(&mut self, group: Vec<Person>) {
        for person in group {
            if self.wanted() == 0 {
                break;
            }
            if self.people.iter().all(|p| p.id != person.id) {
                self.people.push(person);
            }
        }
    }
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

    #[cfg(feature = "sqlite")]
    #[test]
    fn fts5_phrases_double_quotes() {
        assert_eq!(fts5_phrase("a\"b"), "\"a\"\"b\"");
        assert_eq!(fts5_phrase("x AND y"), "\"x AND y\"");
    }
}
