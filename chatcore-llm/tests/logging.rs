//! Chain decisions are logged with tracing, and no key reaches the logs.
//! (Alone in its own test binary: tracing's per-callsite interest cache makes
//! a thread-local subscriber unreliable while other tests run in parallel.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(feature = "gemini", feature = "openai"))]

mod support;

use std::sync::Arc;
use std::time::Duration;

use chatcore::{LlmMessage, LlmProvider, LlmRequest, Role};
use chatcore_llm::{ChainConfig, FallbackChain, GeminiProvider, OpenAiProvider};
use support::{collect, sse_events, FakeServer, Reply};

fn request() -> LlmRequest {
    LlmRequest {
        messages: vec![LlmMessage {
            role: Role::User,
            content: "hello".into(),
        }],
        ..LlmRequest::default()
    }
}

fn config() -> ChainConfig {
    ChainConfig {
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
        ..ChainConfig::default()
    }
}

fn gemini(base: &str) -> Arc<dyn LlmProvider> {
    Arc::new(GeminiProvider::new("g-key").with_base_url(format!("{base}/v1beta")))
}

fn openai(base: &str) -> Arc<dyn LlmProvider> {
    Arc::new(OpenAiProvider::new("o-key").with_base_url(format!("{base}/v1")))
}

fn openai_reply(text: &str) -> Reply {
    let content = format!(
        r#"{{"choices":[{{"index":0,"delta":{{"content":{}}},"finish_reason":null}}]}}"#,
        serde_json::to_string(text).unwrap()
    );
    Reply::sse().chunk(sse_events(
        &[
            &content,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ],
        "\n",
    ))
}

#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn decisions_are_logged_without_secrets() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let gemini_server = FakeServer::start().await;
    gemini_server.push(Reply::json(
        503,
        r#"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#,
    ));
    gemini_server.push(Reply::json(
        400,
        r#"{"error":{"code":400,"message":"API key not valid: g-key","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#,
    ));
    let openai_server = FakeServer::start().await;
    openai_server.push(openai_reply("fine"));
    let chain = FallbackChain::with_config(
        vec![
            gemini(&gemini_server.url("")),
            openai(&openai_server.url("")),
        ],
        config(),
    );
    let got = collect(chain.stream(request()).await).await;
    assert_eq!(got.text(), "fine");

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "retrying provider",
        "provider failed; falling back",
        "provider is answering",
        "reply finished",
    ] {
        assert!(
            text.contains(expected),
            "missing {expected:?} in logs:\n{text}"
        );
    }
    assert!(text.contains("[redacted]"), "{text}");
    assert!(
        !text.contains("g-key") && !text.contains("o-key"),
        "a key leaked into the logs:\n{text}"
    );
}
