//! `/ws` in the full application ([`chatcore_rocket::Chatcore`] over a SQLite
//! store), driven from outside: REST calls with reqwest, sockets with
//! tokio-tungstenite. The protocol details are unit-tested in `src/ws/tests.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Options, TestServer};
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);

async fn connect(server: &TestServer) -> Socket {
    let url = format!("{}/ws", server.url.replacen("http", "ws", 1));
    connect_async(url).await.unwrap().0
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

async fn close_code(ws: &mut Socket) -> u16 {
    loop {
        match timeout(WAIT, ws.next()).await.expect("not closed in time") {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

async fn signed_in(server: &TestServer, token: &str) -> Socket {
    let mut ws = connect(server).await;
    send(&mut ws, json!({"type": "auth", "token": token})).await;
    let ready = recv(&mut ws).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    ws
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_changes_reach_every_socket_of_the_user() {
    let server = TestServer::start().await;
    let token = server.register("alice").await;
    let other = server.register("bob").await;
    let mut a = signed_in(&server, &token).await;
    let mut b = signed_in(&server, &token).await;
    let mut bobs = signed_in(&server, &other).await;

    let created = json_of(
        server
            .post("/chat/sessions", Some(&token), &json!({}))
            .await,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    for ws in [&mut a, &mut b] {
        assert_eq!(
            recv(ws).await,
            json!({"type": "session_updated", "session": created})
        );
    }

    let renamed = server
        .request(Method::PATCH, &format!("/chat/sessions/{id}"), Some(&token))
        .json(&json!({"title": "Plans"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed = json_of(renamed).await;
    for ws in [&mut a, &mut b] {
        assert_eq!(
            recv(ws).await,
            json!({"type": "session_updated", "session": renamed})
        );
    }

    let sent = server
        .post(
            "/chat/send",
            Some(&token),
            &json!({"session_id": id, "content": "hi"}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let sent = json_of(sent).await;
    for ws in [&mut a, &mut b] {
        let user = recv(ws).await;
        assert_eq!(
            user,
            json!({"type": "message", "message": sent["user_message"]})
        );
        let streaming = recv(ws).await;
        assert_eq!(streaming["message"]["id"], sent["assistant_message"]["id"]);
        assert_eq!(streaming["message"]["status"], "streaming");
        let last = recv(ws).await;
        assert_eq!(
            last,
            json!({"type": "message", "message": sent["assistant_message"]})
        );
    }

    let deleted = server
        .request(
            Method::DELETE,
            &format!("/chat/sessions/{id}"),
            Some(&token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    for ws in [&mut a, &mut b] {
        assert_eq!(
            recv(ws).await,
            json!({"type": "session_deleted", "session_id": id})
        );
    }

    send(&mut bobs, json!({"type": "ping"})).await;
    assert_eq!(
        recv(&mut bobs).await,
        json!({"type": "pong"}),
        "bob saw alice's events"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_send_matches_the_stored_history() {
    let server = TestServer::start().await;
    let token = server.register("alice").await;
    let session = server.session(&token).await;
    let mut ws = signed_in(&server, &token).await;
    send(
        &mut ws,
        json!({"type": "send", "request_id": "r", "session_id": session, "content": "Hi!"}),
    )
    .await;
    let mut frames = Vec::new();
    let done = loop {
        let frame = recv(&mut ws).await;
        match frame["type"].as_str() {
            Some("done") => break frame,
            Some("session_updated") => {}
            _ => frames.push(frame),
        }
    };
    assert_eq!(frames[0]["type"], "message");
    assert_eq!(frames[1]["type"], "message");
    let text: String = frames[2..]
        .iter()
        .map(|f| {
            assert_eq!(f["type"], "delta", "{f}");
            f["text"].as_str().unwrap()
        })
        .collect();
    assert_eq!(text, "Hello there, how are you today?");
    assert_eq!(done["message"]["content"], json!(text));

    let history = server.history(&token, &session).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0], frames[0]["message"]);
    assert_eq!(messages[1], done["message"]);
    assert_eq!(history["session"]["title"], "Hi!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_and_frame_errors_in_the_full_app() {
    let server = TestServer::start().await;
    let token = server.register("alice").await;

    let mut ws = connect(&server).await;
    send(&mut ws, json!({"type": "auth", "token": "not-a-jwt"})).await;
    assert_eq!(close_code(&mut ws).await, 4401);

    let session = server.session(&token).await;
    let mut ws = signed_in(&server, &token).await;
    ws.send(Message::Text("{oops".to_owned())).await.unwrap();
    assert_eq!(recv(&mut ws).await["code"], "bad_request");
    send(&mut ws, json!({"type": "subscribe", "session_id": session})).await;
    assert_eq!(recv(&mut ws).await["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_shutdown_closes_sockets_as_going_away() {
    let server = TestServer::with(Options::default()).await;
    let token = server.register("alice").await;
    let mut ws = signed_in(&server, &token).await;
    drop(server);
    assert_eq!(close_code(&mut ws).await, 1001);
}
