//! `PostgresStore` as a `MessengerStore`: the messenger conformance suite on
//! a fresh database per scenario (one throwaway cluster, see
//! `chatcore_sqlx::testing`), plus PostgreSQL-specific checks (query plans,
//! the users backfill migration).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chatcore_sqlx::testing;

chatcore::messenger_conformance_tests!(|| async { testing::pg_test_store().await });

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use chatcore::fold::fold;
use chatcore::{MemoryStore, MessengerStore, NewUser, Store, UserId};
use chatcore_sqlx::{PostgresStore, SqliteStore};

fn new_user(id: UserId, username: &str, display_name: &str) -> NewUser {
    NewUser {
        id,
        email: format!("{}@example.com", username.to_lowercase()),
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        password_hash: "hash".to_owned(),
        created_at: chatcore::clock::now(),
    }
}

/// A database made by the migrations from before the messenger, with users
/// in it, is opened by today's store: display names are the usernames, the
/// search keys are filled, and the users are found.
#[tokio::test]
async fn database_from_before_the_messenger_is_backfilled() {
    let Some(db) = testing::pg_test_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = "20261122000001_initial.sql";
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    std::fs::copy(source.join(file), dir.path().join(file)).unwrap();
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let (ada, bob) = (UserId::new(), UserId::new());
    for (id, name) in [(ada, "Ada_Lovelace"), (bob, "bob")] {
        sqlx::query(
            "INSERT INTO users (id, email, username, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, 'hash', now(), now())",
        )
        .bind(id.0)
        .bind(format!("{name}@example.com"))
        .bind(name)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = PostgresStore::connect(db.url()).await.unwrap();
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
    // From now on the keys are required (a NOT VALID check: new rows only).
    let refused = sqlx::query(
        "INSERT INTO users (id, email, username, display_name, password_hash, created_at, \
         updated_at) VALUES ($1, 'x@example.com', 'x', 'x', 'h', now(), now())",
    )
    .bind(UserId::new().0)
    .execute(store.pool())
    .await;
    assert!(refused.is_err(), "a user without search keys");
    store
        .set_display_name(ada, "Élodie", chatcore::clock::now())
        .await
        .unwrap();
    assert_eq!(
        store
            .search_people(bob, &fold("ÉLO"), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    store.pool().close().await;
    let store = PostgresStore::connect(db.url()).await.unwrap();
    assert_eq!(
        store.get_user(ada).await.unwrap().unwrap().display_name,
        "Élodie"
    );
}

/// A database from before the search grams (every migration but the
/// last), with users whose keys were filled: the migration writes their
/// grams and the trigram index covers them, so queries of every length
/// inside a name find them.
#[tokio::test]
async fn database_from_before_the_search_grams_is_filled() {
    let Some(db) = testing::pg_test_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    for entry in std::fs::read_dir(&source).unwrap() {
        let name = entry.unwrap().file_name();
        if name.to_string_lossy().as_ref() < "20261202000001" {
            std::fs::copy(source.join(&name), dir.path().join(&name)).unwrap();
        }
    }
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    sqlx::migrate::Migrator::new(dir.path())
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
             username_key, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $3, 'hash', now(), now())",
        )
        .bind(id.0)
        .bind(format!("u{n}@example.com"))
        .bind(format!("user{n}"))
        .bind(name)
        .bind(key)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = PostgresStore::connect(db.url()).await.unwrap();
    for query in ["л", "ла", "вл", "r1", "лейс", "er1"] {
        let found = store.search_people(bob, query, 10).await.unwrap();
        let ids: Vec<UserId> = found.iter().map(|p| p.id).collect();
        assert_eq!(ids, [ada], "{query}");
    }
}

#[tokio::test]
async fn connect_stores_shares_one_store() {
    let Some(db) = testing::pg_test_database().await else {
        return;
    };
    let stores = chatcore_sqlx::connect_stores(db.url()).await.unwrap();
    let ada = stores
        .store
        .create_user(new_user(UserId::new(), "ada", "Ada"))
        .await
        .unwrap();
    let people = stores.messenger.people(&[ada.id]).await.unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].display_name, "Ada");
}

/// The same users on the memory store, SQLite and PostgreSQL give the same
/// answers to every query: every substring of 1 to 4 characters of every
/// folded name, whole names, wildcards and misses, with several limits.
#[tokio::test]
async fn search_agrees_on_memory_sqlite_and_postgres() {
    let Some(pg) = testing::pg_test_store().await else {
        return;
    };
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::connect(&format!(
        "sqlite://{}",
        sqlite_dir.path().join("search.db").display()
    ))
    .await
    .unwrap();
    let memory = MemoryStore::new();
    let names = [
        ("elodie", "Élodie Martin"),
        ("elo_die", "ÉLODIE"),
        ("elodie2", "e\u{301}lodie"),
        ("strasse", "Straße"),
        ("Strasse_2", "STRASSE"),
        ("sisyphus", "Σίσυφος"),
        ("SISYPHUS.2", "ΣΊΣΥΦΟΣ"),
        ("percent", "100% real"),
        ("under", "a_b"),
        ("plain", "aXb 100 real"),
        ("zoe", "Zoë"),
        ("zoe2", "Zoe"),
        ("dzemal", "Ǆemal"),
        ("file", "ﬁle"),
        ("ada_fw", "ＡＤＡ"),
        ("ada", "Ada"),
        ("adam", "Adam"),
        ("Adaline", "Adaline"),
        ("madam", "Madam Ada"),
        ("bruce", "李小龙"),
        ("xiaolongnv", "小龙女"),
        ("smile", "🙂 Smile"),
        ("obrien", "O'Brien"),
        ("backslash", "back\\slash"),
        ("quoted", "quote\"d \"x\""),
        ("istanbul", "İstanbul"),
        ("dotless", "ıi"),
        ("x_x", "x"),
        ("maxchar", "\u{10FFFF}\u{10FFFF}end"),
        ("caller", "Caller"),
    ];
    let mut caller = None;
    let mut keys = Vec::new();
    for (username, display_name) in names {
        let id = UserId::new();
        for store in [&memory as &dyn Store, &sqlite, &pg] {
            store
                .create_user(new_user(id, username, display_name))
                .await
                .unwrap();
        }
        if username == "caller" {
            caller = Some(id);
        }
        keys.push(fold(display_name));
        keys.push(fold(username));
    }
    let caller = caller.unwrap();
    let mut queries: BTreeSet<String> = BTreeSet::new();
    for key in &keys {
        let chars: Vec<char> = key.chars().collect();
        for len in 1..=4 {
            for window in chars.windows(len) {
                queries.insert(window.iter().collect());
            }
        }
        queries.insert(key.clone());
    }
    for extra in [
        "%",
        "_",
        "\\",
        "\"",
        "%_",
        "zz",
        "no such name",
        "\u{10FFFF}",
        "ada ",
    ] {
        queries.insert(extra.to_owned());
    }
    let (mut compared, mut found) = (0, 0);
    for q in &queries {
        for limit in [50, 2] {
            let expected = memory.search_people(caller, q, limit).await.unwrap();
            let on_sqlite = sqlite.search_people(caller, q, limit).await.unwrap();
            let on_pg = pg.search_people(caller, q, limit).await.unwrap();
            assert_eq!(on_sqlite, expected, "SQLite, {q:?}, limit {limit}");
            assert_eq!(on_pg, expected, "PostgreSQL, {q:?}, limit {limit}");
            compared += 1;
            found += usize::from(!expected.is_empty());
        }
    }
    eprintln!("{compared} comparisons, {found} with people found");
    assert!(
        compared > 500 && found * 10 > compared * 8,
        "{compared} / {found}"
    );
}

/// Three stores (three pools, as three server instances would have) on one
/// database: the row lock on the conversation numbers their messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_stores_on_one_database_number_messages_without_gaps() {
    let Some(db) = testing::pg_test_database().await else {
        return;
    };
    let mut stores = Vec::new();
    for _ in 0..3 {
        let store = Arc::new(PostgresStore::connect(db.url()).await.unwrap());
        stores.push((
            Arc::clone(&store) as Arc<dyn Store>,
            store as Arc<dyn MessengerStore>,
        ));
    }
    support::stores_on_one_database_agree(stores).await;
}
