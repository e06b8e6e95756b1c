//! `send`, `stop` and `subscribe`: the frames of a followed reply.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_streams_the_messages_the_deltas_and_done() {
    let server = start(Setup::default()).await;
    let alice = server.user("alice").await;
    let session = server.session(&alice).await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    send(
        &mut ws,
        json!({"type": "send", "request_id": "r1", "session_id": session, "content": "hello"}),
    )
    .await;

    let user_message = recv_reply_frame(&mut ws).await;
    assert_eq!(user_message["type"], "message");
    assert_eq!(user_message["request_id"], "r1");
    assert_eq!(user_message["message"]["role"], "user");
    assert_eq!(user_message["message"]["content"], "hello");
    assert_eq!(user_message["message"]["session_id"], json!(session));
    let assistant = recv_reply_frame(&mut ws).await;
    assert_eq!(assistant["type"], "message");
    assert_eq!(assistant["request_id"], "r1");
    assert_eq!(assistant["message"]["role"], "assistant");
    assert_eq!(assistant["message"]["status"], "streaming");
    let assistant_id = assistant["message"]["id"].clone();

    let (frames, done) = read_reply(&mut ws).await;
    assert!(!frames.is_empty());
    for delta in &frames {
        assert_eq!(delta["type"], "delta", "{delta}");
        assert_eq!(delta["request_id"], "r1");
        assert_eq!(delta["session_id"], json!(session));
        assert_eq!(delta["message_id"], assistant_id);
    }
    assert_eq!(done["type"], "done", "{done}");
    assert_eq!(done["request_id"], "r1");
    assert_eq!(done["session_id"], json!(session));
    assert_eq!(done["provider"], "scripted");
    assert_eq!(done["message"]["id"], assistant_id);
    assert_eq!(done["message"]["status"], "complete");
    let text = delta_text(&frames);
    assert_eq!(text, "the quick brown fox");
    assert_eq!(done["message"]["content"], json!(text));
    let stored = server.stored_reply(&alice, session).await;
    assert_eq!(stored.content, text);
    assert_eq!(
        serde_json::to_value(crate::dto::MessageDto::from(&stored)).unwrap(),
        done["message"]
    );

    // The no-duplicate rule: the bus copies of these messages never reach the sender.
    let later = frames_within(&mut ws, ms(300)).await;
    assert!(
        later.iter().all(|f| f["type"] != "message"),
        "duplicate message frames: {later:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_mid_reply_ends_with_done_stopped() {
    let provider = ScriptedProvider::new("scripted").with_default(vec![
        ScriptStep::Text("partial".to_owned()),
        ScriptStep::Hang,
    ]);
    let server = start(Setup {
        provider,
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let session = server.session(&alice).await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    send(
        &mut ws,
        json!({"type": "send", "request_id": 1, "session_id": session, "content": "go"}),
    )
    .await;
    let mut seen = String::new();
    while seen != "partial" {
        let frame = recv_reply_frame(&mut ws).await;
        if frame["type"] == "delta" {
            seen.push_str(frame["text"].as_str().unwrap());
        }
    }
    send(&mut ws, json!({"type": "stop", "session_id": session})).await;
    let (rest, done) = read_reply(&mut ws).await;
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(done["type"], "done", "{done}");
    assert_eq!(done["request_id"], 1);
    assert_eq!(done["message"]["status"], "stopped");
    assert_eq!(done["message"]["content"], "partial");
    let stored = server.stored_reply(&alice, session).await;
    assert_eq!(stored.status, chatcore::MessageStatus::Stopped);
    assert_eq!(stored.content, "partial");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_subscribe_with_nothing_running_get_not_found() {
    let server = start(Setup::default()).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let session = server.session(&alice).await;
    let bobs = server.session(&bob).await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    for target in [session, bobs, SessionId::new()] {
        for kind in ["stop", "subscribe"] {
            send(
                &mut ws,
                json!({"type": kind, "session_id": target, "request_id": kind}),
            )
            .await;
            let error = recv(&mut ws).await;
            assert_eq!(error["type"], "error");
            assert_eq!(error["code"], "not_found", "{kind}: {error}");
            assert_eq!(error["request_id"], kind);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_errors_are_error_frames_with_the_rest_codes() {
    let provider = ScriptedProvider::new("scripted")
        .with_default(vec![ScriptStep::Text("a".to_owned()), ScriptStep::Hang]);
    let server = start(Setup {
        provider,
        chat: ChatConfig {
            messages_per_minute: 2,
            ..ChatConfig::default()
        },
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let session = server.session(&alice).await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    let send_frame = |id: &str, content: &str| json!({"type": "send", "request_id": id, "session_id": session, "content": content});

    send(&mut ws, send_frame("empty", "   ")).await;
    let error = recv(&mut ws).await;
    assert_eq!(error["code"], "validation_error", "{error}");
    assert_eq!(error["request_id"], "empty");

    send(
        &mut ws,
        json!({"type": "send", "request_id": "nf", "session_id": SessionId::new(), "content": "hi"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["code"], "not_found");

    send(&mut ws, send_frame("first", "one")).await;
    assert_eq!(recv_reply_frame(&mut ws).await["request_id"], "first");
    send(&mut ws, send_frame("busy", "two")).await;
    let conflict = loop {
        let frame = recv_reply_frame(&mut ws).await;
        if frame["type"] == "error" {
            break frame;
        }
    };
    assert_eq!(conflict["code"], "conflict", "{conflict}");
    assert_eq!(conflict["request_id"], "busy");
    send(&mut ws, json!({"type": "stop", "session_id": session})).await;
    let (_, done) = read_reply(&mut ws).await;
    assert_eq!(done["request_id"], "first");

    send(&mut ws, send_frame("second", "three")).await;
    assert_eq!(recv_reply_frame(&mut ws).await["request_id"], "second");
    send(&mut ws, json!({"type": "stop", "session_id": session})).await;
    let (_, done) = read_reply(&mut ws).await;
    assert_eq!(done["request_id"], "second");

    send(&mut ws, send_frame("limited", "four")).await;
    let limited = recv_reply_frame(&mut ws).await;
    assert_eq!(limited["type"], "error");
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    assert_eq!(limited["request_id"], "limited");
    assert!(limited["retry_after"].as_u64().is_some_and(|s| s >= 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_fails_after_output_sends_the_stored_message_then_error() {
    let provider = ScriptedProvider::new("scripted").with_default(vec![
        ScriptStep::Text("half".to_owned()),
        ScriptStep::Sleep(ms(50)),
        ScriptStep::Fail(LlmErrorKind::Unavailable),
    ]);
    let server = start(Setup {
        provider,
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let session = server.session(&alice).await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    send(
        &mut ws,
        json!({"type": "send", "request_id": "f", "session_id": session, "content": "hi"}),
    )
    .await;
    let (frames, error) = read_reply(&mut ws).await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["code"], "llm_unavailable");
    assert_eq!(error["request_id"], "f");
    assert_eq!(error["session_id"], json!(session));
    let stored = frames.last().unwrap();
    assert_eq!(stored["type"], "message");
    assert_eq!(stored["message"]["status"], "error");
    assert_eq!(stored["message"]["content"], "half");
    assert_eq!(error["message_id"], stored["message"]["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_socket_subscribes_mid_reply() {
    let server = start(Setup {
        provider: ScriptedProvider::words("scripted", "one two three four five six seven", ms(60)),
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let session = server.session(&alice).await;
    let (mut a, _) = server.signed_in(&alice.token.token).await;
    send(
        &mut a,
        json!({"type": "send", "session_id": session, "content": "count"}),
    )
    .await;
    loop {
        if recv_reply_frame(&mut a).await["type"] == "delta" {
            break;
        }
    }

    let (mut b, _) = server.signed_in(&alice.token.token).await;
    send(
        &mut b,
        json!({"type": "subscribe", "session_id": session, "request_id": "s"}),
    )
    .await;
    let snapshot = recv_reply_frame(&mut b).await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    assert_eq!(snapshot["session_id"], json!(session));
    assert_eq!(snapshot["request_id"], "s");
    assert_eq!(snapshot["message"]["status"], "streaming");
    let so_far = snapshot["message"]["content"].as_str().unwrap().to_owned();
    assert!(so_far.starts_with("one"), "{so_far}");
    let (frames, done) = read_reply(&mut b).await;
    assert_eq!(done["type"], "done", "{done}");
    assert_eq!(done["request_id"], "s");
    assert!(frames.iter().all(|f| f["type"] == "delta"), "{frames:?}");
    assert!(!frames.is_empty(), "no delta after the snapshot");
    let text = format!("{so_far}{}", delta_text(&frames));
    assert_eq!(text, "one two three four five six seven");
    assert_eq!(done["message"]["content"], json!(text));
    assert_eq!(server.stored_reply(&alice, session).await.content, text);
    let later = frames_within(&mut b, ms(300)).await;
    assert!(later.iter().all(|f| f["type"] != "message"), "{later:?}");

    let (_, a_done) = read_reply(&mut a).await;
    assert_eq!(a_done["message"], done["message"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_survives_its_sender_disconnecting() {
    let server = start(Setup {
        provider: ScriptedProvider::words("scripted", "still here after you left", ms(40)),
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let session = server.session(&alice).await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    send(
        &mut ws,
        json!({"type": "send", "session_id": session, "content": "hi"}),
    )
    .await;
    assert_eq!(recv_reply_frame(&mut ws).await["type"], "message");
    ws.close(None).await.unwrap();
    drop(ws);
    let deadline = Instant::now() + WAIT;
    loop {
        let stored = server.stored_reply(&alice, session).await;
        if stored.status.is_final() {
            assert_eq!(stored.status, chatcore::MessageStatus::Complete);
            assert_eq!(stored.content, "still here after you left");
            break;
        }
        assert!(Instant::now() < deadline, "the reply never finished");
        tokio::time::sleep(ms(50)).await;
    }
    assert_eq!(server.state.chat.running_count(), 0);
}
