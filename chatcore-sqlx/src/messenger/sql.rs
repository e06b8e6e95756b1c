//! The messenger's statements, the same text on SQLite and PostgreSQL.
//!
//! Parameters are `$1, $2, …`; on both backends `$N` is the N-th bound
//! argument wherever it appears. Only two things are built at run time:
//! lists of placeholders for `IN (…)` and multi-row `VALUES` ([`params`],
//! never data), and the search statements around their conditions
//! ([`search_ordered`], [`search_sorted`], [`search_walk`]). Nothing a user sent is ever part of the text.
//!
//! `GREATEST`/`LEAST` (PostgreSQL) and `MAX`/`MIN` of two values (SQLite)
//! differ, so "never move back" is written as a `CASE`.

use std::fmt::Write;

/// The columns of a person (`u` is `users`).
macro_rules! person_columns {
    () => {
        "u.id, u.username, u.display_name, u.avatar"
    };
}

/// The columns of a user, for `RETURNING`.
macro_rules! user_columns {
    () => {
        "id, email, username, display_name, avatar, created_at, updated_at"
    };
}

/// The columns of an image, named as in a message row (`md` is `media`).
macro_rules! media_columns {
    () => {
        "md.id AS media_id, md.owner_id AS media_owner_id, \
         md.content_type AS media_content_type, md.width AS media_width, \
         md.height AS media_height, md.bytes AS media_bytes, md.key AS media_key, \
         md.created_at AS media_created_at"
    };
}

/// The columns of a message with its image (`m`, `md`).
macro_rules! message_columns {
    () => {
        concat!(
            "m.id, m.conversation_id, m.seq, m.author, m.sender_id, m.text, m.status, \
             m.provider, m.model, m.client_id, m.created_at, ",
            media_columns!()
        )
    };
}

/// A message with its image (`m`, `md`).
macro_rules! message_select {
    () => {
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM conversation_messages m LEFT JOIN media md ON md.id = m.media_id"
        )
    };
}

/// A conversation as its member `$1` sees it, without members and messages.
macro_rules! head_select {
    () => {
        "SELECT c.id, c.kind, c.title, c.created_at, c.updated_at, cm.last_read_seq \
         FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id \
         WHERE cm.user_id = $1 AND cm.left_at IS NULL"
    };
}

/// `$1, $2, …`: `count` placeholders from `$first`.
pub(crate) fn params(first: usize, count: usize) -> String {
    let mut out = String::with_capacity(count * 5);
    for n in first..first + count {
        if n > first {
            out.push_str(", ");
        }
        let _ = write!(out, "${n}");
    }
    out
}

// ---- people ---------------------------------------------------------------

pub(crate) const SET_DISPLAY_NAME: &str = concat!(
    "UPDATE users SET display_name = $1, display_name_key = $2, updated_at = $3 \
     WHERE id = $4 RETURNING ",
    user_columns!()
);

pub(crate) const AVATAR_OF: &str = "SELECT avatar FROM users WHERE id = $1";

/// Compare-and-set: only when the avatar is still `$4`, so that the key
/// returned as replaced is exactly the one this write replaced.
pub(crate) const SET_AVATAR: &str = concat!(
    "UPDATE users SET avatar = $1, updated_at = $2 \
     WHERE id = $3 AND avatar IS NOT DISTINCT FROM $4 RETURNING ",
    user_columns!()
);

pub(crate) fn people(count: usize) -> String {
    format!(
        concat!(
            "SELECT ",
            person_columns!(),
            " FROM users u WHERE u.id IN ({})"
        ),
        params(1, count)
    )
}

pub(crate) fn existing_users(count: usize) -> String {
    format!("SELECT id FROM users WHERE id IN ({})", params(1, count))
}

pub(crate) const MISSING_SEARCH_KEYS: &str = "SELECT id, display_name, username FROM users \
     WHERE display_name_key IS NULL OR username_key IS NULL ORDER BY id LIMIT $1";

/// Fills the keys of a row unless its names changed since they were read.
pub(crate) const FILL_SEARCH_KEYS: &str =
    "UPDATE users SET display_name_key = $1, username_key = $2 \
     WHERE id = $3 AND display_name = $4 AND username = $5";

// ---- people search (search.rs) --------------------------------------------
//
// Every statement binds `$1` the folded query, `$2` the caller (excluded),
// `$3` how many rows at most, `$4` the successor of `$1` (a key in
// `[$1, $4)` starts with `$1`) and `$5` an argument of its own (a gram, the
// trigram index's query), and returns a person with `sort_key`, its
// display-name key, ordered by display-name key and id. Each condition on
// one column, so that each statement has one index to read in order: a
// group is the merge of its statements (search.rs).

/// A person and their display-name key (`u` is `users`).
macro_rules! found_columns {
    () => {
        concat!(person_columns!(), ", u.display_name_key AS sort_key")
    };
}

/// The order and limit of every search statement.
macro_rules! found_order {
    () => {
        " ORDER BY sort_key, id LIMIT $3"
    };
}

/// `u` matches none of the groups before the one of `group`: `exact`,
/// `prefix` or `rest`.
fn not_before(group: &str) -> &'static str {
    match group {
        "exact" => "u.id <> $2",
        "prefix" => "u.display_name_key <> $1 AND u.username_key <> $1 AND u.id <> $2",
        _ => {
            "NOT (u.display_name_key >= $1 AND u.display_name_key < $4) \
             AND NOT (u.username_key >= $1 AND u.username_key < $4) AND u.id <> $2"
        }
    }
}

/// The users of `group` (`exact`, `prefix`, `rest`) that `condition` finds,
/// read in order along an index (`condition` on the display-name key, or
/// one that the walk tests row by row).
pub(crate) fn search_ordered(group: &str, condition: &str) -> String {
    format!(
        concat!(
            "SELECT * FROM (SELECT ",
            found_columns!(),
            " FROM users u WHERE {} AND {}) found",
            found_order!()
        ),
        condition,
        not_before(group)
    )
}

/// The users of `group` that `condition` finds, all read first (through
/// the index of `condition`), then sorted. Materialised, so that the
/// planner reads them through that index whatever it guesses of their
/// number (with a limit and an order, PostgreSQL may prefer to walk the
/// display-name index, testing every row).
pub(crate) fn search_sorted(group: &str, condition: &str) -> String {
    format!(
        concat!(
            "WITH found AS MATERIALIZED (SELECT ",
            found_columns!(),
            " FROM users u WHERE {} AND {}) SELECT * FROM found",
            found_order!()
        ),
        condition,
        not_before(group)
    )
}

/// How many users `condition` finds, counting up to `$3`.
pub(crate) fn search_count(condition: &str) -> String {
    format!(
        "SELECT count(*) AS n FROM (SELECT 1 FROM users u WHERE {condition} AND u.id <> $2 \
         LIMIT $3) c"
    )
}

/// The rest, walking the users with gram `$5` in display-name order and
/// stopping at `$3`. `contains`: [`search_contains`] when the gram alone
/// does not imply that a key contains `$1`, else `TRUE`.
pub(crate) fn search_walk(contains: &str) -> String {
    format!(
        concat!(
            "SELECT ",
            person_columns!(),
            ", g.display_name_key AS sort_key \
             FROM user_search_grams g JOIN users u ON u.id = g.user_id \
             WHERE g.gram = $5 AND {} AND {} \
             ORDER BY g.display_name_key, g.user_id LIMIT $3"
        ),
        contains,
        // The same as `not_before("rest")`, the display-name key read from
        // the grams (one index).
        "NOT (g.display_name_key >= $1 AND g.display_name_key < $4) \
         AND NOT (u.username_key >= $1 AND u.username_key < $4) AND u.id <> $2"
    )
}

/// A key of `u` contains `$1` (`find`: the backend's `instr` or `strpos`,
/// both `(haystack, needle)`, a position from 1 or 0).
pub(crate) fn search_contains(find: &str) -> String {
    format!("({find}(u.display_name_key, $1) > 0 OR {find}(u.username_key, $1) > 0)")
}

/// The conditions of the groups, on one column each.
pub(crate) const NAME_IS: &str = "u.display_name_key = $1";
pub(crate) const USERNAME_IS: &str = "u.username_key = $1";
pub(crate) const NAME_STARTS: &str = "u.display_name_key >= $1 AND u.display_name_key < $4";
pub(crate) const USERNAME_STARTS: &str = "u.username_key >= $1 AND u.username_key < $4";

// ---- media ----------------------------------------------------------------

pub(crate) const INSERT_MEDIA: &str =
    "INSERT INTO media (id, owner_id, content_type, width, height, bytes, key, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const OWN_MEDIA: &str = concat!(
    "SELECT ",
    media_columns!(),
    " FROM media md WHERE md.id = $1 AND md.owner_id = $2"
);

/// The uploader, or a current member of a conversation with a message
/// carrying it.
pub(crate) const VISIBLE_MEDIA: &str = concat!(
    "SELECT ",
    media_columns!(),
    " FROM media md WHERE md.id = $1 AND (md.owner_id = $2 OR EXISTS (\
     SELECT 1 FROM conversation_messages m \
     JOIN conversation_members cm ON cm.conversation_id = m.conversation_id \
     WHERE m.media_id = $1 AND cm.user_id = $2 AND cm.left_at IS NULL))"
);

// ---- conversations --------------------------------------------------------

/// Nothing (no row returned) when the pair already has its direct one.
pub(crate) const INSERT_CONVERSATION: &str =
    "INSERT INTO conversations (id, kind, title, direct_key, next_seq, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 1, $5, $5) ON CONFLICT (direct_key) DO NOTHING RETURNING id";

pub(crate) const DIRECT_CONVERSATION: &str = "SELECT id FROM conversations WHERE direct_key = $1";

/// Members `$3…` join conversation `$1` at `$2`; one who left joins again
/// with their old read pointer.
pub(crate) fn upsert_members(count: usize) -> String {
    let mut values = String::new();
    for n in 3..3 + count {
        if n > 3 {
            values.push_str(", ");
        }
        let _ = write!(values, "($1, ${n}, 0, $2, NULL)");
    }
    format!(
        "INSERT INTO conversation_members \
         (conversation_id, user_id, last_read_seq, joined_at, left_at) VALUES {values} \
         ON CONFLICT (conversation_id, user_id) \
         DO UPDATE SET left_at = NULL, joined_at = excluded.joined_at"
    )
}

pub(crate) const HEAD: &str = concat!(head_select!(), " AND cm.conversation_id = $2");

pub(crate) const HEADS_FIRST: &str = concat!(
    head_select!(),
    " ORDER BY c.updated_at DESC, c.id DESC LIMIT $2"
);

pub(crate) const HEADS_AFTER: &str = concat!(
    head_select!(),
    " AND (c.updated_at, c.id) < ($2, $3) ORDER BY c.updated_at DESC, c.id DESC LIMIT $4"
);

/// The current members of conversations `$1…`, each in join order.
pub(crate) fn members_of(count: usize) -> String {
    format!(
        concat!(
            "SELECT cm.conversation_id, ",
            person_columns!(),
            " FROM conversation_members cm JOIN users u ON u.id = cm.user_id \
             WHERE cm.left_at IS NULL AND cm.conversation_id IN ({}) \
             ORDER BY cm.conversation_id, cm.joined_at, cm.user_id"
        ),
        params(1, count)
    )
}

/// The last message of each of conversations `$1…` that has one.
pub(crate) fn last_messages_of(count: usize) -> String {
    format!(
        concat!(
            message_select!(),
            " JOIN conversations c ON c.id = m.conversation_id AND m.seq = c.next_seq - 1 \
             WHERE c.id IN ({})"
        ),
        params(1, count)
    )
}

/// How many messages after `$1`'s read pointer others wrote, for each of
/// conversations `$2…` that has any.
pub(crate) fn unread_of(count: usize) -> String {
    format!(
        "SELECT cm.conversation_id, COUNT(*) AS unread FROM conversation_members cm \
         JOIN conversation_messages m \
         ON m.conversation_id = cm.conversation_id AND m.seq > cm.last_read_seq \
         WHERE cm.user_id = $1 AND (m.sender_id IS NULL OR m.sender_id <> $1) \
         AND cm.conversation_id IN ({}) GROUP BY cm.conversation_id",
        params(2, count)
    )
}

/// The condition "user `$u` is a current member of conversation `$c`".
macro_rules! is_member {
    ($c:literal, $u:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = ",
            $c,
            " AND user_id = ",
            $u,
            " AND left_at IS NULL)"
        )
    };
}

/// `updated_at` moved to `$n`, never back.
macro_rules! touch {
    ($n:literal) => {
        concat!(
            "updated_at = CASE WHEN updated_at < ",
            $n,
            " THEN ",
            $n,
            " ELSE updated_at END"
        )
    };
}

/// Title `$1`, at `$2`, conversation `$3`, member `$4`.
pub(crate) const RENAME: &str = concat!(
    "UPDATE conversations SET title = $1, ",
    touch!("$2"),
    " WHERE id = $3 AND ",
    is_member!("$3", "$4")
);

/// Conversation `$1` at `$2`, when `$3` is a current member (locks the row
/// on PostgreSQL: member changes of one conversation queue up).
pub(crate) const TOUCH_AS_MEMBER: &str = concat!(
    "UPDATE conversations SET ",
    touch!("$2"),
    " WHERE id = $1 AND ",
    is_member!("$1", "$3")
);

pub(crate) const CURRENT_MEMBER_IDS: &str = "SELECT user_id FROM conversation_members \
     WHERE conversation_id = $1 AND left_at IS NULL ORDER BY joined_at, user_id";

pub(crate) const LEAVE: &str = "UPDATE conversation_members SET left_at = $3 \
     WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL";

// ---- messages -------------------------------------------------------------

/// Takes the next `seq` of conversation `$1` and moves `updated_at` to `$2`,
/// when the sender `$3` is a current member (or NULL: the assistant). The
/// first statement of an append: on PostgreSQL its row lock serialises the
/// conversation's writers until commit.
pub(crate) const NEXT_SEQ: &str = concat!(
    "UPDATE conversations SET next_seq = next_seq + 1, ",
    touch!("$2"),
    " WHERE id = $1 AND ($3 IS NULL OR ",
    is_member!("$1", "$3"),
    ") RETURNING next_seq - 1 AS seq"
);

pub(crate) const BY_CLIENT_ID: &str = concat!(
    message_select!(),
    " WHERE m.conversation_id = $1 AND m.sender_id = $2 AND m.client_id = $3"
);

/// The start of an `INSERT` of a message: the table and its columns.
macro_rules! insert_message {
    () => {
        "INSERT INTO conversation_messages (id, conversation_id, seq, author, sender_id, text, \
         media_id, status, provider, model, client_id, created_at) "
    };
}

/// Message `$1` of conversation `$2` with `seq` `$12`; the other values as
/// in [`APPEND_IN_ONE`].
pub(crate) const INSERT_MESSAGE: &str = concat!(
    insert_message!(),
    "VALUES ($1, $2, $12, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
);

/// PostgreSQL only (SQLite has no data-modifying `WITH`): the whole
/// append in one statement, one round trip instead of six. Message `$1` of
/// conversation `$2`: author `$3`, sender `$4` (NULL: the assistant), text
/// `$5`, image `$6`, status `$7`, provider `$8`, model `$9`, `client_id`
/// `$10`, at `$11`. The `UPDATE` takes the next `seq` and the row lock, as
/// [`NEXT_SEQ`] does, but only when no earlier message of the sender has
/// that `client_id`; the `INSERT` stores the message with it; the result is
/// the message with its image, once per current member (`member_id`, in
/// the order of [`CURRENT_MEMBER_IDS`]). No row: nothing was stored (an
/// earlier send, not a member, no such conversation) and the caller runs
/// the transaction to find out which. A concurrent send with the same
/// `client_id` that committed while this one waited for the lock is not in
/// this statement's snapshot: the unique index fails the statement, which
/// undoes the `UPDATE` with it (no gap).
pub(crate) const APPEND_IN_ONE: &str = concat!(
    "WITH next AS (UPDATE conversations SET next_seq = next_seq + 1, ",
    touch!("$11"),
    " WHERE id = $2 AND ($4 IS NULL OR ",
    is_member!("$2", "$4"),
    ") AND NOT EXISTS (SELECT 1 FROM conversation_messages e \
     WHERE e.conversation_id = $2 AND e.sender_id = $4 AND e.client_id = $10) \
     RETURNING next_seq - 1 AS seq), \
     m AS (",
    insert_message!(),
    "SELECT $1, $2, next.seq, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM next RETURNING *) \
     SELECT ",
    message_columns!(),
    ", cm.user_id AS member_id FROM m LEFT JOIN media md ON md.id = m.media_id \
     JOIN conversation_members cm ON cm.conversation_id = m.conversation_id \
     AND cm.left_at IS NULL ORDER BY cm.joined_at, cm.user_id"
);

pub(crate) const MESSAGE_BY_ID: &str = concat!(message_select!(), " WHERE m.id = $1");

/// The last `$2` messages, newest first.
pub(crate) const LATEST: &str = concat!(
    message_select!(),
    " WHERE m.conversation_id = $1 ORDER BY m.seq DESC LIMIT $2"
);

/// The first `$3` messages after `$2`.
pub(crate) const AFTER: &str = concat!(
    message_select!(),
    " WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
);

/// The last `$3` messages before `$2`, newest first.
pub(crate) const BEFORE: &str = concat!(
    message_select!(),
    " WHERE m.conversation_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
);

/// `$2`'s read pointer in conversation `$1`, when a current member.
pub(crate) const READ_POINTER: &str = "SELECT last_read_seq FROM conversation_members \
     WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL";

/// Moves `$2`'s read pointer in `$1` to `$3` clamped to the latest `seq`,
/// only forward; returns it when it moved.
pub(crate) const MARK_READ: &str = "UPDATE conversation_members SET last_read_seq = \
     (SELECT CASE WHEN $3 < c.next_seq - 1 THEN $3 ELSE c.next_seq - 1 END \
      FROM conversations c WHERE c.id = $1) \
     WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL AND last_read_seq < \
     (SELECT CASE WHEN $3 < c.next_seq - 1 THEN $3 ELSE c.next_seq - 1 END \
      FROM conversations c WHERE c.id = $1) \
     RETURNING last_read_seq";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_value_rows() {
        assert_eq!(params(2, 3), "$2, $3, $4");
        assert_eq!(params(1, 0), "");
        assert!(upsert_members(2).contains("($1, $3, 0, $2, NULL), ($1, $4, 0, $2, NULL)"));
        assert!(NEXT_SEQ.contains("user_id = $3 AND left_at IS NULL"));
    }
}
