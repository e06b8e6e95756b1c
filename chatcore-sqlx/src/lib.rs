//! # chatcore-sqlx
//!
//! [`chatcore::Store`] and [`chatcore::MessengerStore`] on SQLite
//! ([`SqliteStore`], feature `sqlite`) and on PostgreSQL ([`PostgresStore`],
//! feature `postgres`), both on by default.
//!
//! - Every query is a runtime query (`sqlx::query`), so building needs no
//!   database and no `.sqlx` metadata; each backend's behaviour is pinned by
//!   chatcore's store conformance suite, which this crate's tests run on both.
//! - Each backend embeds its migrations (`migrations/sqlite`,
//!   `migrations/postgres`) and applies them on connect.
//! - Times are stored losslessly at microsecond precision (SQLite: INTEGER
//!   microseconds since the epoch; PostgreSQL: `TIMESTAMPTZ`), so messages
//!   order exactly by `(timestamp, id)`.
//! - Unique violations become [`StoreError::Conflict`](chatcore::StoreError::Conflict),
//!   recognised with the driver's `is_unique_violation()`; other failures
//!   become [`StoreError::Backend`](chatcore::StoreError::Backend) holding an [`Error`].
//! - The messenger's statements are written once for both backends (the
//!   module `messenger` of the sources: `$N` parameters, the times of its
//!   tables as BIGINT microseconds on both); only transactions, value
//!   binding and the trigram "contains" of people search differ per backend.
//!   People search runs on indexes: B-trees on the folded names for exact
//!   and prefix matches; for substrings, a table of every 1- and
//!   2-character substring of each name in display-name order (read in
//!   order, stopped at the limit) and a trigram index (FTS5 on SQLite, a
//!   GIN index of trigram arrays on PostgreSQL) for longer ones.
//!
//! [`connect`] picks the backend from the URL ([`connect_stores`] gives the
//! messenger's store of the same connection too):
//!
//! ```no_run
//! # async fn run() -> Result<(), chatcore_sqlx::Error> {
//! use std::sync::Arc;
//! use chatcore::Store;
//!
//! let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://chatcore.db".into());
//! let store: Arc<dyn Store> = chatcore_sqlx::connect(&url).await?;
//! store.interrupt_streaming().await.ok();
//! # Ok(())
//! # }
//! ```
//!
//! The `testing` feature adds the module `testing`: a throwaway PostgreSQL
//! cluster and a fresh database per test, for this crate's and other
//! crates' tests.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]
// With no backend feature only the error type and `connect` (which then
// always fails) remain, and the shared row helpers go unused.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

use std::fmt;
use std::sync::Arc;

use chatcore::{MessengerStore, Store};

mod config;
mod error;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod messenger;
#[cfg(feature = "postgres")]
mod postgres_store;
mod rows;
#[cfg(feature = "sqlite")]
mod sqlite_json;
#[cfg(feature = "sqlite")]
mod sqlite_rows;
#[cfg(feature = "sqlite")]
mod sqlite_store;
#[cfg(feature = "sqlite")]
mod sqlite_writer;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::PoolConfig;
pub use error::Error;
#[cfg(feature = "postgres")]
pub use postgres_store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite_store::SqliteStore;
/// The sqlx version this crate is built on (for pools and options).
pub use sqlx;

/// The database a URL names, from its scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// `sqlite:…` (including `sqlite://…` and `sqlite::memory:`).
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// The backend a database URL names; anything else is
    /// [`Error::UnsupportedScheme`] (which keeps only the scheme, never
    /// credentials).
    ///
    /// ```
    /// use chatcore_sqlx::Backend;
    ///
    /// assert_eq!(Backend::from_url("sqlite::memory:").unwrap(), Backend::Sqlite);
    /// assert_eq!(Backend::from_url("postgresql://db/chat").unwrap(), Backend::Postgres);
    /// assert!(Backend::from_url("mysql://db/chat").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme).unwrap_or("");
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql"
                if url
                    .get(scheme.len()..)
                    .is_some_and(|rest| rest.starts_with("://")) =>
            {
                Ok(Backend::Postgres)
            }
            _ => Err(Error::UnsupportedScheme {
                scheme: scheme.chars().take(32).collect(),
            }),
        }
    }
}

/// Connects to the database named by `url` with the default pool settings,
/// applies its migrations and returns it as a shared [`Store`].
///
/// `sqlite:path`, `sqlite://path` and `sqlite::memory:` open SQLite (the file
/// is created if missing); `postgres://…` and `postgresql://…` open
/// PostgreSQL. Any other scheme is [`Error::UnsupportedScheme`]; a backend
/// whose feature is off is [`Error::BackendDisabled`].
///
/// ```no_run
/// # async fn run() -> Result<(), chatcore_sqlx::Error> {
/// let store = chatcore_sqlx::connect("postgres://chat@localhost/chat").await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, Error> {
    connect_with(url, PoolConfig::default()).await
}

/// Like [`connect`], with pool settings.
///
/// ```no_run
/// # async fn run() -> Result<(), chatcore_sqlx::Error> {
/// use chatcore_sqlx::PoolConfig;
///
/// let config = PoolConfig::default().with_max_connections(32);
/// let store = chatcore_sqlx::connect_with("postgres://chat@localhost/chat", config).await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect_with(url: &str, config: PoolConfig) -> Result<Arc<dyn Store>, Error> {
    Ok(connect_stores_with(url, config).await?.store)
}

/// Both storage traits of one database: the chat [`Store`] and the
/// [`MessengerStore`], the same store value behind two `Arc`s (one pool,
/// one SQLite writer).
#[derive(Clone)]
pub struct Stores {
    /// Users, chat sessions and their messages.
    pub store: Arc<dyn Store>,
    /// Profiles, people search, conversations, their messages and images.
    pub messenger: Arc<dyn MessengerStore>,
}

impl fmt::Debug for Stores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

impl Stores {
    /// Both traits of one store.
    pub fn of<S: Store + MessengerStore>(store: S) -> Self {
        let store = Arc::new(store);
        Stores {
            store: store.clone(),
            messenger: store,
        }
    }
}

/// Like [`connect`], returning the [`MessengerStore`] of the same
/// connection beside the [`Store`].
///
/// ```no_run
/// # async fn run() -> Result<(), chatcore_sqlx::Error> {
/// let stores = chatcore_sqlx::connect_stores("sqlite://chatcore.db").await?;
/// let people = stores.messenger.people(&[]).await;
/// # Ok(())
/// # }
/// ```
pub async fn connect_stores(url: &str) -> Result<Stores, Error> {
    connect_stores_with(url, PoolConfig::default()).await
}

/// Like [`connect_stores`], with pool settings.
pub async fn connect_stores_with(url: &str, config: PoolConfig) -> Result<Stores, Error> {
    match Backend::from_url(url)? {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => Ok(Stores::of(SqliteStore::connect_with(url, config).await?)),
        #[cfg(not(feature = "sqlite"))]
        Backend::Sqlite => {
            let _ = config;
            Err(Error::BackendDisabled { backend: "sqlite" })
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => Ok(Stores::of(PostgresStore::connect_with(url, config).await?)),
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => {
            let _ = config;
            Err(Error::BackendDisabled {
                backend: "postgres",
            })
        }
    }
}
