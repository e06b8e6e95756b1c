//! [`PostgresStore`]: a [`Store`] on PostgreSQL.
//!
//! Ids are `UUID` and times `TIMESTAMPTZ` (microsecond precision, the
//! precision of `chatcore::clock::now`), so both round-trip losslessly and
//! sort exactly. The pool is sized (10 connections unless configured) and a
//! query waits at most the acquire timeout for a free connection.

use std::str::FromStr;

use async_trait::async_trait;
use chatcore::{
    ChatMessage, ChatSession, ConflictKind, MessageId, MessageUpdate, NewUser, SessionCursor,
    SessionId, Store, StoreError, User, UserCredentials, UserId,
};
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::Row;

use crate::config::PoolConfig;
use crate::error::{backend, is_foreign_key_violation, is_unique_violation, Error};
use crate::rows;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

const USER_COLUMNS: &str =
    "id, email, username, display_name, avatar, password_hash, created_at, updated_at";
const SESSION_COLUMNS: &str = "id, user_id, title, title_explicit, created_at, updated_at";
const MESSAGE_COLUMNS: &str = "id, session_id, role, content, status, provider, model, \
                               prompt_tokens, completion_tokens, timestamp";

/// A [`Store`] on PostgreSQL.
///
/// Cheap to clone: clones share the pool.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Pool size when [`PoolConfig`] sets none.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

    /// Connects to `url` (`postgres://user:password@host:port/database`) with
    /// the default pool and applies the embedded migrations.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chatcore_sqlx::Error> {
    /// use chatcore_sqlx::PostgresStore;
    ///
    /// let store = PostgresStore::connect("postgres://chat@localhost/chat").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, PoolConfig::default()).await
    }

    /// Like [`connect`](Self::connect), with pool settings.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chatcore_sqlx::Error> {
    /// use std::time::Duration;
    /// use chatcore_sqlx::{PoolConfig, PostgresStore};
    ///
    /// let config = PoolConfig::default()
    ///     .with_max_connections(32)
    ///     .with_acquire_timeout(Duration::from_secs(2));
    /// let store = PostgresStore::connect_with("postgres://chat@localhost/chat", config).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with(url: &str, config: PoolConfig) -> Result<Self, Error> {
        Self::connect_with_options(PgConnectOptions::from_str(url)?, config).await
    }

    /// Connects with prepared driver options and applies the migrations.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chatcore_sqlx::Error> {
    /// use chatcore_sqlx::{PoolConfig, PostgresStore};
    /// use sqlx::postgres::PgConnectOptions;
    ///
    /// let options = PgConnectOptions::new().host("localhost").database("chat");
    /// let store = PostgresStore::connect_with_options(options, PoolConfig::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with_options(
        options: PgConnectOptions,
        config: PoolConfig,
    ) -> Result<Self, Error> {
        let pool = PgPoolOptions::new()
            .max_connections(
                config
                    .max_connections()
                    .unwrap_or(Self::DEFAULT_MAX_CONNECTIONS),
            )
            .acquire_timeout(config.acquire_timeout())
            .connect_with(options)
            .await?;
        let store = Self::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// Wraps an existing pool, as is: it does not run the migrations (call
    /// [`migrate`](Self::migrate)).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chatcore_sqlx::Error> {
    /// use chatcore_sqlx::PostgresStore;
    /// use sqlx::PgPool;
    ///
    /// let pool = PgPool::connect("postgres://chat@localhost/chat").await?;
    /// let store = PostgresStore::new(pool);
    /// store.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Applies the embedded migrations that are not applied yet (idempotent;
    /// concurrent callers are serialised by sqlx's advisory lock), then fills
    /// the people-search keys of users stored before the messenger's
    /// migration (a no-op once done).
    pub async fn migrate(&self) -> Result<(), Error> {
        MIGRATOR.run(&self.pool).await?;
        crate::messenger::backfill_search_keys(self).await
    }

    /// The underlying pool (e.g. for a `PgListener`).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn exists(&self, sql: &str, value: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar(sql)
            .bind(value)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    /// Which rule a failed user insert broke (checked after the fact, no
    /// message parsing).
    async fn user_conflict(&self, user: &NewUser) -> Result<ConflictKind, StoreError> {
        if self
            .exists(
                "SELECT EXISTS(SELECT 1 FROM users WHERE lower(email) = lower($1))",
                &user.email,
            )
            .await?
        {
            Ok(ConflictKind::Email)
        } else if self
            .exists(
                "SELECT EXISTS(SELECT 1 FROM users WHERE lower(username) = lower($1))",
                &user.username,
            )
            .await?
        {
            Ok(ConflictKind::Username)
        } else {
            Ok(ConflictKind::Id)
        }
    }
}

fn user_from_row(row: &PgRow) -> Result<User, Error> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        email: row.try_get("email")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        avatar: row.try_get("avatar")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn session_from_row(row: &PgRow) -> Result<ChatSession, Error> {
    Ok(ChatSession {
        id: SessionId(row.try_get("id")?),
        user_id: UserId(row.try_get("user_id")?),
        title: row.try_get("title")?,
        title_explicit: rows::flag(i64::from(row.try_get::<i16, _>("title_explicit")?)),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn message_from_row(row: &PgRow) -> Result<ChatMessage, Error> {
    Ok(ChatMessage {
        id: MessageId(row.try_get("id")?),
        session_id: SessionId(row.try_get("session_id")?),
        role: rows::role(row.try_get("role")?)?,
        content: row.try_get("content")?,
        status: rows::status(row.try_get("status")?)?,
        provider: row.try_get("provider")?,
        model: row.try_get("model")?,
        usage: rows::usage(
            row.try_get("prompt_tokens")?,
            row.try_get("completion_tokens")?,
        )?,
        timestamp: row.try_get("timestamp")?,
    })
}

/// Moves the session's `updated_at` to the message and inserts it, inside
/// the caller's transaction. Unknown session: `NotFound`. The UPDATE locks
/// the session row first, so concurrent appends to one session queue up
/// instead of deadlocking.
async fn insert_message(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    message: &ChatMessage,
) -> Result<(), StoreError> {
    let bumped =
        sqlx::query("UPDATE chat_sessions SET updated_at = GREATEST(updated_at, $1) WHERE id = $2")
            .bind(message.timestamp)
            .bind(message.session_id.0)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
    if bumped.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let (prompt_tokens, completion_tokens) = rows::usage_columns(message.usage);
    let inserted = sqlx::query(
        "INSERT INTO chat_messages (id, session_id, role, content, status, provider, model, \
         prompt_tokens, completion_tokens, timestamp) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(message.id.0)
    .bind(message.session_id.0)
    .bind(message.role.as_str())
    .bind(&message.content)
    .bind(message.status.as_str())
    .bind(&message.provider)
    .bind(&message.model)
    .bind(prompt_tokens)
    .bind(completion_tokens)
    .bind(message.timestamp)
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(ConflictKind::Id)),
        Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound),
        Err(e) => Err(backend(e)),
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        let (display_name_key, username_key) =
            rows::search_keys(&user.display_name, &user.username);
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, username, display_name, display_name_key, \
             username_key, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(user.id.0)
        .bind(&user.email)
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(display_name_key)
        .bind(username_key)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(User {
                id: user.id,
                email: user.email,
                username: user.username,
                display_name: user.display_name,
                avatar: None,
                created_at: user.created_at,
                updated_at: user.created_at,
            }),
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::Conflict(self.user_conflict(&user).await?))
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)");
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(UserCredentials {
            user: user_from_row(&row)?,
            password_hash: row.try_get("password_hash").map_err(backend)?,
        }))
    }

    async fn username_exists(&self, username: &str) -> Result<bool, StoreError> {
        self.exists(
            "SELECT EXISTS(SELECT 1 FROM users WHERE lower(username) = lower($1))",
            username,
        )
        .await
    }

    async fn create_session(&self, session: ChatSession) -> Result<ChatSession, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO chat_sessions \
             (id, user_id, title, title_explicit, is_deleted, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $6)",
        )
        .bind(session.id.0)
        .bind(session.user_id.0)
        .bind(&session.title)
        .bind(i16::from(session.title_explicit))
        .bind(session.created_at)
        .bind(session.updated_at)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(session),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(ConflictKind::Id)),
            Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound),
            Err(e) => Err(backend(e)),
        }
    }

    async fn list_sessions(
        &self,
        user_id: UserId,
        limit: u32,
        cursor: Option<SessionCursor>,
    ) -> Result<Vec<ChatSession>, StoreError> {
        let found = match cursor {
            None => {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS} FROM chat_sessions \
                     WHERE user_id = $1 AND is_deleted = 0 \
                     ORDER BY updated_at DESC, id DESC LIMIT $2"
                );
                sqlx::query(&sql)
                    .bind(user_id.0)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }
            Some(cursor) => {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS} FROM chat_sessions \
                     WHERE user_id = $1 AND is_deleted = 0 \
                     AND (updated_at, id) < ($2, $3) \
                     ORDER BY updated_at DESC, id DESC LIMIT $4"
                );
                sqlx::query(&sql)
                    .bind(user_id.0)
                    .bind(cursor.updated_at)
                    .bind(cursor.id.0)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(backend)?;
        Ok(found
            .iter()
            .map(session_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn get_session(
        &self,
        user_id: UserId,
        id: SessionId,
    ) -> Result<Option<ChatSession>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM chat_sessions \
             WHERE id = $1 AND user_id = $2 AND is_deleted = 0"
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .bind(user_id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(row.as_ref().map(session_from_row).transpose()?)
    }

    async fn rename_session(
        &self,
        user_id: UserId,
        id: SessionId,
        title: &str,
        at: DateTime<Utc>,
    ) -> Result<ChatSession, StoreError> {
        let sql = format!(
            "UPDATE chat_sessions \
             SET title = $1, title_explicit = 1, updated_at = GREATEST(updated_at, $2) \
             WHERE id = $3 AND user_id = $4 AND is_deleted = 0 \
             RETURNING {SESSION_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(title)
            .bind(at)
            .bind(id.0)
            .bind(user_id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?;
        Ok(session_from_row(&row)?)
    }

    async fn set_derived_title(
        &self,
        id: SessionId,
        title: &str,
    ) -> Result<Option<ChatSession>, StoreError> {
        let sql = format!(
            "UPDATE chat_sessions SET title = $1 \
             WHERE id = $2 AND is_deleted = 0 AND title_explicit = 0 \
             RETURNING {SESSION_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(title)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(row.as_ref().map(session_from_row).transpose()?)
    }

    async fn delete_session(&self, user_id: UserId, id: SessionId) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE chat_sessions SET is_deleted = 1 \
             WHERE id = $1 AND user_id = $2 AND is_deleted = 0",
        )
        .bind(id.0)
        .bind(user_id.0)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn append_message(&self, message: ChatMessage) -> Result<ChatMessage, StoreError> {
        let mut stored = self.append_messages(vec![message]).await?;
        stored.pop().ok_or(StoreError::NotFound)
    }

    async fn append_messages(
        &self,
        messages: Vec<ChatMessage>,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        for message in &messages {
            insert_message(&mut tx, message).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(messages)
    }

    async fn update_message(
        &self,
        id: MessageId,
        update: MessageUpdate,
    ) -> Result<ChatMessage, StoreError> {
        let (prompt_tokens, completion_tokens) = rows::usage_columns(update.usage);
        let sql = format!(
            "UPDATE chat_messages SET content = $1, status = $2, provider = $3, model = $4, \
             prompt_tokens = $5, completion_tokens = $6 WHERE id = $7 \
             RETURNING {MESSAGE_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&update.content)
            .bind(update.status.as_str())
            .bind(&update.provider)
            .bind(&update.model)
            .bind(prompt_tokens)
            .bind(completion_tokens)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?;
        Ok(message_from_row(&row)?)
    }

    async fn list_messages(&self, session_id: SessionId) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages \
             WHERE session_id = $1 ORDER BY timestamp, id"
        );
        let found = sqlx::query(&sql)
            .bind(session_id.0)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        Ok(found
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn recent_messages(
        &self,
        session_id: SessionId,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages \
             WHERE session_id = $1 ORDER BY timestamp DESC, id DESC LIMIT $2"
        );
        let found = sqlx::query(&sql)
            .bind(session_id.0)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut messages = found
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn interrupt_streaming(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE chat_messages SET status = 'interrupted' WHERE status = 'streaming'",
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected())
    }
}
