//! Conformance scenarios for the turn-level store methods:
//! [`Store::append_messages`] and [`Store::recent_messages`] (listed in
//! [`SCENARIOS`](super::SCENARIOS) after those of `conformance.rs`).

// Test-support code: a failed expectation must panic with a clear message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::conformance::{append, assert_not_found, list_all, message_at, micros, session, user};
use crate::clock;
use crate::domain::{MessageStatus, Role};
use crate::ids::SessionId;
use crate::store::Store;

/// A user message and its `streaming` placeholder are stored together, in
/// order, and move the session to the latest of their timestamps; a turn
/// for an unknown session is `NotFound` and stores nothing.
pub async fn append_messages_stores_a_turn_atomically(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let older = session(store, alice.id, "older").await;
    let newer = session(store, alice.id, "newer").await;
    let question = message_at(
        older.id,
        Role::User,
        "what is a monad?",
        MessageStatus::Complete,
        clock::now(),
    );
    let placeholder = message_at(
        older.id,
        Role::Assistant,
        "",
        MessageStatus::Streaming,
        clock::now(),
    );
    let stored = store
        .append_messages(vec![question.clone(), placeholder.clone()])
        .await
        .expect("append_messages");
    assert_eq!(stored, vec![question.clone(), placeholder.clone()]);
    assert_eq!(
        store.list_messages(older.id).await.expect("list"),
        vec![question, placeholder.clone()]
    );
    let sessions = list_all(store, alice.id).await;
    let moved = sessions
        .iter()
        .find(|s| s.id == older.id)
        .expect("older session listed");
    assert_eq!(moved.updated_at, placeholder.timestamp);
    assert_eq!(sessions.first().map(|s| s.id), Some(older.id));

    let ghost = SessionId::new();
    assert_not_found(
        store
            .append_messages(vec![
                message_at(
                    ghost,
                    Role::User,
                    "hello?",
                    MessageStatus::Complete,
                    micros(1_763_771_554_000_003),
                ),
                message_at(
                    ghost,
                    Role::Assistant,
                    "",
                    MessageStatus::Streaming,
                    micros(1_763_771_554_000_004),
                ),
            ])
            .await,
        "turn in unknown session",
    );
    assert!(store.list_messages(ghost).await.expect("list").is_empty());

    // A turn whose second message collides with a stored id stores neither
    // message of the turn (the SQL stores write a turn in one transaction;
    // a store without transactions must still not leave a half turn when
    // its first write already failed, which is all this asserts there).
    let first = append(store, newer.id, Role::User, "first").await;
    let before = store.list_messages(newer.id).await.expect("list");
    let mut duplicate = message_at(
        newer.id,
        Role::Assistant,
        "",
        MessageStatus::Streaming,
        micros(1_763_771_554_000_006),
    );
    duplicate.id = first.id;
    let lone = message_at(
        newer.id,
        Role::User,
        "lost?",
        MessageStatus::Complete,
        micros(1_763_771_554_000_005),
    );
    let result = store.append_messages(vec![duplicate, lone]).await;
    assert!(result.is_err(), "a duplicate id must fail the turn");
    assert_eq!(
        store.list_messages(newer.id).await.expect("list"),
        before,
        "a failed turn stores nothing"
    );
}

/// `recent_messages` returns the last `limit` messages in `(timestamp, id)`
/// order, everything when there are fewer, and nothing for an empty session.
pub async fn recent_messages_are_the_latest_in_order(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let s = session(store, alice.id, "long").await;
    assert!(store
        .recent_messages(s.id, 10)
        .await
        .expect("recent")
        .is_empty());
    let mut all = Vec::new();
    for i in 0..7 {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        all.push(append(store, s.id, role, &format!("message {i}")).await);
    }
    // Two messages with one timestamp order by id, as in list_messages.
    let tie = all[6].timestamp;
    let mut a = message_at(s.id, Role::User, "tie a", MessageStatus::Complete, tie);
    let mut b = message_at(s.id, Role::User, "tie b", MessageStatus::Complete, tie);
    if b.id < a.id {
        std::mem::swap(&mut a, &mut b);
    }
    store.append_message(b.clone()).await.expect("append b");
    store.append_message(a.clone()).await.expect("append a");
    let listed = store.list_messages(s.id).await.expect("list");
    assert_eq!(listed.len(), 9);

    let recent = store.recent_messages(s.id, 3).await.expect("recent");
    assert_eq!(recent, listed[6..].to_vec());
    assert_eq!(
        recent
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>(),
        vec!["message 6", "tie a", "tie b"]
    );
    assert_eq!(
        store.recent_messages(s.id, 100).await.expect("recent"),
        listed
    );
    assert_eq!(
        store.recent_messages(s.id, 1).await.expect("recent"),
        listed[8..].to_vec()
    );
}
