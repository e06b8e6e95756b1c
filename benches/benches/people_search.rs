//! People search over 100,000 users on SQLite (a database file, as the
//! server runs it) and PostgreSQL (a throwaway cluster started by the
//! bench), through `MessengerStore::search_people`: p50 / p99 / max of 300
//! searches per kind of query (1, 2 and 3+ characters, non-ASCII, no match,
//! the worst cases for the indexes),
//! printed as a table. The target (issue 11): p99 under 20 ms on both.
//!
//! `CHATCORE_BENCH_USERS` changes the number of users (default 100,000);
//! `CHATCORE_BENCH_PG=0` skips PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatcore::fold::fold;
use chatcore::{MessengerStore, NewUser, Store, UserId};
use chatcore_sqlx::{PostgresStore, SqliteStore};

const FIRST: &[&str] = &[
    "Élodie",
    "Anna",
    "Mateo",
    "Sofía",
    "Jürgen",
    "Zoë",
    "Ольга",
    "Иван",
    "Łukasz",
    "Ada",
    "Grace",
    "Chen",
    "Aiko",
    "Noah",
    "Liam",
    "Emma",
    "Olivia",
    "Søren",
    "Björk",
    "Ærin",
    "Straße",
    "Nadia",
];
const LAST: &[&str] = &[
    "Martin",
    "Dubois",
    "Müller",
    "García",
    "Rossi",
    "Kowalski",
    "Петров",
    "Smith",
    "Lovelace",
    "Hopper",
    "Tanaka",
    "Nguyen",
    "Hansen",
    "O'Brien",
    "Jensen",
    "Costa",
    "Silva",
    "Novak",
];

/// Queries by kind: (label, query as typed).
const QUERIES: &[(&str, &[&str])] = &[
    ("1 char", &["a", "é", "z", "о"]),
    ("2 chars", &["an", "ÉL", "mü", "ov"]),
    ("3+ chars", &["élodie", "MARTIN", "ada lov", "user0420"]),
    ("non-ASCII", &["ПЕТРОВ", "STRASSE", "jürgen", "søren"]),
    ("no match", &["qqqxz", "zzzzzz", "xylophone"]),
    // Every username starts with "u" and contains "er"; "ров" ends the
    // Cyrillic surname of one user in 18, who all sort after every Latin
    // name; "n m" spans first and last names.
    ("worst cases", &["u", "er", "ров", "n m"]),
];

fn users() -> usize {
    std::env::var("CHATCORE_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

async fn seed(store: &dyn Store, count: usize) -> UserId {
    let started = Instant::now();
    let mut caller = None;
    {
        for i in 0..count {
            let display_name = format!(
                "{} {}",
                FIRST[i % FIRST.len()],
                LAST[(i / FIRST.len()) % LAST.len()]
            );
            let user = store
                .create_user(NewUser {
                    id: UserId::new(),
                    email: format!("user{i}@example.com"),
                    username: format!("user{i:06}"),
                    display_name,
                    password_hash: "x".to_owned(),
                    created_at: chatcore::clock::now(),
                })
                .await
                .expect("create_user");
            caller.get_or_insert(user.id);
        }
    }
    eprintln!("  seeded {count} users in {:.1?}", started.elapsed());
    caller.expect("a user")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

async fn measure(name: &str, store: Arc<dyn MessengerStore>, caller: UserId, count: usize) {
    println!("\n{name}: people search, {count} users");
    println!("| query | p50 | p99 | max | results (first query) |");
    println!("| --- | --- | --- | --- | --- |");
    for (label, queries) in QUERIES {
        let folded: Vec<String> = queries.iter().map(|q| fold(q)).collect();
        // Warm the caches once.
        for q in &folded {
            store.search_people(caller, q, 20).await.expect("search");
        }
        let first = store
            .search_people(caller, &folded[0], 20)
            .await
            .expect("search")
            .len();
        let mut times = Vec::with_capacity(300);
        for round in 0..300 {
            let q = &folded[round % folded.len()];
            let started = Instant::now();
            store.search_people(caller, q, 20).await.expect("search");
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "| {label} | {:.2?} | {:.2?} | {:.2?} | {first} |",
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // and expects a quick run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let count = if quick { 500 } else { users() };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("search.db").display());
        let sqlite = Arc::new(SqliteStore::connect(&url).await.expect("sqlite"));
        let caller = seed(&*sqlite, count).await;
        measure("SQLite", sqlite, caller, count).await;

        if std::env::var("CHATCORE_BENCH_PG").as_deref() == Ok("0") {
            return;
        }
        let Some(db) = chatcore_sqlx::testing::pg_test_database().await else {
            eprintln!("PostgreSQL unavailable: skipped");
            return;
        };
        let pg = Arc::new(PostgresStore::connect(db.url()).await.expect("postgres"));
        let caller = seed(&*pg, count).await;
        // What autovacuum does soon after a bulk load: statistics for the
        // planner, and the visibility map that lets index-only scans skip
        // the table (right after the load, each entry read costs a visit).
        sqlx::query("VACUUM ANALYZE")
            .execute(pg.pool())
            .await
            .expect("vacuum");
        measure("PostgreSQL", pg, caller, count).await;
    });
}
