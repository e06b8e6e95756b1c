//! The SQLite store's hot queries, on a database file in a temporary
//! directory (WAL, `synchronous = NORMAL`, as the server runs it): reading a
//! history of 50 and of 500 messages (whole, and the last 50 the reply path
//! reads), appending one message, storing a turn (user message + streaming
//! placeholder in one transaction), listing 20 sessions and reading a user.
//! `raw_select_1` is the floor: one trivial query through the same pool.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use chatcore::{
    ChatMessage, ChatSession, MessageId, MessageStatus, NewUser, Role, SessionId, Store, UserId,
};
use chatcore_sqlx::SqliteStore;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn message(session_id: SessionId, role: Role, status: MessageStatus, text: &str) -> ChatMessage {
    ChatMessage {
        id: MessageId::new(),
        session_id,
        role,
        content: text.to_owned(),
        status,
        provider: None,
        model: None,
        usage: None,
        timestamp: chatcore::clock::now(),
    }
}

/// A user with 20 sessions; the first holds `history` messages of ~60 words.
async fn seed(store: &SqliteStore, history: usize) -> (UserId, SessionId) {
    let user = store
        .create_user(NewUser {
            id: UserId::new(),
            email: "bench@example.com".to_owned(),
            username: "bench".to_owned(),
            display_name: "Bench".to_owned(),
            password_hash: "x".to_owned(),
            created_at: chatcore::clock::now(),
        })
        .await
        .expect("user");
    let mut first = None;
    for i in 0..20 {
        let now = chatcore::clock::now();
        let session = store
            .create_session(ChatSession {
                id: SessionId::new(),
                user_id: user.id,
                title: format!("session {i}"),
                title_explicit: false,
                created_at: now,
                updated_at: now,
            })
            .await
            .expect("session");
        first.get_or_insert(session.id);
    }
    let session_id = first.expect("a session");
    let text = "a reasonably long line of chat text with some words in it ".repeat(6);
    for i in 0..history {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        store
            .append_message(message(session_id, role, MessageStatus::Complete, &text))
            .await
            .expect("append");
    }
    (user.id, session_id)
}

fn reads(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("sqlite_history");
    for history in [50usize, 500] {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = rt.block_on(SqliteStore::connect(&url)).expect("store");
        let (_, session_id) = rt.block_on(seed(&store, history));
        group.bench_with_input(
            BenchmarkId::new("list_messages", history),
            &history,
            |b, &n| {
                b.to_async(&rt).iter(|| async {
                    let found = store.list_messages(session_id).await.expect("list");
                    assert_eq!(found.len(), n);
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("recent_messages_50", history),
            &history,
            |b, _| {
                b.to_async(&rt).iter(|| async {
                    let found = store.recent_messages(session_id, 50).await.expect("recent");
                    assert_eq!(found.len(), 50);
                })
            },
        );
    }
    group.finish();
}

fn others(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = rt.block_on(SqliteStore::connect(&url)).expect("store");
    let (user_id, session_id) = rt.block_on(seed(&store, 0));
    let mut group = c.benchmark_group("sqlite");
    group.bench_function("raw_select_1", |b| {
        b.to_async(&rt).iter(|| async {
            let one: i64 = chatcore_sqlx::sqlx::query_scalar("SELECT 1")
                .fetch_one(store.pool())
                .await
                .expect("select");
            assert_eq!(one, 1);
        })
    });
    group.bench_function("get_user", |b| {
        b.to_async(&rt)
            .iter(|| async { store.get_user(user_id).await.expect("get").expect("user") })
    });
    group.bench_function("list_sessions_20", |b| {
        b.to_async(&rt).iter(|| async {
            let found = store.list_sessions(user_id, 21, None).await.expect("list");
            assert_eq!(found.len(), 20);
        })
    });
    group.bench_function("append_message", |b| {
        b.to_async(&rt).iter(|| async {
            store
                .append_message(message(
                    session_id,
                    Role::User,
                    MessageStatus::Complete,
                    "hi",
                ))
                .await
                .expect("append")
        })
    });
    group.bench_function("append_turn", |b| {
        b.to_async(&rt).iter(|| async {
            store
                .append_messages(vec![
                    message(session_id, Role::User, MessageStatus::Complete, "hi"),
                    message(session_id, Role::Assistant, MessageStatus::Streaming, ""),
                ])
                .await
                .expect("append turn")
        })
    });
    group.finish();
}

criterion_group!(store, reads, others);
criterion_main!(store);
