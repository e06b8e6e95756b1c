//! `PostgresStore` as a `MessengerStore`: the messenger conformance suite on
//! a fresh database per scenario (one throwaway cluster, see
//! `chatcore_sqlx::testing`), plus PostgreSQL-specific checks (query plans,
//! the users backfill migration).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chatcore_sqlx::testing;

chatcore::messenger_conformance_tests!(|| async { testing::pg_test_store().await });
