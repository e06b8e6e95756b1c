//! SQLite and PostgreSQL implementations of [`chatcore::Store`].
#![deny(missing_docs)]
