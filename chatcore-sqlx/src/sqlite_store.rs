//! [`SqliteStore`]: a [`Store`] on SQLite.
//!
//! Ids are 16-byte UUID blobs and times INTEGER microseconds since the Unix
//! epoch, so both round-trip losslessly and sort exactly. Connections run in
//! WAL mode with `synchronous = NORMAL`, foreign keys on and a 5 s busy
//! timeout. Appending messages is a single multi-row `INSERT` (atomic by
//! itself); a trigger moves the session's `updated_at`.
//!
//! SQLite has one writer at a time. A file database therefore gets two pools:
//! readers (several connections, reading in parallel under WAL) and one
//! writer connection that every write goes through. Writers queue in the
//! pool, in order, instead of racing for the file lock and sleeping in
//! SQLite's busy handler, which under load costs milliseconds per write.
//! Connections are not pinged before use (`test_before_acquire(false)`): a
//! SQLite connection is a local file handle that cannot go stale, and the
//! ping would double the round trips to sqlx's connection thread.
//!
//! Appends and message updates (the reply path's writes) go through a
//! group-commit task (`sqlite_writer.rs`) that commits the writes queued at
//! the same time together; the session list and message history are read as
//! one JSON row each (`sqlite_json.rs`). BENCHMARKS.md has the measurements.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chatcore::{
    ChatMessage, ChatSession, ConflictKind, MessageId, MessageUpdate, NewUser, SessionCursor,
    SessionId, Store, StoreError, User, UserCredentials, UserId,
};
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

use crate::config::PoolConfig;
use crate::error::{backend, is_foreign_key_violation, is_unique_violation, Error};
use crate::rows;
use crate::sqlite_json::{self, MESSAGE_OBJECT, SESSION_OBJECT};
use crate::sqlite_rows::{
    exec_append, exec_update, micros, session_from_row, user_from_row, SESSION_COLUMNS,
    USER_COLUMNS,
};
use crate::sqlite_writer::GroupCommit;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// A [`Store`] on SQLite (a file, or `sqlite::memory:`).
///
/// Cheap to clone: clones share the pool.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// Reads (and, for a wrapped or in-memory pool, writes too).
    pool: SqlitePool,
    /// Every write: one connection for a file database.
    writer: SqlitePool,
    /// Group commit of the reply path's writes (appends and message
    /// updates); `None` when the store was made outside a tokio runtime.
    group: Option<GroupCommit>,
}

impl SqliteStore {
    /// Reader pool size for a database file when [`PoolConfig`] sets none
    /// (the writer connection comes on top).
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;
    /// How long a connection waits for another one's write lock.
    pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

    /// Opens (creating it if missing) the database at `url`, e.g.
    /// `sqlite://chatcore.db`, `sqlite:data/chat.db` or `sqlite::memory:`,
    /// and applies the embedded migrations.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chatcore_sqlx::Error> {
    /// use chatcore::Store;
    /// use chatcore_sqlx::SqliteStore;
    ///
    /// let store = SqliteStore::connect("sqlite://chatcore.db").await?;
    /// store.ping().await.ok();
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
    /// use chatcore_sqlx::{PoolConfig, SqliteStore};
    ///
    /// let store = SqliteStore::connect_with(
    ///     "sqlite://chatcore.db",
    ///     PoolConfig::default().with_max_connections(4),
    /// )
    /// .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with(url: &str, config: PoolConfig) -> Result<Self, Error> {
        let options = SqliteConnectOptions::from_str(url)?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::connect_options(options, in_memory, config).await
    }

    /// Connects with prepared driver options (the store still sets
    /// `create_if_missing`, WAL, `synchronous = NORMAL`, foreign keys and the
    /// busy timeout) and applies the migrations. An in-memory database gets a
    /// single connection that is never recycled, so it lives as long as the pool.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chatcore_sqlx::Error> {
    /// use chatcore_sqlx::{PoolConfig, SqliteStore};
    /// use sqlx::sqlite::SqliteConnectOptions;
    ///
    /// let options = SqliteConnectOptions::new().filename("chatcore.db");
    /// let store = SqliteStore::connect_with_options(options, PoolConfig::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with_options(
        options: SqliteConnectOptions,
        config: PoolConfig,
    ) -> Result<Self, Error> {
        let in_memory = options
            .get_filename()
            .to_string_lossy()
            .starts_with("file:sqlx-in-memory-");
        Self::connect_options(options, in_memory, config).await
    }

    async fn connect_options(
        options: SqliteConnectOptions,
        in_memory: bool,
        config: PoolConfig,
    ) -> Result<Self, Error> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Self::BUSY_TIMEOUT);
        let pool_options = SqlitePoolOptions::new()
            .acquire_timeout(config.acquire_timeout())
            .test_before_acquire(false);
        let store = if in_memory {
            // Each connection to `:memory:` would otherwise be its own database,
            // and closing the last one would drop the data.
            let pool = pool_options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            Self::new(pool)
        } else {
            let writer = pool_options
                .clone()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            let readers = pool_options
                .max_connections(
                    config
                        .max_connections()
                        .unwrap_or(Self::DEFAULT_MAX_CONNECTIONS),
                )
                .connect_with(options)
                .await?;
            Self {
                pool: readers,
                group: GroupCommit::start(writer.clone()),
                writer,
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Wraps an existing pool, as is: it does not run the migrations (call
    /// [`migrate`](Self::migrate)) nor change connection settings. The pool
    /// serves reads and writes; called inside a tokio runtime, it also starts
    /// the group-commit task for the reply path's writes on that runtime
    /// (outside one, those writes go to the pool directly).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chatcore_sqlx::Error> {
    /// use chatcore_sqlx::SqliteStore;
    /// use sqlx::SqlitePool;
    ///
    /// let pool = SqlitePool::connect("sqlite://chatcore.db?mode=rwc").await?;
    /// let store = SqliteStore::new(pool);
    /// store.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            group: GroupCommit::start(pool.clone()),
            writer: pool.clone(),
            pool,
        }
    }

    /// Applies the embedded migrations that are not applied yet (idempotent),
    /// then fills the people-search keys of users stored before the
    /// messenger's migration (a no-op once done).
    pub async fn migrate(&self) -> Result<(), Error> {
        MIGRATOR.run(&self.writer).await?;
        crate::messenger::backfill_search_keys(self).await
    }

    /// The pool reads go through (for a store made with [`new`](Self::new),
    /// the one pool).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The pool writes go through: a single connection for a database file
    /// opened by the store, else the same pool as [`pool`](Self::pool).
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Closes the reader and writer pools (waiting for connections in use).
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    async fn exists(&self, sql: &str, value: &str) -> Result<bool, StoreError> {
        let found: i64 = sqlx::query_scalar(sql)
            .bind(value)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(found != 0)
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

#[async_trait]
impl Store for SqliteStore {
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
        // search_rowid: the row's number in the FTS5 search index (one
        // writer at a time, so max + 1 is free).
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, username, display_name, display_name_key, \
             username_key, search_rowid, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, \
             (SELECT COALESCE(MAX(search_rowid), 0) + 1 FROM users), $7, $8, $8)",
        )
        .bind(user.id.0)
        .bind(&user.email)
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(display_name_key)
        .bind(username_key)
        .bind(&user.password_hash)
        .bind(micros(user.created_at))
        .execute(&self.writer)
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
        .bind(i64::from(session.title_explicit))
        .bind(micros(session.created_at))
        .bind(micros(session.updated_at))
        .execute(&self.writer)
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
        const ORDER: &str = "ORDER BY updated_at DESC, id DESC";
        let json: String = match cursor {
            None => {
                let sql = format!(
                    "SELECT json_group_array({SESSION_OBJECT} {ORDER}) FROM \
                     (SELECT * FROM chat_sessions WHERE user_id = $1 AND is_deleted = 0 \
                     {ORDER} LIMIT $2)"
                );
                sqlx::query_scalar(&sql)
                    .bind(user_id.0)
                    .bind(i64::from(limit))
                    .fetch_one(&self.pool)
                    .await
            }
            Some(cursor) => {
                let sql = format!(
                    "SELECT json_group_array({SESSION_OBJECT} {ORDER}) FROM \
                     (SELECT * FROM chat_sessions WHERE user_id = $1 AND is_deleted = 0 \
                     AND (updated_at < $2 OR (updated_at = $3 AND id < $4)) \
                     {ORDER} LIMIT $5)"
                );
                sqlx::query_scalar(&sql)
                    .bind(user_id.0)
                    .bind(micros(cursor.updated_at))
                    .bind(micros(cursor.updated_at))
                    .bind(cursor.id.0)
                    .bind(i64::from(limit))
                    .fetch_one(&self.pool)
                    .await
            }
        }
        .map_err(backend)?;
        Ok(sqlite_json::sessions(&json)?)
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
             SET title = $1, title_explicit = 1, updated_at = MAX(updated_at, $2) \
             WHERE id = $3 AND user_id = $4 AND is_deleted = 0 \
             RETURNING {SESSION_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(title)
            .bind(micros(at))
            .bind(id.0)
            .bind(user_id.0)
            .fetch_optional(&self.writer)
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
            .fetch_optional(&self.writer)
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
        .execute(&self.writer)
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
        if messages.is_empty() {
            return Ok(messages);
        }
        if let Some(group) = self.group.as_ref().filter(|g| g.is_running()) {
            return group.append(messages).await;
        }
        let mut conn = self.writer.acquire().await.map_err(backend)?;
        match exec_append(&mut conn, &messages).await {
            Ok(()) => Ok(messages),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(ConflictKind::Id)),
            Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound),
            Err(e) => Err(backend(e)),
        }
    }

    async fn update_message(
        &self,
        id: MessageId,
        update: MessageUpdate,
    ) -> Result<ChatMessage, StoreError> {
        if let Some(group) = self.group.as_ref().filter(|g| g.is_running()) {
            return group.update(id, update).await;
        }
        let mut conn = self.writer.acquire().await.map_err(backend)?;
        exec_update(&mut conn, id, &update)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)
    }

    async fn list_messages(&self, session_id: SessionId) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = format!(
            "SELECT json_group_array({MESSAGE_OBJECT} ORDER BY timestamp, id) \
             FROM chat_messages WHERE session_id = $1"
        );
        let json: String = sqlx::query_scalar(&sql)
            .bind(session_id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(sqlite_json::messages(&json)?)
    }

    async fn recent_messages(
        &self,
        session_id: SessionId,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = format!(
            "SELECT json_group_array({MESSAGE_OBJECT} ORDER BY timestamp, id) FROM \
             (SELECT * FROM chat_messages WHERE session_id = $1 \
             ORDER BY timestamp DESC, id DESC LIMIT $2)"
        );
        let json: String = sqlx::query_scalar(&sql)
            .bind(session_id.0)
            .bind(i64::from(limit))
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(sqlite_json::messages(&json)?)
    }

    async fn interrupt_streaming(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE chat_messages SET status = 'interrupted' WHERE status = 'streaming'",
        )
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected())
    }
}
