//! `SqliteStore` as a `MessengerStore`: the messenger conformance suite on a
//! temporary database file per test and on `sqlite::memory:`, plus
//! SQLite-specific checks (FTS5 trigram, `$N` parameters, query plans, the
//! users backfill migration).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The suite on a fresh database file per scenario.
mod file {
    chatcore::messenger_conformance_tests!(|| async {
        chatcore_sqlx::testing::sqlite_messenger_test_store().await
    });
}

/// The suite on `sqlite::memory:` (one connection for reads and writes).
mod memory {
    chatcore::messenger_conformance_tests!(|| async {
        chatcore_sqlx::SqliteStore::connect("sqlite::memory:")
            .await
            .expect("sqlite::memory:")
    });
}
