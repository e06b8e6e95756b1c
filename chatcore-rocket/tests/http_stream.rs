//! SSE: event order, disconnects, stop, re-attach, conflicts, errors; and
//! one end-to-end pass on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use chatcore::testing::{ScriptStep, ScriptedProvider};
use chatcore::LlmErrorKind;
use common::{assert_error, Db, Options, SseReader, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const TEXT: &str = "one two three four five six seven eight nine ten";

fn slow(delay_ms: u64) -> ScriptedProvider {
    ScriptedProvider::words("slow", TEXT, Duration::from_millis(delay_ms))
}

async fn stream(server: &TestServer, token: &str, session: &str, content: &str) -> SseReader {
    let response = server
        .post(
            "/chat/stream",
            Some(token),
            &json!({ "session_id": session, "content": content }),
        )
        .await;
    SseReader::new(response)
}

/// Checks message -> delta... -> done and returns (streamed text, done message).
fn check_order(events: &[common::Sse]) -> (String, Value) {
    assert_eq!(events[0].event, "message", "{events:?}");
    assert_eq!(events[0].data["role"], "user");
    let last = events.last().unwrap();
    assert_eq!(last.event, "done", "{events:?}");
    let message_id = last.data["message"]["id"].clone();
    let mut text = String::new();
    for event in &events[1..events.len() - 1] {
        assert_eq!(event.event, "delta", "{events:?}");
        assert_eq!(event.data["message_id"], message_id);
        text.push_str(event.data["text"].as_str().unwrap());
    }
    (text, last.data["message"].clone())
}

async fn end_to_end(server: &TestServer) {
    let token = server.register("alice").await;
    let id = server.session(&token).await;
    let events = stream(server, &token, &id, "Count to ten")
        .await
        .all()
        .await;
    let (text, message) = check_order(&events);
    assert_eq!(text, TEXT);
    assert_eq!(message["content"], TEXT);
    assert_eq!(message["status"], "complete");
    assert_eq!(
        events.last().unwrap().data["provider"],
        server.provider.name_for_tests()
    );
    let history = server.history(&token, &id).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0], events[0].data);
    assert_eq!(messages[1], message);
    assert_eq!(messages[1]["content"], text);
}

trait Named {
    fn name_for_tests(&self) -> &str;
}

impl Named for std::sync::Arc<ScriptedProvider> {
    fn name_for_tests(&self) -> &str {
        chatcore::LlmProvider::name(self.as_ref())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_order_and_streamed_text_equals_stored_text() {
    let server = TestServer::with(Options {
        provider: slow(1),
        ..Default::default()
    })
    .await;
    end_to_end(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_end_to_end() {
    let options = Options {
        db: Db::Postgres,
        provider: slow(1),
        ..Default::default()
    };
    let Some(server) = TestServer::try_with(options).await else {
        return;
    };
    end_to_end(&server).await;
    let token = server.register("pg-bob").await;
    let id = server.session(&token).await;
    let other = server.register("pg-eve").await;
    assert_error(
        server
            .get(&format!("/chat/sessions/{id}"), Some(&other))
            .await,
        404,
        "not_found",
    )
    .await;
    let health: Value = server.get("/health", None).await.json().await.unwrap();
    assert_eq!(health["database"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_mid_stream_leaves_a_completed_stored_reply() {
    let server = TestServer::with(Options {
        provider: slow(60),
        ..Default::default()
    })
    .await;
    let token = server.register("alice").await;
    let id = server.session(&token).await;
    let mut reader = stream(&server, &token, &id, "go").await;
    assert_eq!(reader.next().await.unwrap().event, "message");
    assert_eq!(reader.next().await.unwrap().event, "delta");
    drop(reader);
    let reply = server.final_reply(&token, &id).await;
    assert_eq!(reply["status"], "complete");
    assert_eq!(reply["content"], TEXT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_with_done_stopped() {
    let server = TestServer::with(Options {
        provider: slow(100),
        ..Default::default()
    })
    .await;
    let token = server.register("alice").await;
    let id = server.session(&token).await;
    let stop_path = format!("/chat/sessions/{id}/stop");
    assert_error(
        server.post(&stop_path, Some(&token), &json!(null)).await,
        404,
        "not_found",
    )
    .await;

    let mut reader = stream(&server, &token, &id, "go").await;
    assert_eq!(reader.next().await.unwrap().event, "message");
    let first = reader.next().await.unwrap();
    assert_eq!(first.event, "delta");
    // A second reply in the same session while this one runs: 409.
    assert_error(
        server
            .post(
                "/chat/stream",
                Some(&token),
                &json!({ "session_id": id, "content": "again" }),
            )
            .await,
        409,
        "conflict",
    )
    .await;
    let response = server
        .http
        .post(format!("{}{stop_path}", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let rest = reader.all().await;
    let done = rest.last().unwrap();
    assert_eq!(done.event, "done");
    assert_eq!(done.data["message"]["status"], "stopped");
    let streamed: String = std::iter::once(&first)
        .chain(rest.iter())
        .filter(|e| e.event == "delta")
        .map(|e| e.data["text"].as_str().unwrap())
        .collect();
    assert_eq!(done.data["message"]["content"], streamed);
    let reply = server.final_reply(&token, &id).await;
    assert_eq!(reply["status"], "stopped");
    assert_eq!(reply["content"], streamed);
    assert_error(
        server.post(&stop_path, Some(&token), &json!(null)).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reattach_from_a_second_connection() {
    let server = TestServer::with(Options {
        provider: slow(50),
        ..Default::default()
    })
    .await;
    let token = server.register("alice").await;
    let id = server.session(&token).await;
    let attach_path = format!("/chat/sessions/{id}/stream");
    let idle = server.get(&attach_path, Some(&token)).await;
    assert_eq!(idle.status(), StatusCode::NO_CONTENT);

    let mut first = stream(&server, &token, &id, "go").await;
    first.next().await.unwrap();
    first.next().await.unwrap();
    let mut second = SseReader::new(server.get(&attach_path, Some(&token)).await);
    let snapshot = second.next().await.unwrap();
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.data["message"]["status"], "streaming");
    let mut text = snapshot.data["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let rest = second.all().await;
    let done = rest.last().unwrap();
    assert_eq!(done.event, "done");
    for event in &rest[..rest.len() - 1] {
        assert_eq!(event.event, "delta");
        text.push_str(event.data["text"].as_str().unwrap());
    }
    assert_eq!(text, TEXT);
    assert_eq!(done.data["message"]["content"], TEXT);
    // The first connection still gets everything it has not read yet, then `done`.
    let rest_of_first = first.all().await;
    assert_eq!(rest_of_first.last().unwrap().event, "done");
    let streamed: String = rest_of_first
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| e.data["text"].as_str().unwrap())
        .collect();
    assert!(TEXT.ends_with(&streamed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_failure_after_text_is_an_error_event() {
    let provider = ScriptedProvider::new("flaky").with_default(vec![
        ScriptStep::Text("partial ".into()),
        ScriptStep::Text("answer".into()),
        ScriptStep::Fail(LlmErrorKind::Unavailable),
    ]);
    let server = TestServer::with(Options {
        provider,
        ..Default::default()
    })
    .await;
    let token = server.register("alice").await;
    let id = server.session(&token).await;
    let events = stream(&server, &token, &id, "go").await.all().await;
    let last = events.last().unwrap();
    assert_eq!(last.event, "error", "{events:?}");
    assert!(last.data["code"].is_string());
    assert!(last.data["message"].is_string());
    let reply = server.final_reply(&token, &id).await;
    assert_eq!(last.data["message_id"], reply["id"]);
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["content"], "partial answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_streams_get_keepalive_comments() {
    let provider = ScriptedProvider::new("sleepy").with_default(vec![
        ScriptStep::Sleep(Duration::from_millis(700)),
        ScriptStep::Text("late".into()),
    ]);
    let server = TestServer::with(Options {
        provider,
        keepalive: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let token = server.register("alice").await;
    let id = server.session(&token).await;
    let response = server
        .post(
            "/chat/stream",
            Some(&token),
            &json!({ "session_id": id, "content": "go" }),
        )
        .await;
    let raw = response.text().await.unwrap();
    let comments = raw.lines().filter(|l| l.starts_with(':')).count();
    assert!(comments >= 3, "{raw}");
    assert!(raw.contains("event:done"), "{raw}");
}
