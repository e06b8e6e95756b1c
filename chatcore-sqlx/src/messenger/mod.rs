//! [`chatcore::MessengerStore`] for [`SqliteStore`](crate::SqliteStore) and
//! [`PostgresStore`](crate::PostgresStore), written once for both.
//!
//! # What is shared and what is not
//!
//! Every statement of the messenger is written once, in [`sql`], with
//! `$1, $2, …` parameters (sqlx's SQLite driver binds `$N` to the N-th
//! argument, by name, so a `$N` may appear several times and in any order;
//! tests/messenger_sqlite.rs pins that). The logic that runs them — the
//! transactions of an append, a create, an add — is written once too, in
//! the submodules, generic over a [`Backend`]: a database with a way to read
//! (a pool), to write outside a transaction, and to open a write
//! transaction. The two [`Backend`]s (`sqlite.rs`, `postgres.rs`) hold only
//! what truly differs:
//!
//! - opening a write transaction: SQLite `BEGIN IMMEDIATE` on its single
//!   writer connection (writes queue in order instead of failing with
//!   `SQLITE_BUSY`), PostgreSQL a plain `BEGIN` (READ COMMITTED);
//! - binding values and reading columns ([`Arg`], [`Columns`]), in particular
//!   the times of the older `users` table (INTEGER microseconds on SQLite,
//!   `TIMESTAMPTZ` on PostgreSQL);
//! - the append: on PostgreSQL one statement ([`sql::APPEND_IN_ONE`]: six
//!   round trips under a row lock became one, which is what bounds one
//!   conversation's message rate), on SQLite the shared transaction (a
//!   round trip there is a function call);
//! - people search's trigram index (an FTS5 trigram table on SQLite, a GIN
//!   index of trigram arrays on PostgreSQL; see `search.rs`).
//!
//! # Times
//!
//! The messenger's own tables store times as BIGINT (INTEGER) microseconds
//! since the Unix epoch **on both backends**, so their statements and row
//! decoding are shared; chatcore's clock has microsecond precision, so
//! nothing is lost and `(updated_at, id)` orders exactly.
//!
//! # Rules the writes enforce
//!
//! - `seq`: an append increments `conversations.next_seq` with one `UPDATE …
//!   RETURNING` that also checks that the sender is a current member, first
//!   in its transaction (on PostgreSQL, first in the one statement). On
//!   PostgreSQL the row lock serialises the conversation's writers until
//!   commit; on SQLite there is one writer. Either way message n is
//!   committed before n + 1 is numbered, and a rollback (a duplicate
//!   `client_id`, a failed statement) gives the number back.
//! - `client_id`: checked under that lock; the unique index on
//!   `(conversation_id, sender_id, client_id)` is the backstop (a unique
//!   violation re-reads the stored message).
//! - Direct conversations: `INSERT … ON CONFLICT (direct_key) DO NOTHING`,
//!   then the existing row is read.
//! - Every method that takes a viewer joins `conversation_members` with
//!   `left_at IS NULL`.
//! - Conversation views cost four queries whatever the number of
//!   conversations (heads, members, last messages, unread counts).

#[cfg(all(test, feature = "postgres", feature = "testing"))]
mod append_tests;
mod conversations;
mod media;
mod messages;
mod people;
#[cfg(all(test, feature = "sqlite", feature = "postgres"))]
mod plan_tests;
mod rows;
mod search;
#[cfg(all(test, feature = "sqlite", feature = "postgres"))]
mod search_tests;
mod sql;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::borrow::Cow;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Error;

pub(crate) use people::backfill_search_keys;

/// One value bound to a statement.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    /// An id.
    Id(Uuid),
    /// An optional id.
    OptId(Option<Uuid>),
    /// An integer (every number and every time of the messenger's tables).
    Int(i64),
    /// Text.
    Text(String),
    /// Optional text.
    OptText(Option<String>),
    /// A time of the `users` table: microseconds on SQLite, `TIMESTAMPTZ`
    /// on PostgreSQL.
    UserTime(DateTime<Utc>),
}

/// A statement and its arguments (`$1` is the first).
#[derive(Clone, Debug)]
pub(crate) struct Stmt {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

impl Stmt {
    pub(crate) fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Stmt {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    pub(crate) fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Other text with the same arguments (EXPLAIN in the tests).
    #[cfg(test)]
    pub(crate) fn with_sql(&self, sql: String) -> Stmt {
        Stmt {
            sql: sql.into(),
            args: self.args.clone(),
        }
    }

    fn arg(mut self, arg: Arg) -> Self {
        self.args.push(arg);
        self
    }

    pub(crate) fn id(self, id: impl Into<Uuid>) -> Self {
        self.arg(Arg::Id(id.into()))
    }

    pub(crate) fn opt_id(self, id: Option<impl Into<Uuid>>) -> Self {
        self.arg(Arg::OptId(id.map(Into::into)))
    }

    pub(crate) fn int(self, value: i64) -> Self {
        self.arg(Arg::Int(value))
    }

    /// A time of the messenger's tables (microseconds).
    pub(crate) fn time(self, time: DateTime<Utc>) -> Self {
        self.int(time.timestamp_micros())
    }

    /// A `seq` or a count: `u64` in the domain, BIGINT in the tables
    /// (clamped; no conversation reaches 2^63 messages).
    pub(crate) fn count(self, value: u64) -> Self {
        self.int(i64::try_from(value).unwrap_or(i64::MAX))
    }

    pub(crate) fn text(self, text: impl Into<String>) -> Self {
        self.arg(Arg::Text(text.into()))
    }

    pub(crate) fn opt_text(self, text: Option<impl Into<String>>) -> Self {
        self.arg(Arg::OptText(text.map(Into::into)))
    }

    pub(crate) fn user_time(self, time: DateTime<Utc>) -> Self {
        self.arg(Arg::UserTime(time))
    }
}

/// The columns of one result row, by name.
pub(crate) trait Columns {
    fn id(&self, column: &str) -> Result<Uuid, Error>;
    fn opt_id(&self, column: &str) -> Result<Option<Uuid>, Error>;
    fn int(&self, column: &str) -> Result<i64, Error>;
    fn text(&self, column: &str) -> Result<String, Error>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, Error>;
    /// A time of the `users` table.
    fn user_time(&self, column: &str) -> Result<DateTime<Utc>, Error>;
}

/// A connection (or a transaction, through `&mut *tx`) that runs [`Stmt`]s.
#[async_trait]
pub(crate) trait Conn: Send {
    /// Its result rows.
    type Row: Columns + Send + Sync;

    /// Every row.
    async fn all(&mut self, stmt: &Stmt) -> Result<Vec<Self::Row>, sqlx::Error>;

    /// The first row, if any.
    async fn opt(&mut self, stmt: &Stmt) -> Result<Option<Self::Row>, sqlx::Error>;

    /// Runs it; the number of rows it changed.
    async fn exec(&mut self, stmt: &Stmt) -> Result<u64, sqlx::Error>;
}

/// A database the shared messenger code runs on: the store types.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// The sqlx database.
    type Db: sqlx::Database<Connection = Self::Conn>;
    /// Its connection type.
    type Conn: Conn + sqlx::Connection<Database = Self::Db>;

    /// The pool reads go through.
    fn reads(&self) -> &sqlx::Pool<Self::Db>;

    /// The pool single-statement writes go through (SQLite: the writer).
    fn writes(&self) -> &sqlx::Pool<Self::Db>;

    /// A write transaction.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;

    /// The statement that appends a message in one round trip
    /// ([`sql::APPEND_IN_ONE`]), where the backend has one; otherwise (and
    /// when it stores nothing) the append is the shared transaction.
    const APPEND_IN_ONE: Option<&'static str>;

    /// The function that finds a string in another, `(haystack, needle)`,
    /// giving a position from 1, or 0 (SQLite `instr`, PostgreSQL
    /// `strpos`).
    const FIND: &'static str;

    /// The condition on `users u` of people search's trigram index: at
    /// least the users with a key that contains the query, from the value
    /// bound at `param` ([`Backend::trigram_arg`]).
    fn trigram_candidates(param: &str) -> String;

    /// The value bound for [`Backend::trigram_candidates`].
    fn trigram_arg(folded_query: &str) -> String;
}

/// Implements [`chatcore::MessengerStore`] for a [`Backend`] by calling the
/// shared code (one list of methods for both stores).
macro_rules! impl_messenger_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl chatcore::MessengerStore for $store {
            async fn set_display_name(
                &self,
                user_id: chatcore::UserId,
                display_name: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<chatcore::User, chatcore::StoreError> {
                $crate::messenger::people::set_display_name(self, user_id, display_name, at).await
            }

            async fn set_avatar(
                &self,
                user_id: chatcore::UserId,
                avatar: Option<&str>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(chatcore::User, Option<String>), chatcore::StoreError> {
                $crate::messenger::people::set_avatar(self, user_id, avatar, at).await
            }

            async fn people(
                &self,
                ids: &[chatcore::UserId],
            ) -> Result<Vec<chatcore::messenger::Person>, chatcore::StoreError> {
                $crate::messenger::people::people(self, ids).await
            }

            async fn search_people(
                &self,
                caller: chatcore::UserId,
                folded_query: &str,
                limit: u32,
            ) -> Result<Vec<chatcore::messenger::Person>, chatcore::StoreError> {
                $crate::messenger::search::search_people(self, caller, folded_query, limit).await
            }

            async fn create_media(
                &self,
                media: chatcore::messenger::Media,
            ) -> Result<chatcore::messenger::Media, chatcore::StoreError> {
                $crate::messenger::media::create_media(self, media).await
            }

            async fn own_media(
                &self,
                owner: chatcore::UserId,
                id: chatcore::MediaId,
            ) -> Result<Option<chatcore::messenger::Media>, chatcore::StoreError> {
                $crate::messenger::media::own_media(self, owner, id).await
            }

            async fn visible_media(
                &self,
                viewer: chatcore::UserId,
                id: chatcore::MediaId,
            ) -> Result<Option<chatcore::messenger::Media>, chatcore::StoreError> {
                $crate::messenger::media::visible_media(self, viewer, id).await
            }

            async fn create_conversation(
                &self,
                new: chatcore::messenger::NewConversation,
            ) -> Result<(chatcore::messenger::Conversation, bool), chatcore::StoreError> {
                $crate::messenger::conversations::create(self, new).await
            }

            async fn get_conversation(
                &self,
                viewer: chatcore::UserId,
                id: chatcore::ConversationId,
            ) -> Result<Option<chatcore::messenger::Conversation>, chatcore::StoreError> {
                $crate::messenger::conversations::get(self, viewer, id).await
            }

            async fn list_conversations(
                &self,
                viewer: chatcore::UserId,
                limit: u32,
                cursor: Option<chatcore::messenger::ConversationCursor>,
            ) -> Result<Vec<chatcore::messenger::Conversation>, chatcore::StoreError> {
                $crate::messenger::conversations::list(self, viewer, limit, cursor).await
            }

            async fn rename_conversation(
                &self,
                viewer: chatcore::UserId,
                id: chatcore::ConversationId,
                title: Option<&str>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<chatcore::messenger::Conversation, chatcore::StoreError> {
                $crate::messenger::conversations::rename(self, viewer, id, title, at).await
            }

            async fn add_members(
                &self,
                viewer: chatcore::UserId,
                id: chatcore::ConversationId,
                user_ids: &[chatcore::UserId],
                max_members: u32,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<chatcore::messenger::Conversation, chatcore::StoreError> {
                $crate::messenger::conversations::add_members(
                    self,
                    viewer,
                    id,
                    user_ids,
                    max_members,
                    at,
                )
                .await
            }

            async fn leave_conversation(
                &self,
                user_id: chatcore::UserId,
                id: chatcore::ConversationId,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<chatcore::UserId>, chatcore::StoreError> {
                $crate::messenger::conversations::leave(self, user_id, id, at).await
            }

            async fn member_ids(
                &self,
                id: chatcore::ConversationId,
            ) -> Result<Vec<chatcore::UserId>, chatcore::StoreError> {
                $crate::messenger::conversations::member_ids(self, id).await
            }

            async fn append_conversation_message(
                &self,
                message: chatcore::messenger::NewConversationMessage,
            ) -> Result<chatcore::messenger::AppendedMessage, chatcore::StoreError> {
                $crate::messenger::messages::append(self, message).await
            }

            async fn list_conversation_messages(
                &self,
                viewer: chatcore::UserId,
                id: chatcore::ConversationId,
                range: chatcore::messenger::MessageRange,
                limit: u32,
            ) -> Result<Vec<chatcore::messenger::ConversationMessage>, chatcore::StoreError> {
                $crate::messenger::messages::list(self, viewer, id, range, limit).await
            }

            async fn mark_read(
                &self,
                viewer: chatcore::UserId,
                id: chatcore::ConversationId,
                seq: u64,
            ) -> Result<chatcore::messenger::ReadMark, chatcore::StoreError> {
                $crate::messenger::messages::mark_read(self, viewer, id, seq).await
            }
        }
    };
}

pub(crate) use impl_messenger_store;
