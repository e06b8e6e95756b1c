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

mod support;

use std::sync::Arc;

use chatcore::{MessengerStore, NewUser, Store, UserId};
use chatcore_sqlx::SqliteStore;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::Row;

fn new_user(username: &str, display_name: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: format!("{}@example.com", username.to_lowercase()),
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        password_hash: "hash".to_owned(),
        created_at: chatcore::clock::now(),
    }
}

/// The people search index needs FTS5 with the trigram tokenizer and
/// contentless-delete tables (SQLite 3.43+) in the bundled libsqlite3.
#[tokio::test]
async fn bundled_sqlite_has_fts5_trigram_with_contentless_delete() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(
        parts[..2] >= [3, 43][..],
        "SQLite {version} is older than 3.43"
    );
    sqlx::query(
        "CREATE VIRTUAL TABLE t USING fts5(a, b, content = '', contentless_delete = 1, \
         tokenize = 'trigram case_sensitive 1')",
    )
    .execute(&pool)
    .await
    .unwrap();
    for (rowid, a, b) in [
        (1, "élodie martin", "elo"),
        (2, "Straße", "x_y%z"),
        (3, "ab", "cd"),
    ] {
        sqlx::query("INSERT INTO t (rowid, a, b) VALUES ($1, $2, $3)")
            .bind(rowid)
            .bind(a)
            .bind(b)
            .execute(&pool)
            .await
            .unwrap();
    }
    let matching = |q: &'static str| {
        let pool = pool.clone();
        async move {
            let rows: Vec<i64> = sqlx::query_scalar("SELECT rowid FROM t WHERE t MATCH $1")
                .bind(q)
                .fetch_all(&pool)
                .await
                .unwrap();
            rows
        }
    };
    assert_eq!(
        matching("\"odie m\"").await,
        vec![1],
        "a substring, spaces included"
    );
    assert_eq!(matching("\"raß\"").await, vec![2], "non-ASCII characters");
    assert_eq!(
        matching("\"RAß\"").await,
        Vec::<i64>::new(),
        "case-sensitive"
    );
    assert_eq!(
        matching("\"_y%\"").await,
        vec![2],
        "no wildcards in a phrase"
    );
    sqlx::query("DELETE FROM t WHERE rowid = 1")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        matching("\"odie\"").await,
        Vec::<i64>::new(),
        "deleted by rowid"
    );
}

/// sqlx's SQLite driver binds `$N` to the N-th argument by name: a `$N` may
/// appear several times and in any order (the shared statements rely on it).
#[tokio::test]
async fn dollar_n_parameters_bind_by_number() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let row = sqlx::query("SELECT $3 AS c, $1 || $2 || $1 AS aba, $2 AS b")
        .bind("a")
        .bind("b")
        .bind(3_i64)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("c"), 3);
    assert_eq!(row.get::<String, _>("aba"), "aba");
    assert_eq!(row.get::<String, _>("b"), "b");
    // `IS NOT DISTINCT FROM` (SQLite 3.39+) and row values, used by the
    // shared statements as on PostgreSQL.
    let same: bool = sqlx::query_scalar("SELECT $1 IS NOT DISTINCT FROM NULL AND (1, $2) < (1, 3)")
        .bind(Option::<String>::None)
        .bind(2_i64)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(same);
}

/// A database made by the migrations from before the messenger, with users
/// in it, is opened by today's store: display names are the usernames, the
/// search keys are filled, and the users are found.
#[tokio::test]
async fn database_from_before_the_messenger_is_backfilled() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old-migrations");
    std::fs::create_dir(&old).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for file in [
        "20261122000001_initial.sql",
        "20261130000001_touch_session_trigger.sql",
    ] {
        std::fs::copy(source.join(file), old.join(file)).unwrap();
    }
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("chat.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let (ada, bob) = (UserId::new(), UserId::new());
    for (id, name) in [(ada, "Ada_Lovelace"), (bob, "bob")] {
        sqlx::query(
            "INSERT INTO users (id, email, username, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, 'hash', 1, 1)",
        )
        .bind(id.0)
        .bind(format!("{name}@example.com"))
        .bind(name)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = SqliteStore::connect(&url).await.unwrap();
    let user = store.get_user(ada).await.unwrap().unwrap();
    assert_eq!(user.display_name, "Ada_Lovelace");
    assert_eq!(user.avatar, None);
    let keys: (String, String) =
        sqlx::query_as("SELECT display_name_key, username_key FROM users WHERE id = $1")
            .bind(ada.0)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(keys, ("ada_lovelace".to_owned(), "ada_lovelace".to_owned()));
    for query in ["lovelace", "ad", "a_l", "lo", "v"] {
        let found = store.search_people(bob, query, 10).await.unwrap();
        assert_eq!(found.len(), 1, "{query}");
        assert_eq!(found[0].id, ada);
    }
    // From now on the keys are required, and kept in step with the names.
    let refused = sqlx::query(
        "INSERT INTO users (id, email, username, display_name, password_hash, created_at, \
         updated_at, search_rowid) VALUES ($1, 'x@example.com', 'x', 'x', 'h', 1, 1, 99)",
    )
    .bind(UserId::new().0)
    .execute(store.writer())
    .await;
    assert!(refused.is_err(), "a user without search keys");
    store
        .set_display_name(ada, "Élodie", chatcore::clock::now())
        .await
        .unwrap();
    assert_eq!(
        store
            .search_people(bob, &chatcore::fold::fold("ÉLO"), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .search_people(bob, "lovelace", 10)
            .await
            .unwrap()
            .len(),
        1,
        "by username"
    );
    let carol = store.create_user(new_user("carol", "Carol")).await.unwrap();
    assert_eq!(
        store.search_people(bob, "aro", 10).await.unwrap()[0].id,
        carol.id
    );
    // Reopening changes nothing.
    store.close().await;
    let store = SqliteStore::connect(&url).await.unwrap();
    assert_eq!(
        store.get_user(ada).await.unwrap().unwrap().display_name,
        "Élodie"
    );
}

/// A database from before the search grams (every migration but the
/// last), with users whose keys were filled: the migration writes their
/// grams, so queries of one or two characters inside a name find them.
#[tokio::test]
async fn database_from_before_the_search_grams_is_filled() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old-migrations");
    std::fs::create_dir(&old).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&source).unwrap() {
        let name = entry.unwrap().file_name();
        if name.to_string_lossy().as_ref() < "20261202000001" {
            std::fs::copy(source.join(&name), old.join(&name)).unwrap();
        }
    }
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("chat.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let (ada, bob) = (UserId::new(), UserId::new());
    for (n, id, name, key) in [
        (1, ada, "Ада Лавлейс", "ада лавлейс"),
        (2, bob, "bob", "bob"),
    ] {
        sqlx::query(
            "INSERT INTO users (id, email, username, display_name, display_name_key, \
             username_key, search_rowid, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $3, $6, 'hash', 1, 1)",
        )
        .bind(id.0)
        .bind(format!("u{n}@example.com"))
        .bind(format!("user{n}"))
        .bind(name)
        .bind(key)
        .bind(n)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = SqliteStore::connect(&url).await.unwrap();
    for query in ["л", "ла", "вл", "r1"] {
        let found = store.search_people(bob, query, 10).await.unwrap();
        let ids: Vec<UserId> = found.iter().map(|p| p.id).collect();
        assert_eq!(ids, [ada], "{query}");
    }
}

/// `connect_stores` gives both traits of one store (what one writes, the
/// other reads).
#[tokio::test]
async fn connect_stores_shares_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("chat.db").display());
    let stores = chatcore_sqlx::connect_stores(&url).await.unwrap();
    let ada = stores
        .store
        .create_user(new_user("ada", "Ada"))
        .await
        .unwrap();
    let people = stores.messenger.people(&[ada.id]).await.unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].display_name, "Ada");
}

/// Two stores on one file (two writer connections, as two processes would
/// have): `BEGIN IMMEDIATE` and the busy timeout serialise their writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_number_messages_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("chat.db").display());
    let mut stores = Vec::new();
    for _ in 0..2 {
        let store = Arc::new(SqliteStore::connect(&url).await.unwrap());
        stores.push((
            Arc::clone(&store) as Arc<dyn Store>,
            store as Arc<dyn MessengerStore>,
        ));
    }
    support::stores_on_one_database_agree(stores).await;
}
