//! The messenger on SQLite: what differs from PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row, Sqlite, SqliteConnection};
use uuid::Uuid;

use super::search::fts5_phrase;
use super::{impl_messenger_store, Arg, Backend, Columns, Conn, Stmt};
use crate::error::Error;
use crate::rows::time_from_micros;
use crate::SqliteStore;

fn bound<'q>(stmt: &'q Stmt) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    stmt.args()
        .iter()
        .fold(sqlx::query(stmt.sql()), |query, arg| match arg {
            Arg::Id(id) => query.bind(*id),
            Arg::OptId(id) => query.bind(*id),
            Arg::Int(value) => query.bind(*value),
            Arg::Text(text) => query.bind(text.as_str()),
            Arg::OptText(text) => query.bind(text.as_deref()),
            Arg::UserTime(time) => query.bind(time.timestamp_micros()),
        })
}

#[async_trait]
impl Conn for SqliteConnection {
    type Row = SqliteRow;

    async fn all(&mut self, stmt: &Stmt) -> Result<Vec<SqliteRow>, sqlx::Error> {
        bound(stmt).fetch_all(self).await
    }

    async fn opt(&mut self, stmt: &Stmt) -> Result<Option<SqliteRow>, sqlx::Error> {
        bound(stmt).fetch_optional(self).await
    }

    async fn exec(&mut self, stmt: &Stmt) -> Result<u64, sqlx::Error> {
        Ok(bound(stmt).execute(self).await?.rows_affected())
    }
}

impl Columns for SqliteRow {
    fn id(&self, column: &str) -> Result<Uuid, Error> {
        Ok(self.try_get(column)?)
    }
    fn opt_id(&self, column: &str) -> Result<Option<Uuid>, Error> {
        Ok(self.try_get(column)?)
    }
    fn int(&self, column: &str) -> Result<i64, Error> {
        Ok(self.try_get(column)?)
    }
    fn text(&self, column: &str) -> Result<String, Error> {
        Ok(self.try_get(column)?)
    }
    fn opt_text(&self, column: &str) -> Result<Option<String>, Error> {
        Ok(self.try_get(column)?)
    }
    fn user_time(&self, column: &str) -> Result<DateTime<Utc>, Error> {
        time_from_micros(self.try_get(column)?)
    }
}

#[async_trait]
impl Backend for SqliteStore {
    type Db = Sqlite;
    type Conn = SqliteConnection;

    fn reads(&self) -> &sqlx::SqlitePool {
        self.pool()
    }

    fn writes(&self) -> &sqlx::SqlitePool {
        self.writer()
    }

    /// `BEGIN IMMEDIATE` on the writer: the write lock from the start, so a
    /// transaction never fails half-way with `SQLITE_BUSY` when it turns
    /// from reading to writing.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer().begin_with("BEGIN IMMEDIATE").await
    }

    const APPEND_IN_ONE: Option<&'static str> = None;

    const FIND: &'static str = "instr";

    /// The FTS5 trigram table `users_search`, the query as one phrase:
    /// exactly the users with a key that contains it.
    fn trigram_candidates(param: &str) -> String {
        format!(
            "u.search_rowid IN (SELECT rowid FROM users_search WHERE users_search MATCH {param})"
        )
    }

    fn trigram_arg(folded_query: &str) -> String {
        fts5_phrase(folded_query)
    }
}

impl_messenger_store!(SqliteStore);
