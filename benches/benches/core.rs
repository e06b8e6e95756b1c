//! Hot paths of chatcore itself: JWT verification, password verification
//! (to document its cost), and the fan-out of a reply's deltas to 1, 10 and
//! 100 subscribers beside a bare `tokio::sync::broadcast` baseline.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use chatcore::testing::{ScriptStep, ScriptedProvider};
use chatcore::{
    ChatConfig, ChatService, JwtTokens, LocalEventBus, MemoryStore, NewUser, PasswordHasher,
    ReplyEvent, Store, TokenService, UserId,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::StreamExt;

const DELTAS: usize = 1_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn jwt(c: &mut Criterion) {
    let rt = runtime();
    let tokens = JwtTokens::new(b"bench-secret-bench-secret-bench-secret");
    let token = rt
        .block_on(tokens.issue(UserId::new()))
        .expect("issue")
        .token;
    c.bench_function("jwt_verify", |b| {
        b.to_async(&rt)
            .iter(|| async { tokens.verify(&token).await.expect("valid") })
    });
}

fn password(c: &mut Criterion) {
    let rt = runtime();
    let hasher = PasswordHasher::new().expect("hasher");
    let phc = rt
        .block_on(hasher.hash("correct horse battery"))
        .expect("hash");
    let mut group = c.benchmark_group("password");
    group.sample_size(10);
    group.bench_function("verify_owasp_argon2id", |b| {
        b.to_async(&rt).iter(|| async {
            hasher
                .verify("correct horse battery", Some(&phc))
                .await
                .expect("verify")
        })
    });
    group.finish();
}

/// One reply of `DELTAS` deltas delivered to `subscribers` readers through
/// ChatService (the starter's stream plus re-attached ones).
async fn fan_out(chat: &ChatService, user: UserId, subscribers: usize) {
    let session = chat.create_session(user, None).await.expect("session");
    let started = chat
        .start_reply(user, session.id, "go")
        .await
        .expect("start");
    let mut streams = vec![started.events];
    for _ in 1..subscribers {
        if let Some(stream) = chat.attach(user, session.id).await.expect("attach") {
            streams.push(stream);
        }
    }
    let readers = streams.into_iter().map(|mut stream| {
        tokio::spawn(async move {
            let mut bytes = 0usize;
            while let Some(event) = stream.next().await {
                match event {
                    ReplyEvent::Delta { text, .. } => bytes += text.len(),
                    ReplyEvent::Snapshot { message } => bytes = message.content.len(),
                    _ => break,
                }
            }
            bytes
        })
    });
    for reader in readers.collect::<Vec<_>>() {
        let bytes = reader.await.expect("reader");
        assert_eq!(bytes, DELTAS * 4);
    }
}

/// The same number of deltas through a bare broadcast channel.
async fn bare_broadcast(subscribers: usize) {
    let (tx, _) = tokio::sync::broadcast::channel::<Arc<str>>(DELTAS + 1);
    let readers: Vec<_> = (0..subscribers)
        .map(|_| {
            let mut rx = tx.subscribe();
            tokio::spawn(async move {
                let mut bytes = 0usize;
                while let Ok(piece) = rx.recv().await {
                    bytes += piece.len();
                }
                bytes
            })
        })
        .collect();
    let piece: Arc<str> = Arc::from("abcd");
    for _ in 0..DELTAS {
        let _ = tx.send(Arc::clone(&piece));
        tokio::task::yield_now().await;
    }
    drop(tx);
    for reader in readers {
        assert_eq!(reader.await.expect("reader"), DELTAS * 4);
    }
}

fn fanout(c: &mut Criterion) {
    let rt = runtime();
    let script: Vec<ScriptStep> = (0..DELTAS)
        .map(|_| ScriptStep::Text("abcd".to_owned()))
        .collect();
    let provider = Arc::new(ScriptedProvider::new("bench").with_default(script));
    let store = Arc::new(MemoryStore::new());
    let user = rt
        .block_on(store.create_user(NewUser {
            id: UserId::new(),
            email: "bench@example.com".into(),
            username: "bench".into(),
            display_name: "Bench".into(),
            password_hash: "x".into(),
            created_at: chatcore::clock::now(),
        }))
        .expect("user")
        .id;
    let config = ChatConfig {
        messages_per_minute: 0,
        flush_interval: Duration::from_secs(1),
        // Every iteration is a session's first reply: measure the fan-out,
        // not a title request after it.
        title_timeout: None,
        ..ChatConfig::default()
    };
    let chat =
        ChatService::with_config(store, provider, Arc::new(LocalEventBus::default()), config);
    let mut group = c.benchmark_group("reply_fanout");
    group.throughput(Throughput::Elements(DELTAS as u64));
    for subscribers in [1usize, 10, 100] {
        group.bench_with_input(
            BenchmarkId::new("chat_service", subscribers),
            &subscribers,
            |b, &n| b.to_async(&rt).iter(|| fan_out(&chat, user, n)),
        );
        group.bench_with_input(
            BenchmarkId::new("bare_broadcast", subscribers),
            &subscribers,
            |b, &n| b.to_async(&rt).iter(|| bare_broadcast(n)),
        );
    }
    group.finish();
}

criterion_group!(benches, jwt, password, fanout);
criterion_main!(benches);
