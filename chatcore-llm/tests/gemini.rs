//! GeminiProvider against a local fake server speaking the Gemini wire format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "gemini")]

mod support;

use std::time::Duration;

use chatcore::{FinishReason, LlmErrorKind, LlmMessage, LlmProvider, LlmRequest, Role, Usage};
use chatcore_llm::GeminiProvider;
use futures_util::StreamExt;
use serde_json::json;
use support::{collect, sse_events, FakeServer, Reply};

const KEY: &str = "gm-test-key-123";

fn provider(server: &FakeServer) -> GeminiProvider {
    GeminiProvider::new(KEY)
        .with_model("gemini-test")
        .with_base_url(server.url("/v1beta"))
}

fn request() -> LlmRequest {
    LlmRequest {
        system: Some("You are terse.".into()),
        messages: vec![
            LlmMessage {
                role: Role::User,
                content: "Hi".into(),
            },
            LlmMessage {
                role: Role::Assistant,
                content: "Hello!".into(),
            },
            LlmMessage {
                role: Role::User,
                content: "Tell me a joke".into(),
            },
        ],
        temperature: Some(0.25),
        max_output_tokens: Some(256),
        timeout: None,
    }
}

const HAPPY: [&str; 3] = [
    r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Why did the 🦀 "}]},"index":0}],"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"modelVersion":"gemini-test-001"}"#,
    r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"cross the road — déjà vu?"}]},"index":0}],"usageMetadata":{"promptTokenCount":9,"totalTokenCount":12}}"#,
    r#"{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":11,"totalTokenCount":20},"modelVersion":"gemini-test-001"}"#,
];

#[tokio::test]
async fn streams_with_the_exact_request() {
    let server = FakeServer::start().await;
    // CRLF framing cut every 5 bytes (inside 🦀, inside JSON, between \r and \n).
    server.push(Reply::sse().pieces(&sse_events(&HAPPY, "\r\n"), 5, Duration::from_millis(1)));
    let got = collect(provider(&server).stream(request()).await).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.text(), "Why did the 🦀 cross the road — déjà vu?");
    let finish = got.finish.unwrap();
    assert_eq!(finish.provider, "gemini");
    assert_eq!(finish.model, "gemini-test-001");
    assert_eq!(finish.reason, FinishReason::Stop);
    assert_eq!(
        finish.usage,
        Some(Usage {
            prompt_tokens: 9,
            completion_tokens: 11
        })
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.target,
        "/v1beta/models/gemini-test:streamGenerateContent?alt=sse"
    );
    assert!(!sent.target.contains(KEY) && !sent.target.contains("key="));
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert_eq!(sent.header("authorization"), None);
    assert!(sent
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        sent.json(),
        json!({
            "contents": [
                {"role": "user", "parts": [{"text": "Hi"}]},
                {"role": "model", "parts": [{"text": "Hello!"}]},
                {"role": "user", "parts": [{"text": "Tell me a joke"}]}
            ],
            "systemInstruction": {"parts": [{"text": "You are terse."}]},
            "generationConfig": {"temperature": 0.25, "maxOutputTokens": 256}
        })
    );
}

#[tokio::test]
async fn lf_framing_byte_by_byte() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().pieces(&sse_events(&HAPPY, "\n"), 1, Duration::ZERO));
    let got = collect(provider(&server).stream(request()).await).await;
    assert_eq!(got.text(), "Why did the 🦀 cross the road — déjà vu?");
    assert!(got.finish.is_some());
}

#[tokio::test]
async fn complete_uses_generate_content() {
    let server = FakeServer::start().await;
    server.push(Reply::json(
        200,
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello there"}]},"finishReason":"MAX_TOKENS"}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":2}}"#,
    ));
    let answer = provider(&server).complete(request()).await.unwrap();
    assert_eq!(answer.text, "Hello there");
    assert_eq!(answer.finish.reason, FinishReason::Length);
    let sent = &server.requests()[0];
    assert_eq!(sent.target, "/v1beta/models/gemini-test:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
}

#[tokio::test]
async fn prompt_block_is_blocked() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().chunk(sse_events(
        &[r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":5}}"#],
        "\r\n",
    )));
    let got = collect(provider(&server).stream(request()).await).await;
    let error = got.error.unwrap();
    assert_eq!(error.kind, LlmErrorKind::Blocked);
    assert!(error.message.contains("PROHIBITED_CONTENT"));
    assert!(!error.output_sent && !error.is_retryable());
}

#[tokio::test]
async fn safety_finish_without_text_is_blocked() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().chunk(sse_events(
        &[r#"{"candidates":[{"content":{"role":"model"},"finishReason":"SAFETY","safetyRatings":[]}]}"#],
        "\r\n",
    )));
    let got = collect(provider(&server).stream(request()).await).await;
    assert_eq!(got.error.unwrap().kind, LlmErrorKind::Blocked);
}

#[tokio::test]
async fn raw_json_error_tail_after_text_is_a_failure_with_output() {
    let server = FakeServer::start().await;
    let body = format!(
        "{}{}",
        sse_events(&[HAPPY[0]], "\r\n"),
        "{\n  \"error\": {\n    \"code\": 503,\n    \"message\": \"The model is overloaded.\",\n    \"status\": \"UNAVAILABLE\"\n  }\n}\n"
    );
    server.push(Reply::sse().pieces(&body, 7, Duration::ZERO));
    let got = collect(provider(&server).stream(request()).await).await;
    assert_eq!(got.text(), "Why did the 🦀 ");
    let error = got.error.unwrap();
    assert_eq!(error.kind, LlmErrorKind::Unavailable);
    assert!(error.output_sent);
    assert!(error.message.contains("overloaded"));
}

#[tokio::test]
async fn error_event_before_text() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().chunk(sse_events(
        &[r#"{"error":{"code":500,"message":"Internal error","status":"INTERNAL"}}"#],
        "\r\n",
    )));
    let got = collect(provider(&server).stream(request()).await).await;
    let error = got.error.unwrap();
    assert_eq!(
        (error.kind, error.output_sent),
        (LlmErrorKind::Unavailable, false)
    );
}

#[tokio::test]
async fn stream_without_finish_reason_is_truncated() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().chunk(sse_events(&HAPPY[..2], "\r\n")));
    let got = collect(provider(&server).stream(request()).await).await;
    assert!(got.finish.is_none());
    let error = got.error.unwrap();
    assert_eq!(error.kind, LlmErrorKind::Protocol);
    assert!(error.output_sent);
}

#[tokio::test]
async fn connection_drop_mid_stream() {
    let server = FakeServer::start().await;
    server.push(
        Reply::sse()
            .chunk(sse_events(&HAPPY[..1], "\r\n"))
            .chunk("data: {\"cand")
            .then_drop(),
    );
    let got = collect(provider(&server).stream(request()).await).await;
    assert_eq!(got.text(), "Why did the 🦀 ");
    let error = got.error.unwrap();
    assert_eq!(error.kind, LlmErrorKind::Unavailable, "{error}");
    assert!(error.output_sent);
}

#[tokio::test]
async fn http_errors_are_classified() {
    let server = FakeServer::start().await;
    server.push(Reply::json(
        429,
        r#"{"error":{"code":429,"message":"You exceeded your current quota. Please retry in 47.43s.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2.5s"}]}}"#,
    ));
    server.push(Reply::json(
        429,
        r#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}"#,
    ));
    server.push(Reply::json(
        400,
        r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#,
    ));
    server.push(Reply::json(
        503,
        r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
    ));
    let gemini = provider(&server);
    let rate = gemini.stream(request()).await.err().unwrap();
    assert_eq!(rate.kind, LlmErrorKind::RateLimited);
    assert_eq!(rate.retry_after, Some(Duration::from_millis(2500)));
    assert_eq!(rate.provider, "gemini");
    let daily = gemini.stream(request()).await.err().unwrap();
    assert_eq!(daily.kind, LlmErrorKind::QuotaExhausted);
    let key = gemini.stream(request()).await.err().unwrap();
    assert_eq!(key.kind, LlmErrorKind::Auth);
    assert!(!key.message.contains(KEY));
    let down = gemini.stream(request()).await.err().unwrap();
    assert_eq!(down.kind, LlmErrorKind::Unavailable);
    assert!(down.message.contains("503"));
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    let base = support::dead_address().await;
    let gemini = GeminiProvider::new(KEY).with_base_url(format!("{base}/v1beta"));
    let error = gemini.stream(request()).await.err().unwrap();
    assert_eq!(error.kind, LlmErrorKind::Unavailable);
    assert!(!error.message.contains(KEY));
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let server = FakeServer::start().await;
    server.push(
        Reply::sse()
            .chunk(sse_events(&HAPPY[..1], "\r\n"))
            .then_hang(),
    );
    let mut stream = provider(&server).stream(request()).await.unwrap();
    assert!(matches!(stream.next().await, Some(Ok(_))));
    assert_eq!(server.closed_by_client(), 0);
    drop(stream);
    assert!(
        server.wait_client_close().await,
        "the server never saw the connection close"
    );
}

#[test]
fn debug_output_hides_the_key() {
    let gemini = GeminiProvider::new(KEY);
    assert!(!format!("{gemini:?}").contains(KEY));
}

#[tokio::test]
async fn finishes_at_the_finish_reason_even_if_the_body_stays_open() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().chunk(sse_events(&HAPPY, "\r\n")).then_hang());
    let stream = provider(&server).stream(request()).await;
    let got = tokio::time::timeout(Duration::from_secs(5), collect(stream))
        .await
        .expect("the stream should end at the finishReason");
    assert_eq!(got.text(), "Why did the 🦀 cross the road — déjà vu?");
    assert!(got.finish.is_some() && got.error.is_none());
    assert!(server.wait_client_close().await);
}
