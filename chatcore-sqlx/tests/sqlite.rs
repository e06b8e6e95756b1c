//! `SqliteStore`: the whole store conformance suite on a temporary database
//! file per test and on `sqlite::memory:`, plus SQLite-specific checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chatcore::{ChatSession, NewUser, Store, UserId};
use chatcore_sqlx::{Backend, Error, SqliteStore};

/// The suite on a fresh database file per scenario.
mod file {
    chatcore::store_conformance_tests!(|| async {
        chatcore_sqlx::testing::sqlite_test_store().await
    });
}

/// The suite on `sqlite::memory:` (one connection that lives as long as the pool).
mod memory {
    chatcore::store_conformance_tests!(|| async {
        chatcore_sqlx::SqliteStore::connect("sqlite::memory:")
            .await
            .expect("sqlite::memory:")
    });
}

fn temp_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("chat.db").display())
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: format!("{name}@example.com"),
        username: name.to_owned(),
        display_name: name.to_owned(),
        password_hash: "hash".to_owned(),
        created_at: chatcore::clock::now(),
    }
}

#[tokio::test]
async fn file_is_created_and_migrations_rerun_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let url = temp_url(&dir);
    let first = SqliteStore::connect(&url).await.unwrap();
    assert!(dir.path().join("chat.db").exists(), "create_if_missing");
    let user = first.create_user(new_user("alice")).await.unwrap();
    first.close().await;

    // Reconnecting runs the migrator again: nothing is re-applied, data stays.
    let second = SqliteStore::connect(&url).await.unwrap();
    second.migrate().await.unwrap();
    assert_eq!(second.get_user(user.id).await.unwrap(), Some(user));
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(second.pool())
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert_eq!(applied, i64::try_from(files).unwrap());
}

#[tokio::test]
async fn pragmas_are_in_effect_on_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&temp_url(&dir)).await.unwrap();
    // Hold several connections at once so more than one is checked.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = store.pool().acquire().await.unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(journal.to_lowercase(), "wal");
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(foreign_keys, 1);
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(busy, 5000);
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(synchronous, 1, "synchronous = NORMAL");
        held.push(conn);
    }
}

#[tokio::test]
async fn foreign_keys_are_enforced() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let err = sqlx::query(
        "INSERT INTO chat_sessions (id, user_id, title, created_at, updated_at) \
         VALUES ($1, $2, 'x', 0, 0)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(uuid::Uuid::now_v7())
    .execute(store.pool())
    .await
    .unwrap_err();
    assert!(
        matches!(&err, sqlx::Error::Database(db) if db.is_foreign_key_violation()),
        "{err}"
    );
}

#[tokio::test]
async fn queries_use_the_indexes() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let plan = |sql: &'static str| {
        let pool = store.pool().clone();
        async move {
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
        }
    };
    let sessions = plan(
        "SELECT id FROM chat_sessions WHERE user_id = x'00' AND is_deleted = 0 \
         ORDER BY updated_at DESC, id DESC LIMIT 50",
    )
    .await;
    assert!(
        sessions.contains("chat_sessions_user_list_idx"),
        "{sessions}"
    );
    assert!(
        !sessions.contains("TEMP B-TREE"),
        "no sort step: {sessions}"
    );
    let messages =
        plan("SELECT id FROM chat_messages WHERE session_id = x'00' ORDER BY timestamp, id").await;
    assert!(
        messages.contains("chat_messages_session_order_idx"),
        "{messages}"
    );
    assert!(
        !messages.contains("TEMP B-TREE"),
        "no sort step: {messages}"
    );
    let email = plan("SELECT id FROM users WHERE lower(email) = lower('a@b.c')").await;
    assert!(email.contains("users_email_lower_key"), "{email}");
}

#[tokio::test]
async fn memory_database_survives_across_pool_use() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let user = store.create_user(new_user("alice")).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.get_user(user.id).await }));
    }
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_some());
    }
}

#[tokio::test]
async fn connect_dispatches_on_the_url_scheme() {
    let store = chatcore_sqlx::connect("sqlite::memory:").await.unwrap();
    store.ping().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = chatcore_sqlx::connect(&temp_url(&dir)).await.unwrap();
    let user = store.create_user(new_user("bob")).await.unwrap();
    let session = ChatSession {
        id: chatcore::SessionId::new(),
        user_id: user.id,
        title: "t".into(),
        title_explicit: false,
        created_at: chatcore::clock::now(),
        updated_at: chatcore::clock::now(),
    };
    store.create_session(session).await.unwrap();

    let plain_path = format!("sqlite:{}", dir.path().join("plain.db").display());
    chatcore_sqlx::connect(&plain_path)
        .await
        .unwrap()
        .ping()
        .await
        .unwrap();
    assert!(dir.path().join("plain.db").exists());

    assert_eq!(
        Backend::from_url("sqlite::memory:").unwrap(),
        Backend::Sqlite
    );
    assert_eq!(Backend::from_url("SQLITE://x.db").unwrap(), Backend::Sqlite);
    assert_eq!(
        Backend::from_url("postgres://u@h/db").unwrap(),
        Backend::Postgres
    );
    assert_eq!(
        Backend::from_url("postgresql://u@h/db").unwrap(),
        Backend::Postgres
    );
}

#[tokio::test]
async fn unsupported_schemes_are_clear_errors_without_credentials() {
    for (url, scheme) in [
        ("mysql://root:hunter2@db/chat", "mysql"),
        ("postgres:hunter2@db", "postgres"),
        ("chatcore.db", ""),
        ("", ""),
        ("http://example.com/db", "http"),
    ] {
        let err = match chatcore_sqlx::connect(url).await {
            Ok(_) => panic!("{url} connected"),
            Err(err) => err,
        };
        match &err {
            Error::UnsupportedScheme { scheme: found } => assert_eq!(found, scheme, "{url}"),
            other => panic!("{url}: expected UnsupportedScheme, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains("sqlite:"), "{message}");
        assert!(message.contains("postgres://"), "{message}");
        assert!(
            !message.contains("hunter2"),
            "credentials leaked: {message}"
        );
    }
}

#[tokio::test]
async fn store_errors_keep_the_backend_error() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    store.close().await;
    let err = store.ping().await.unwrap_err();
    match &err {
        chatcore::StoreError::Backend(source) => {
            assert!(source.downcast_ref::<Error>().is_some(), "{source:?}");
        }
        other => panic!("expected Backend, got {other:?}"),
    }
}

/// Two pools on one file (as two server processes would be) write to the
/// same session at once: BEGIN IMMEDIATE plus the busy timeout serialise them
/// without a single "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_pools_on_one_file_write_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let url = temp_url(&dir);
    let a = SqliteStore::connect(&url).await.unwrap();
    let b = SqliteStore::connect(&url).await.unwrap();
    let user = a.create_user(new_user("alice")).await.unwrap();
    let session = ChatSession {
        id: chatcore::SessionId::new(),
        user_id: user.id,
        title: "busy".into(),
        title_explicit: false,
        created_at: chatcore::clock::now(),
        updated_at: chatcore::clock::now(),
    };
    a.create_session(session.clone()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let session_id = session.id;
        tasks.push(tokio::spawn(async move {
            store
                .append_message(chatcore::ChatMessage {
                    id: chatcore::MessageId::new(),
                    session_id,
                    role: chatcore::Role::User,
                    content: format!("message {i}"),
                    status: chatcore::MessageStatus::Complete,
                    provider: None,
                    model: None,
                    usage: None,
                    timestamp: chatcore::clock::now(),
                })
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(b.list_messages(session.id).await.unwrap().len(), 60);
}
