//! SQLite group commit: many concurrent reply-path writes are committed in
//! batches, and a write refused by a constraint (duplicate id, unknown
//! session) fails alone without undoing the others of its batch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chatcore::{
    ChatMessage, ChatSession, ConflictKind, MessageId, MessageStatus, MessageUpdate, NewUser, Role,
    SessionId, Store, StoreError, UserId,
};
use chatcore_sqlx::SqliteStore;

fn message(session_id: SessionId, text: &str) -> ChatMessage {
    ChatMessage {
        id: MessageId::new(),
        session_id,
        role: Role::User,
        content: text.to_owned(),
        status: MessageStatus::Complete,
        provider: None,
        model: None,
        usage: None,
        timestamp: chatcore::clock::now(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refused_writes_fail_alone_within_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("chat.db").display());
    let store = Arc::new(SqliteStore::connect(&url).await.unwrap());
    let user = store
        .create_user(NewUser {
            id: UserId::new(),
            email: "gc@example.com".to_owned(),
            username: "gc".to_owned(),
            display_name: "gc".to_owned(),
            password_hash: "x".to_owned(),
            created_at: chatcore::clock::now(),
        })
        .await
        .unwrap();
    let now = chatcore::clock::now();
    let session = store
        .create_session(ChatSession {
            id: SessionId::new(),
            user_id: user.id,
            title: "t".to_owned(),
            title_explicit: false,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let taken = store
        .append_message(message(session.id, "first"))
        .await
        .unwrap();

    // 300 writes at once: good appends, duplicates of a stored id, appends
    // to a session that does not exist, and updates of unknown messages.
    let mut tasks = Vec::new();
    for i in 0..300 {
        let store = Arc::clone(&store);
        let (session_id, taken_id) = (session.id, taken.id);
        tasks.push(tokio::spawn(async move {
            match i % 4 {
                0 | 1 => store
                    .append_messages(vec![message(session_id, &format!("ok {i}"))])
                    .await
                    .map(|_| "ok"),
                2 if i % 8 == 2 => {
                    let mut duplicate = message(session_id, "dup");
                    duplicate.id = taken_id;
                    store.append_messages(vec![duplicate]).await.map(|_| "ok")
                }
                2 => store
                    .append_messages(vec![message(SessionId::new(), "ghost")])
                    .await
                    .map(|_| "ok"),
                _ => store
                    .update_message(
                        MessageId::new(),
                        MessageUpdate {
                            content: "x".to_owned(),
                            status: MessageStatus::Complete,
                            provider: None,
                            model: None,
                            usage: None,
                        },
                    )
                    .await
                    .map(|_| "ok"),
            }
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    let mut not_found = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict(ConflictKind::Id)) => conflicts += 1,
            Err(StoreError::NotFound) => not_found += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((ok, conflicts, not_found), (150, 38, 112));
    let stored = store.list_messages(session.id).await.unwrap();
    assert_eq!(stored.len(), 151, "the first message and every good append");
    assert!(stored
        .iter()
        .all(|m| m.content == "first" || m.content.starts_with("ok ")));
}
