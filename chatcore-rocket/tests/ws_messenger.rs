//! API.md Part 2 on `/ws`: `conversation_send`, `typing`, and the
//! `conversation_message`, `conversation_updated`, `read` and `typing`
//! frames, driven from outside (REST with reqwest, sockets with
//! tokio-tungstenite) against the full application.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::messenger::Member;
use common::{Db, Options, TestServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);

async fn messenger_server(db: Db) -> Option<TestServer> {
    TestServer::try_with(Options::on(db)).await
}

async fn signed_in(server: &TestServer, token: &str) -> Socket {
    let url = format!("{}/ws", server.url.replacen("http", "ws", 1));
    let mut ws = connect_async(url).await.unwrap().0;
    send(&mut ws, json!({"type": "auth", "token": token})).await;
    let ready = recv(&mut ws).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    ws
}

async fn send(ws: &mut Socket, frame: Value) {
    ws.send(Message::Text(frame.to_string())).await.unwrap();
}

/// The next JSON frame, skipping WebSocket pings and pongs.
async fn recv(ws: &mut Socket) -> Value {
    loop {
        let message = timeout(WAIT, ws.next())
            .await
            .expect("no frame in time")
            .expect("socket ended")
            .expect("socket failed");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Every JSON frame received within `period`.
async fn frames_within(ws: &mut Socket, period: Duration) -> Vec<Value> {
    let mut frames = Vec::new();
    let deadline = Instant::now() + period;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(text) = message {
            frames.push(serde_json::from_str(&text).unwrap());
        }
    }
    frames
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

/// A direct conversation of `a` and `b`, created by `a` through REST;
/// both sockets have read its `conversation_updated`.
async fn direct(
    server: &TestServer,
    a: &Member,
    b: &Member,
    sockets: &mut [&mut Socket],
) -> String {
    let (status, conversation) = server
        .conversation(&a.token, json!({"member_ids": [b.id]}))
        .await;
    assert_eq!(status, 201);
    for ws in sockets.iter_mut() {
        let frame = recv(ws).await;
        assert_eq!(frame["type"], "conversation_updated", "{frame}");
        assert_eq!(frame["conversation"]["id"], conversation["id"]);
    }
    id_of(&conversation)
}

async fn conversation_send_reaches_every_member_and_answers_its_sender_once(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", Some("Alice")).await;
    let bob = server.member("bob", None).await;
    let mut a = signed_in(&server, &alice.token).await;
    let mut a2 = signed_in(&server, &alice.token).await;
    let mut b = signed_in(&server, &bob.token).await;

    // Created: every member's sockets, each seeing its own view.
    let (status, created) = server
        .conversation(
            &alice.token,
            json!({"member_ids": [bob.id], "title": "Lunch"}),
        )
        .await;
    assert_eq!(status, 201);
    let id = id_of(&created);
    for ws in [&mut a, &mut a2, &mut b] {
        assert_eq!(
            recv(ws).await,
            json!({"type": "conversation_updated", "conversation": created})
        );
    }

    send(
        &mut a,
        json!({"type": "conversation_send", "request_id": "r1", "conversation_id": id,
               "text": "hello", "client_id": "k1"}),
    )
    .await;
    let mine = recv(&mut a).await;
    assert_eq!(mine["type"], "conversation_message", "{mine}");
    assert_eq!(mine["request_id"], "r1");
    let message = mine["message"].clone();
    assert_eq!(message["seq"], 1);
    assert_eq!(message["text"], "hello");
    assert_eq!(message["sender_id"], alice.id.as_str());
    for ws in [&mut a2, &mut b] {
        assert_eq!(
            recv(ws).await,
            json!({"type": "conversation_message", "message": message})
        );
    }
    // The same as REST reads it.
    let stored = server
        .get_json(&format!("/conversations/{id}/messages"), &bob.token)
        .await;
    assert_eq!(stored, json!([message]));

    // An idempotent repeat: answered (directly) on the sender's socket only.
    send(
        &mut a,
        json!({"type": "conversation_send", "request_id": 2, "conversation_id": id,
               "text": "hello?", "client_id": "k1"}),
    )
    .await;
    assert_eq!(
        recv(&mut a).await,
        json!({"type": "conversation_message", "request_id": 2, "message": message})
    );

    // A REST send reaches every socket, the sender's included, plain.
    let (status, rest) = server
        .say(&bob.token, &id, json!({"text": "hi alice"}))
        .await;
    assert_eq!(status, 201);
    for ws in [&mut a, &mut a2, &mut b] {
        assert_eq!(
            recv(ws).await,
            json!({"type": "conversation_message", "message": rest})
        );
    }
    // Nothing more anywhere: each message came once.
    for ws in [&mut a, &mut a2, &mut b] {
        let extra = frames_within(ws, Duration::from_millis(300)).await;
        assert!(extra.is_empty(), "{extra:?}");
    }
}

async fn conversation_send_errors_carry_the_request_id(db: Db) {
    let Some(server) = TestServer::try_with(Options {
        conversation_messages_per_minute: 1,
        ..Options::on(db)
    })
    .await
    else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let carol = server.member("carol", None).await;
    let mut a = signed_in(&server, &alice.token).await;
    let id = direct(&server, &alice, &bob, &mut [&mut a]).await;
    let (_, other) = server
        .conversation(&bob.token, json!({"member_ids": [carol.id]}))
        .await;
    let not_mine = id_of(&other);

    let cases = [
        (
            json!({"conversation_id": not_mine, "text": "hi"}),
            "not_found",
        ),
        (
            json!({"conversation_id": uuid::Uuid::now_v7(), "text": "hi"}),
            "not_found",
        ),
        (json!({"conversation_id": id}), "validation_error"),
        (
            json!({"conversation_id": id, "text": " "}),
            "validation_error",
        ),
        (
            json!({"conversation_id": id, "text": "x", "image_id": uuid::Uuid::now_v7()}),
            "validation_error",
        ),
        (
            json!({"conversation_id": "nope", "text": "hi"}),
            "validation_error",
        ),
        (json!({"text": "hi"}), "validation_error"),
    ];
    for (i, (mut frame, code)) in cases.into_iter().enumerate() {
        frame["type"] = json!("conversation_send");
        frame["request_id"] = json!(format!("e{i}"));
        send(&mut a, frame.clone()).await;
        let error = recv(&mut a).await;
        assert_eq!(error["type"], "error", "{frame}: {error}");
        assert_eq!(error["code"], code, "{frame}: {error}");
        assert_eq!(error["request_id"], format!("e{i}"), "{error}");
    }
    send(&mut a, json!({"type": "conversation_send", "request_id": "ok", "conversation_id": id, "text": "one"})).await;
    let ok = recv(&mut a).await;
    assert_eq!(
        (ok["type"].as_str(), ok["request_id"].as_str()),
        (Some("conversation_message"), Some("ok"))
    );
    send(&mut a, json!({"type": "conversation_send", "request_id": "over", "conversation_id": id, "text": "two"})).await;
    let limited = recv(&mut a).await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    assert_eq!(limited["request_id"], "over");
    assert!(limited["retry_after"].as_u64().unwrap() >= 1, "{limited}");
}

async fn typing_is_relayed_to_the_others_and_throttled(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let carol = server.member("carol", None).await;
    let mut a = signed_in(&server, &alice.token).await;
    let mut b = signed_in(&server, &bob.token).await;
    let id = direct(&server, &alice, &bob, &mut [&mut a, &mut b]).await;

    send(&mut a, json!({"type": "typing", "conversation_id": id})).await;
    assert_eq!(
        recv(&mut b).await,
        json!({"type": "typing", "conversation_id": id, "user_id": alice.id})
    );
    // Within 2 s: dropped. Never echoed to the typist.
    send(&mut a, json!({"type": "typing", "conversation_id": id})).await;
    send(&mut a, json!({"type": "typing", "conversation_id": id})).await;
    assert!(frames_within(&mut b, Duration::from_millis(800))
        .await
        .is_empty());
    assert!(frames_within(&mut a, Duration::from_millis(100))
        .await
        .is_empty());
    // After the interval, relayed again.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    send(&mut a, json!({"type": "typing", "conversation_id": id})).await;
    assert_eq!(recv(&mut b).await["type"], "typing");

    // Not a member: not_found (with the request id).
    let mut c = signed_in(&server, &carol.token).await;
    send(
        &mut c,
        json!({"type": "typing", "request_id": "t", "conversation_id": id}),
    )
    .await;
    let error = recv(&mut c).await;
    assert_eq!(
        (error["type"].as_str(), error["code"].as_str()),
        (Some("error"), Some("not_found"))
    );
    assert_eq!(error["request_id"], "t");
    send(&mut c, json!({"type": "typing"})).await;
    assert_eq!(recv(&mut c).await["code"], "validation_error");
    assert!(frames_within(&mut b, Duration::from_millis(200))
        .await
        .is_empty());
}

async fn reads_renames_and_members_reach_the_sockets(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let carol = server.member("carol", None).await;
    let mut a = signed_in(&server, &alice.token).await;
    let mut b = signed_in(&server, &bob.token).await;
    let mut c = signed_in(&server, &carol.token).await;
    let (_, group) = server
        .conversation(&alice.token, json!({"member_ids": [bob.id], "title": "G"}))
        .await;
    let id = id_of(&group);
    for ws in [&mut a, &mut b] {
        assert_eq!(recv(ws).await["type"], "conversation_updated");
    }
    for text in ["one", "two"] {
        server.say(&alice.token, &id, json!({"text": text})).await;
        for ws in [&mut a, &mut b] {
            assert_eq!(recv(ws).await["type"], "conversation_message");
        }
    }

    let response = server
        .post(
            &format!("/conversations/{id}/read"),
            Some(&bob.token),
            &json!({"seq": 5}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 204);
    for ws in [&mut a, &mut b] {
        assert_eq!(
            recv(ws).await,
            json!({"type": "read", "conversation_id": id, "user_id": bob.id, "seq": 2})
        );
    }
    // Not moved: nothing sent.
    server
        .post(
            &format!("/conversations/{id}/read"),
            Some(&bob.token),
            &json!({"seq": 1}),
        )
        .await;
    assert!(frames_within(&mut a, Duration::from_millis(300))
        .await
        .is_empty());

    // Each member sees the update as themselves (their own unread count).
    let response = server
        .request(
            reqwest::Method::PATCH,
            &format!("/conversations/{id}"),
            Some(&alice.token),
        )
        .json(&json!({"title": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let for_alice = recv(&mut a).await;
    let for_bob = recv(&mut b).await;
    assert_eq!(for_alice["conversation"]["title"], "Renamed");
    assert_eq!(for_bob["conversation"]["title"], "Renamed");
    assert_eq!(for_alice["conversation"]["last_read_seq"], 0);
    assert_eq!(for_bob["conversation"]["last_read_seq"], 2);
    assert!(
        frames_within(&mut c, Duration::from_millis(200))
            .await
            .is_empty(),
        "carol is no member"
    );

    // A new member hears of it; one who leaves hears nothing more of it.
    server
        .post(
            &format!("/conversations/{id}/members"),
            Some(&alice.token),
            &json!({"user_ids": [carol.id]}),
        )
        .await;
    for ws in [&mut a, &mut b, &mut c] {
        let frame = recv(ws).await;
        assert_eq!(frame["type"], "conversation_updated", "{frame}");
        assert_eq!(
            frame["conversation"]["members"].as_array().unwrap().len(),
            3
        );
    }
    let response = server
        .request(
            reqwest::Method::DELETE,
            &format!("/conversations/{id}/members/me"),
            Some(&bob.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    for ws in [&mut a, &mut c] {
        let frame = recv(ws).await;
        assert_eq!(
            frame["conversation"]["members"].as_array().unwrap().len(),
            2
        );
    }
    server
        .say(&alice.token, &id, json!({"text": "without bob"}))
        .await;
    assert_eq!(recv(&mut c).await["type"], "conversation_message");
    assert!(
        frames_within(&mut b, Duration::from_millis(300))
            .await
            .is_empty(),
        "bob left"
    );
}

async fn a_reconnecting_client_gets_exactly_what_it_missed(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let mut a = signed_in(&server, &alice.token).await;
    let id = direct(&server, &alice, &bob, &mut [&mut a]).await;
    let mut last_seq = 0;
    for n in 1..=3 {
        server
            .say(&bob.token, &id, json!({"text": format!("m{n}")}))
            .await;
        let frame = recv(&mut a).await;
        last_seq = frame["message"]["seq"].as_u64().unwrap();
    }
    assert_eq!(last_seq, 3);
    drop(a);
    for n in 4..=6 {
        server
            .say(&bob.token, &id, json!({"text": format!("m{n}")}))
            .await;
    }
    let mut a = signed_in(&server, &alice.token).await;
    let missed = server
        .get_json(
            &format!("/conversations/{id}/messages?after={last_seq}"),
            &alice.token,
        )
        .await;
    let texts: Vec<&str> = missed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["m4", "m5", "m6"]);
    // And live again from there.
    server.say(&bob.token, &id, json!({"text": "m7"})).await;
    assert_eq!(recv(&mut a).await["message"]["seq"], 7);
}

async fn one_conversation_arrives_in_ascending_seq_each_once(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let mut a = signed_in(&server, &alice.token).await;
    let id = direct(&server, &alice, &bob, &mut [&mut a]).await;
    const EACH: u64 = 25;

    // Bob writes over REST while Alice writes over her socket.
    let rest = {
        let http = server.http.clone();
        let url = format!("{}/conversations/{id}/messages", server.url);
        let token = bob.token.clone();
        tokio::spawn(async move {
            for n in 0..EACH {
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"text": format!("bob {n}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 201);
            }
        })
    };
    for n in 0..EACH {
        send(
            &mut a,
            json!({"type": "conversation_send", "request_id": n, "conversation_id": id,
                   "text": format!("alice {n}")}),
        )
        .await;
    }
    let mut seqs = Vec::new();
    let mut answered = Vec::new();
    while seqs.len() < (2 * EACH) as usize {
        let frame = recv(&mut a).await;
        assert_eq!(frame["type"], "conversation_message", "{frame}");
        seqs.push(frame["message"]["seq"].as_u64().unwrap());
        let text = frame["message"]["text"].as_str().unwrap();
        match frame.get("request_id") {
            Some(request_id) => {
                assert_eq!(text, format!("alice {request_id}"), "{frame}");
                answered.push(request_id.as_u64().unwrap());
            }
            None => assert!(text.starts_with("bob "), "{frame}"),
        }
    }
    rest.await.unwrap();
    assert_eq!(
        seqs,
        (1..=2 * EACH).collect::<Vec<_>>(),
        "ascending, each once"
    );
    assert_eq!(
        answered,
        (0..EACH).collect::<Vec<_>>(),
        "every send answered once"
    );
    assert!(frames_within(&mut a, Duration::from_millis(300))
        .await
        .is_empty());
}

on_every_store!(
    conversation_send_reaches_every_member_and_answers_its_sender_once,
    conversation_send_errors_carry_the_request_id,
    typing_is_relayed_to_the_others_and_throttled,
    reads_renames_and_members_reach_the_sockets,
    a_reconnecting_client_gets_exactly_what_it_missed,
    one_conversation_arrives_in_ascending_seq_each_once,
);
