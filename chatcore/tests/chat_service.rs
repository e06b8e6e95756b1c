//! ChatService behaviour: sessions, ownership, titles, paging and the
//! server-owned reply lifecycle.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

mod support;

use chatcore::testing::{ScriptStep, ScriptedProvider};
use chatcore::{
    ChatConfig, ChatService, EventBus, LlmErrorKind, LocalEventBus, MemoryStore, MessageStatus,
    ReplyEvent, ReplyStream, Role, ServiceError, SessionId, Store, UserEvent,
};
use futures_util::StreamExt;
use support::{add_user, collect, fixture, fixture_with, words};

/// Reads deltas until at least `min` characters have arrived.
async fn read_until(events: &mut ReplyStream, min: usize) -> String {
    let mut text = String::new();
    while text.len() < min {
        match events.next().await.expect("stream ended early") {
            ReplyEvent::Delta { text: piece, .. } => text.push_str(&piece),
            other => panic!("unexpected event {other:?}"),
        }
    }
    text
}

async fn wait_until_idle(chat: &ChatService) {
    for _ in 0..500 {
        if chat.running_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("reply still running");
}

#[tokio::test]
async fn send_stores_both_messages_and_reports_the_provider() {
    let f = fixture(words("hello there world", 0)).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let sent = f.chat.send(f.user, session.id, "Hi!").await.unwrap();
    assert_eq!(sent.user_message.content, "Hi!");
    assert_eq!(sent.assistant_message.content, "hello there world");
    assert_eq!(sent.assistant_message.status, MessageStatus::Complete);
    assert_eq!(sent.provider.as_deref(), Some("scripted"));
    assert_eq!(
        sent.assistant_message.model.as_deref(),
        Some("scripted-model")
    );
    assert!(sent.assistant_message.usage.is_some());
    let stored = f.chat.get_session(f.user, session.id).await.unwrap();
    assert_eq!(
        stored.messages,
        vec![sent.user_message, sent.assistant_message]
    );
}

#[tokio::test]
async fn the_user_message_survives_when_every_provider_fails() {
    let provider = ScriptedProvider::new("down")
        .with_default(vec![ScriptStep::Fail(LlmErrorKind::Unavailable)]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let error = f
        .chat
        .send(f.user, session.id, "Are you there?")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::LlmUnavailable(_)),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 502);
    let stored = f
        .chat
        .get_session(f.user, session.id)
        .await
        .unwrap()
        .messages;
    assert_eq!(stored.len(), 2);
    assert_eq!(
        (stored[0].role, stored[0].content.as_str()),
        (Role::User, "Are you there?")
    );
    assert_eq!(stored[1].role, Role::Assistant);
    assert_eq!(stored[1].status, MessageStatus::Error);
    assert_eq!(stored[1].content, "");
    // The session is free again.
    assert_eq!(f.chat.running_count(), 0);
}

#[tokio::test]
async fn streamed_text_equals_the_stored_text() {
    let f = fixture(words("one two three four five", 1)).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let started = f
        .chat
        .start_reply(f.user, session.id, "count")
        .await
        .unwrap();
    assert_eq!(started.assistant_message.status, MessageStatus::Streaming);
    let (text, end) = collect(started.events).await;
    let ReplyEvent::Done { message, provider } = end else {
        panic!("{end:?}")
    };
    assert_eq!(text, "one two three four five");
    assert_eq!(message.content, text);
    assert_eq!(provider.as_deref(), Some("scripted"));
    let stored = f.store.list_messages(session.id).await.unwrap();
    assert_eq!(stored[1].content, text);
    assert_eq!(stored[1].status, MessageStatus::Complete);
}

#[tokio::test]
async fn a_consumer_that_drops_its_stream_does_not_stop_the_reply() {
    let f = fixture(words("alpha beta gamma delta epsilon", 5)).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let mut started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    read_until(&mut started.events, 1).await;
    drop(started);
    wait_until_idle(&f.chat).await;
    let stored = f.store.list_messages(session.id).await.unwrap();
    assert_eq!(stored[1].status, MessageStatus::Complete);
    assert_eq!(stored[1].content, "alpha beta gamma delta epsilon");
}

#[tokio::test]
async fn stop_stores_stopped_with_the_partial_text() {
    let provider = ScriptedProvider::new("slow").with_default(vec![
        ScriptStep::Text("partial ".into()),
        ScriptStep::Text("answer".into()),
        ScriptStep::Hang,
    ]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let mut started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    let seen = read_until(&mut started.events, "partial answer".len()).await;
    assert_eq!(seen, "partial answer");
    let stopped = f.chat.stop(f.user, session.id).await.unwrap();
    assert_eq!(stopped.status, MessageStatus::Stopped);
    assert_eq!(stopped.content, "partial answer");
    let (_, end) = collect(started.events).await;
    let ReplyEvent::Done { message, .. } = end else {
        panic!("{end:?}")
    };
    assert_eq!(message.status, MessageStatus::Stopped);
    let stored = f.store.list_messages(session.id).await.unwrap();
    assert_eq!(
        (stored[1].status, stored[1].content.as_str()),
        (MessageStatus::Stopped, "partial answer")
    );
    // Nothing runs any more.
    assert!(matches!(
        f.chat.stop(f.user, session.id).await,
        Err(ServiceError::NotFound(_))
    ));
}

#[tokio::test]
async fn provider_failure_after_output_stores_error_with_the_partial_text() {
    let provider = ScriptedProvider::new("flaky").with_default(vec![
        ScriptStep::Text("half an ".into()),
        ScriptStep::Text("answer".into()),
        ScriptStep::Fail(LlmErrorKind::Unavailable),
    ]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    let (text, end) = collect(started.events).await;
    assert_eq!(text, "half an answer");
    let ReplyEvent::Error {
        code,
        stored,
        message_id,
        ..
    } = end
    else {
        panic!("{end:?}")
    };
    assert_eq!(code, "llm_unavailable");
    assert_eq!(message_id, stored.id);
    assert_eq!(stored.status, MessageStatus::Error);
    let messages = f.store.list_messages(session.id).await.unwrap();
    assert_eq!(
        (messages[1].status, messages[1].content.as_str()),
        (MessageStatus::Error, "half an answer")
    );
}

#[tokio::test]
async fn a_stream_that_ends_without_finishing_is_an_error() {
    let provider = ScriptedProvider::new("cut").with_default(vec![
        ScriptStep::Text("cut off".into()),
        ScriptStep::Truncate,
    ]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    let (_, end) = collect(started.events).await;
    let ReplyEvent::Error { stored, .. } = end else {
        panic!("{end:?}")
    };
    assert_eq!(
        (stored.status, stored.content.as_str()),
        (MessageStatus::Error, "cut off")
    );
}

#[tokio::test]
async fn a_second_concurrent_reply_in_one_session_is_a_conflict() {
    let provider = ScriptedProvider::new("slow")
        .with_default(vec![ScriptStep::Text("x".into()), ScriptStep::Hang]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let _first = f.chat.start_reply(f.user, session.id, "one").await.unwrap();
    let second = f
        .chat
        .start_reply(f.user, session.id, "two")
        .await
        .unwrap_err();
    assert!(
        matches!(second, ServiceError::Conflict { .. }),
        "{second:?}"
    );
    assert!(matches!(
        f.chat.send(f.user, session.id, "three").await,
        Err(ServiceError::Conflict { .. })
    ));
    // The rejected messages were not stored.
    assert_eq!(f.store.list_messages(session.id).await.unwrap().len(), 2);
    // Another session of the same user is free.
    let other = f.chat.create_session(f.user, None).await.unwrap();
    let _ = f
        .chat
        .start_reply(f.user, other.id, "elsewhere")
        .await
        .unwrap();
    f.chat.stop(f.user, session.id).await.unwrap();
    f.chat.stop(f.user, other.id).await.unwrap();
}

#[tokio::test]
async fn reattach_receives_the_text_so_far_and_then_the_rest() {
    let provider = ScriptedProvider::new("slow").with_default(vec![
        ScriptStep::Text("first ".into()),
        ScriptStep::Text("second ".into()),
        ScriptStep::Sleep(Duration::from_millis(100)),
        ScriptStep::Text("third ".into()),
        ScriptStep::Text("fourth".into()),
    ]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let mut started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    read_until(&mut started.events, "first second ".len()).await;
    let mut attached = f
        .chat
        .attach(f.user, session.id)
        .await
        .unwrap()
        .expect("running");
    let Some(ReplyEvent::Snapshot { message }) = attached.next().await else {
        panic!("no snapshot")
    };
    assert_eq!(message.content, "first second ");
    assert_eq!(message.status, MessageStatus::Streaming);
    let mut rest = String::new();
    let end = loop {
        match attached.next().await.unwrap() {
            ReplyEvent::Delta { text, .. } => rest.push_str(&text),
            end => break end,
        }
    };
    assert_eq!(rest, "third fourth");
    let ReplyEvent::Done { message, .. } = end else {
        panic!("{end:?}")
    };
    assert_eq!(message.content, "first second third fourth");
    // After the end, nothing runs: attach answers None.
    wait_until_idle(&f.chat).await;
    assert!(f.chat.attach(f.user, session.id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_subscriber_that_never_reads_blocks_nobody() {
    let text: String = (0..2000).map(|i| format!("w{i} ")).collect();
    let f = fixture(words(text.trim_end(), 0)).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    // Two re-attached subscribers that never read, and the starter's stream, held.
    let _stuck_a = f.chat.attach(f.user, session.id).await.unwrap();
    let _stuck_b = f.chat.attach(f.user, session.id).await.unwrap();
    wait_until_idle(&f.chat).await;
    let stored = f.store.list_messages(session.id).await.unwrap();
    assert_eq!(stored[1].status, MessageStatus::Complete);
    assert_eq!(stored[1].content, text.trim_end());
    // The slow starter still receives every byte (coalesced), then Done.
    let (received, end) = collect(started.events).await;
    assert_eq!(received, text.trim_end());
    assert!(matches!(end, ReplyEvent::Done { .. }));
}

#[tokio::test(start_paused = true)]
async fn text_is_flushed_to_the_store_while_streaming() {
    let provider = ScriptedProvider::new("slow").with_default(vec![
        ScriptStep::Text("early text".into()),
        ScriptStep::Sleep(Duration::from_secs(30)),
        ScriptStep::Text(" late".into()),
    ]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let mut started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    read_until(&mut started.events, "early text".len()).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stored = f.store.list_messages(session.id).await.unwrap();
    assert_eq!(
        (stored[1].status, stored[1].content.as_str()),
        (MessageStatus::Streaming, "early text")
    );
    // get_session shows the live text as well.
    let live = f.chat.get_session(f.user, session.id).await.unwrap();
    assert_eq!(live.messages[1].content, "early text");
    let (_, end) = collect(started.events).await;
    let ReplyEvent::Done { message, .. } = end else {
        panic!("{end:?}")
    };
    assert_eq!(message.content, "early text late");
}

#[tokio::test]
async fn deleting_a_session_stops_its_reply() {
    let provider = ScriptedProvider::new("slow")
        .with_default(vec![ScriptStep::Text("some".into()), ScriptStep::Hang]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let mut started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    read_until(&mut started.events, 4).await;
    f.chat.delete_session(f.user, session.id).await.unwrap();
    assert_eq!(f.chat.running_count(), 0);
    let stored = f.store.list_messages(session.id).await.unwrap();
    assert_eq!(
        (stored[1].status, stored[1].content.as_str()),
        (MessageStatus::Stopped, "some")
    );
}

#[tokio::test]
async fn shutdown_stores_running_replies_as_interrupted() {
    let provider = ScriptedProvider::new("slow")
        .with_default(vec![ScriptStep::Text("mid".into()), ScriptStep::Hang]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let mut started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    read_until(&mut started.events, 3).await;
    f.chat.shutdown().await;
    let stored = f.store.list_messages(session.id).await.unwrap();
    assert_eq!(
        (stored[1].status, stored[1].content.as_str()),
        (MessageStatus::Interrupted, "mid")
    );
    let (_, end) = collect(started.events).await;
    assert!(
        matches!(end, ReplyEvent::Error { ref code, .. } if code == "unavailable"),
        "{end:?}"
    );
}

#[tokio::test]
async fn startup_recovery_marks_leftover_streaming_replies_interrupted() {
    let provider = ScriptedProvider::new("slow")
        .with_default(vec![ScriptStep::Text("left".into()), ScriptStep::Hang]);
    let f = fixture(provider).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let _started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    // A new process over the same store (the old one "crashed").
    let restarted = ChatService::new(f.store.clone(), f.provider.clone(), f.bus.clone());
    assert_eq!(restarted.recover().await.unwrap(), 1);
    let stored = f.store.list_messages(session.id).await.unwrap();
    assert_eq!(stored[1].status, MessageStatus::Interrupted);
    assert_eq!(restarted.recover().await.unwrap(), 0);
}

#[tokio::test]
async fn another_users_or_a_deleted_session_is_not_found_everywhere() {
    let f = fixture(words("reply", 0)).await;
    let bob = add_user(&f.store, "bob").await;
    let session = f.chat.create_session(f.user, Some("mine")).await.unwrap();
    let deleted = f.chat.create_session(f.user, None).await.unwrap();
    f.chat.delete_session(f.user, deleted.id).await.unwrap();
    let missing = SessionId::new();
    let cases = [
        (bob, session.id),
        (f.user, deleted.id),
        (f.user, missing),
        (bob, deleted.id),
    ];
    for (user, id) in cases {
        let nf = |r: Result<(), ServiceError>| {
            assert!(
                matches!(r, Err(ServiceError::NotFound(_))),
                "{user} {id}: {r:?}"
            )
        };
        nf(f.chat.get_session(user, id).await.map(|_| ()));
        nf(f.chat.rename_session(user, id, "x").await.map(|_| ()));
        nf(f.chat.delete_session(user, id).await);
        nf(f.chat.send(user, id, "hi").await.map(|_| ()));
        nf(f.chat.start_reply(user, id, "hi").await.map(|_| ()));
        nf(f.chat.attach(user, id).await.map(|_| ()));
        nf(f.chat.stop(user, id).await.map(|_| ()));
    }
    assert!(f
        .chat
        .list_sessions(bob, None, None)
        .await
        .unwrap()
        .sessions
        .is_empty());
    let mine = f
        .chat
        .list_sessions(f.user, None, None)
        .await
        .unwrap()
        .sessions;
    assert_eq!(
        mine.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![session.id]
    );
    // Nothing was written to the foreign or deleted sessions.
    assert!(f.store.list_messages(session.id).await.unwrap().is_empty());
    assert!(f.store.list_messages(deleted.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_running_reply_of_another_user_cannot_be_stopped_or_attached() {
    let provider = ScriptedProvider::new("slow")
        .with_default(vec![ScriptStep::Text("x".into()), ScriptStep::Hang]);
    let f = fixture(provider).await;
    let bob = add_user(&f.store, "bob").await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let _started = f.chat.start_reply(f.user, session.id, "go").await.unwrap();
    assert!(matches!(
        f.chat.stop(bob, session.id).await,
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        f.chat.attach(bob, session.id).await,
        Err(ServiceError::NotFound(_))
    ));
    assert_eq!(f.chat.running_count(), 1);
    f.chat.stop(f.user, session.id).await.unwrap();
}

#[tokio::test]
async fn titles_are_derived_once_and_never_replace_explicit_ones() {
    let f = fixture(words("ok", 0)).await;
    let untitled = f.chat.create_session(f.user, None).await.unwrap();
    assert_eq!(untitled.title, "New chat");
    f.chat
        .send(
            f.user,
            untitled.id,
            "  How do I bake sourdough bread at home quickly and well?",
        )
        .await
        .unwrap();
    let derived = f
        .chat
        .get_session(f.user, untitled.id)
        .await
        .unwrap()
        .session;
    assert_eq!(derived.title, "How do I bake sourdough bread at home");
    f.chat
        .send(f.user, untitled.id, "Second question")
        .await
        .unwrap();
    assert_eq!(
        f.chat
            .get_session(f.user, untitled.id)
            .await
            .unwrap()
            .session
            .title,
        derived.title
    );

    let titled = f
        .chat
        .create_session(f.user, Some("  Trip plans "))
        .await
        .unwrap();
    assert_eq!(titled.title, "Trip plans");
    f.chat
        .send(f.user, titled.id, "Where should I go?")
        .await
        .unwrap();
    assert_eq!(
        f.chat
            .get_session(f.user, titled.id)
            .await
            .unwrap()
            .session
            .title,
        "Trip plans"
    );

    let renamed = f.chat.create_session(f.user, None).await.unwrap();
    f.chat
        .rename_session(f.user, renamed.id, "Renamed")
        .await
        .unwrap();
    f.chat
        .send(f.user, renamed.id, "first words here")
        .await
        .unwrap();
    assert_eq!(
        f.chat
            .get_session(f.user, renamed.id)
            .await
            .unwrap()
            .session
            .title,
        "Renamed"
    );
}

#[tokio::test]
async fn invalid_input_is_rejected_before_anything_is_stored() {
    let f = fixture(words("ok", 0)).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    for content in ["", "   \n", "nul\0byte"] {
        let error = f.chat.send(f.user, session.id, content).await.unwrap_err();
        assert_eq!(error.code(), "validation_error", "{content:?}");
        assert!(error.fields().unwrap().contains_key("content"));
    }
    let long = "a".repeat(32_001);
    assert_eq!(
        f.chat
            .send(f.user, session.id, &long)
            .await
            .unwrap_err()
            .code(),
        "validation_error"
    );
    assert!(f.store.list_messages(session.id).await.unwrap().is_empty());
    assert_eq!(f.provider.calls(), 0);
    for title in ["", "   ", &"t".repeat(201)] {
        assert_eq!(
            f.chat
                .create_session(f.user, Some(title))
                .await
                .unwrap_err()
                .code(),
            "validation_error"
        );
        assert_eq!(
            f.chat
                .rename_session(f.user, session.id, title)
                .await
                .unwrap_err()
                .code(),
            "validation_error"
        );
    }
}

#[tokio::test]
async fn sessions_page_newest_first_with_a_cursor() {
    let f = fixture(words("ok", 0)).await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            f.chat
                .create_session(f.user, Some(&format!("s{i}")))
                .await
                .unwrap(),
        );
    }
    // A message moves the oldest session to the top.
    f.chat.send(f.user, created[0].id, "bump").await.unwrap();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = f
            .chat
            .list_sessions(f.user, Some(3), cursor.as_deref())
            .await
            .unwrap();
        assert!(page.sessions.len() <= 3);
        seen.extend(page.sessions.iter().map(|s| s.title.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, vec!["s0", "s6", "s5", "s4", "s3", "s2", "s1"]);
    for bad in [0, 201, -1] {
        assert_eq!(
            f.chat
                .list_sessions(f.user, Some(bad), None)
                .await
                .unwrap_err()
                .code(),
            "validation_error"
        );
    }
    assert_eq!(
        f.chat
            .list_sessions(f.user, None, Some("garbage!"))
            .await
            .unwrap_err()
            .code(),
        "validation_error"
    );
}

#[tokio::test(start_paused = true)]
async fn the_message_limit_counts_accepted_messages_only() {
    let config = ChatConfig {
        messages_per_minute: 2,
        ..ChatConfig::default()
    };
    let f = fixture_with(words("ok", 0), config).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    assert!(f.chat.send(f.user, session.id, "").await.is_err()); // rejected: not counted
    f.chat.send(f.user, session.id, "one").await.unwrap();
    f.chat.send(f.user, session.id, "two").await.unwrap();
    let error = f.chat.send(f.user, session.id, "three").await.unwrap_err();
    let ServiceError::RateLimited { retry_after } = error else {
        panic!("{error:?}")
    };
    assert!(retry_after <= Duration::from_secs(60) && retry_after > Duration::from_secs(50));
    tokio::time::advance(Duration::from_secs(61)).await;
    f.chat.send(f.user, session.id, "four").await.unwrap();
}

#[tokio::test]
async fn history_is_sent_to_the_provider_in_order() {
    let f = fixture(words("reply", 0)).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    f.chat.send(f.user, session.id, "first").await.unwrap();
    f.chat.send(f.user, session.id, "second").await.unwrap();
    let requests = f.provider.requests();
    let last = requests.last().unwrap();
    let turns: Vec<(Role, &str)> = last
        .messages
        .iter()
        .map(|m| (m.role, m.content.as_str()))
        .collect();
    assert_eq!(
        turns,
        vec![
            (Role::User, "first"),
            (Role::Assistant, "reply"),
            (Role::User, "second")
        ]
    );
}

#[tokio::test]
async fn changes_are_published_to_the_users_subscribers() {
    let f = fixture(words("hey", 0)).await;
    let mut events = f.bus.subscribe(f.user).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    f.chat.send(f.user, session.id, "hello").await.unwrap();
    f.chat.delete_session(f.user, session.id).await.unwrap();
    let mut kinds = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(50), events.next()).await
    {
        kinds.push(match event {
            UserEvent::Message { message } => {
                format!("message:{}:{}", message.role, message.status)
            }
            UserEvent::SessionUpdated { session } => format!("session:{}", session.title),
            UserEvent::SessionDeleted { .. } => "deleted".to_owned(),
            _ => "other".to_owned(),
        });
    }
    assert_eq!(
        kinds,
        vec![
            "session:New chat",
            "message:user:complete",
            "session:hello",
            "message:assistant:streaming",
            "message:assistant:complete",
            "deleted",
        ]
    );
}

/// A provider whose stream panics after its first delta.
struct Panicky;

#[chatcore::async_trait]
impl chatcore::LlmProvider for Panicky {
    fn name(&self) -> &str {
        "panicky"
    }
    fn model(&self) -> &str {
        "p"
    }
    async fn stream(
        &self,
        _: chatcore::LlmRequest,
    ) -> Result<chatcore::LlmStream, chatcore::LlmError> {
        let mut sent = false;
        Ok(Box::pin(futures_util::stream::poll_fn(move |_| {
            if sent {
                panic!("provider bug");
            }
            sent = true;
            std::task::Poll::Ready(Some(Ok(chatcore::LlmEvent::Delta("before the bug".into()))))
        })))
    }
}

#[tokio::test]
async fn a_panicking_provider_ends_the_reply_as_an_error_and_frees_the_session() {
    let store = Arc::new(MemoryStore::new());
    let user = add_user(&store, "alice").await;
    let chat = ChatService::new(
        store.clone(),
        Arc::new(Panicky),
        Arc::new(LocalEventBus::default()),
    );
    let session = chat.create_session(user, None).await.unwrap();
    let started = chat.start_reply(user, session.id, "go").await.unwrap();
    let (text, end) = collect(started.events).await;
    assert_eq!(text, "before the bug");
    assert!(matches!(end, ReplyEvent::Error { .. }), "{end:?}");
    let stored = store.list_messages(session.id).await.unwrap();
    assert_eq!(
        (stored[1].status, stored[1].content.as_str()),
        (MessageStatus::Error, "before the bug")
    );
    wait_until_idle(&chat).await;
    assert!(chat.start_reply(user, session.id, "again").await.is_ok());
}
