//! The messenger on PostgreSQL: what differs from SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row};
use uuid::Uuid;

use super::{impl_messenger_store, Arg, Backend, Columns, Conn, Stmt};
use crate::error::Error;
use crate::PostgresStore;

fn bound<'q>(stmt: &'q Stmt) -> Query<'q, Postgres, PgArguments> {
    stmt.args()
        .iter()
        .fold(sqlx::query(stmt.sql()), |query, arg| match arg {
            Arg::Id(id) => query.bind(*id),
            Arg::OptId(id) => query.bind(*id),
            Arg::Int(value) => query.bind(*value),
            Arg::Text(text) => query.bind(text.as_str()),
            Arg::OptText(text) => query.bind(text.as_deref()),
            Arg::UserTime(time) => query.bind(*time),
        })
}

#[async_trait]
impl Conn for PgConnection {
    type Row = PgRow;

    async fn all(&mut self, stmt: &Stmt) -> Result<Vec<PgRow>, sqlx::Error> {
        bound(stmt).fetch_all(self).await
    }

    async fn opt(&mut self, stmt: &Stmt) -> Result<Option<PgRow>, sqlx::Error> {
        bound(stmt).fetch_optional(self).await
    }

    async fn exec(&mut self, stmt: &Stmt) -> Result<u64, sqlx::Error> {
        Ok(bound(stmt).execute(self).await?.rows_affected())
    }
}

impl Columns for PgRow {
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
        Ok(self.try_get(column)?)
    }
}

#[async_trait]
impl Backend for PostgresStore {
    type Db = Postgres;
    type Conn = PgConnection;

    fn reads(&self) -> &sqlx::PgPool {
        self.pool()
    }

    fn writes(&self) -> &sqlx::PgPool {
        self.pool()
    }

    /// A plain `BEGIN` (READ COMMITTED): each statement sees what committed
    /// before it, so a write that waited on a row lock reads the row as the
    /// other transaction left it.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        self.pool().begin().await
    }

    const APPEND_IN_ONE: Option<&'static str> = Some(super::sql::APPEND_IN_ONE);

    const FIND: &'static str = "strpos";

    /// Every trigram of the query among those of a key (the GIN index
    /// `users_search_trigrams_idx`, on the same expression).
    fn trigram_candidates(param: &str) -> String {
        format!(
            "(chatcore_search_trigrams(u.display_name_key) \
             || chatcore_search_trigrams(u.username_key)) @> chatcore_search_trigrams({param})"
        )
    }

    fn trigram_arg(folded_query: &str) -> String {
        folded_query.to_owned()
    }
}

impl_messenger_store!(PostgresStore);
