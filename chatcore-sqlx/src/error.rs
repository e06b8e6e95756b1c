//! The crate's error type and its conversion into [`chatcore::StoreError`].

use chatcore::StoreError;

/// What connecting, migrating or querying can fail with.
///
/// Inside the [`Store`](chatcore::Store) methods it becomes
/// [`StoreError::Backend`] (keeping this error as the source), except for the
/// cases the core branches on (unique violations become
/// [`StoreError::Conflict`], missing rows [`StoreError::NotFound`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database driver failed (connection, query, pool timeout…).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The URL names no database this crate knows (only the scheme is kept,
    /// so credentials never end up in logs).
    #[error(
        "unsupported database URL scheme `{scheme}`: expected `sqlite:` (or `sqlite://`), \
         `postgres://` or `postgresql://`"
    )]
    UnsupportedScheme {
        /// The scheme found (the text before the first `:`), possibly empty.
        scheme: String,
    },
    /// The URL names a backend whose cargo feature is not enabled.
    #[error(
        "the {backend} backend is not compiled in: enable the `{backend}` feature of chatcore-sqlx"
    )]
    BackendDisabled {
        /// `sqlite` or `postgres`.
        backend: &'static str,
    },
    /// A stored row holds a value that maps to no domain value (a corrupt or
    /// newer row).
    #[error("invalid stored row: {0}")]
    InvalidRow(String),
    /// A conditional write kept losing a race with other writes of the same
    /// row and gave up.
    #[error("write contended: {0}")]
    Contended(String),
    /// A batch of writes committed together failed as a whole (SQLite group
    /// commit); nothing of the batch was stored.
    #[error("write batch failed: {0}")]
    Batch(String),
}

impl From<Error> for StoreError {
    fn from(error: Error) -> Self {
        StoreError::backend(error)
    }
}

/// A driver error as a [`StoreError::Backend`].
pub(crate) fn backend(error: sqlx::Error) -> StoreError {
    StoreError::from(Error::from(error))
}

/// Whether the driver reported a unique-constraint violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether the driver reported a foreign-key violation.
pub(crate) fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}
