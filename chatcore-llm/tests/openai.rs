//! OpenAiProvider against a local fake server speaking Chat Completions SSE.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "openai")]

mod support;

use std::time::Duration;

use chatcore::{FinishReason, LlmErrorKind, LlmMessage, LlmProvider, LlmRequest, Role, Usage};
use chatcore_llm::{MaxTokensField, OpenAiProvider};
use futures_util::StreamExt;
use serde_json::json;
use support::{collect, sse_events, FakeServer, Reply};

const KEY: &str = "sk-test-openai-456";

fn provider(server: &FakeServer) -> OpenAiProvider {
    OpenAiProvider::new(KEY)
        .with_model("gpt-test")
        .with_base_url(server.url("/v1"))
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
                content: "Joke please".into(),
            },
        ],
        temperature: Some(0.5),
        max_output_tokens: Some(512),
        timeout: None,
    }
}

fn happy_stream() -> String {
    let events = sse_events(
        &[
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-test-2024","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-test-2024","choices":[{"index":0,"delta":{"content":"Knock knock — "},"logprobs":null,"finish_reason":null}],"usage":null}"#,
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-test-2024","choices":[{"index":0,"delta":{"content":"who's there? 🚪"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-test-2024","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-test-2024","choices":[],"usage":{"prompt_tokens":24,"completion_tokens":8,"total_tokens":32,"prompt_tokens_details":{"cached_tokens":0}}}"#,
            "[DONE]",
        ],
        "\n",
    );
    format!(": OPENROUTER PROCESSING\n\n{events}")
}

#[tokio::test]
async fn streams_with_the_exact_request() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().pieces(&happy_stream(), 3, Duration::from_millis(1)));
    let got = collect(provider(&server).stream(request()).await).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.text(), "Knock knock — who's there? 🚪");
    let finish = got.finish.unwrap();
    assert_eq!(finish.provider, "openai");
    assert_eq!(finish.model, "gpt-test-2024");
    assert_eq!(finish.reason, FinishReason::Stop);
    assert_eq!(
        finish.usage,
        Some(Usage {
            prompt_tokens: 24,
            completion_tokens: 8
        })
    );

    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.target, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert!(sent
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        sent.json(),
        json!({
            "model": "gpt-test",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Joke please"}
            ],
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.5,
            // Not api.openai.com: the field local servers understand.
            "max_tokens": 512
        })
    );
}

#[tokio::test]
async fn crlf_byte_by_byte_and_max_completion_tokens() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().pieces(&happy_stream().replace('\n', "\r\n"), 1, Duration::ZERO));
    let openai = provider(&server).with_max_tokens_field(MaxTokensField::MaxCompletionTokens);
    let got = collect(openai.stream(request()).await).await;
    assert_eq!(got.text(), "Knock knock — who's there? 🚪");
    assert!(got.finish.is_some());
    let body = server.requests()[0].json();
    assert_eq!(body["max_completion_tokens"], 512);
    assert!(body.get("max_tokens").is_none());
}

#[tokio::test]
async fn works_with_a_trailing_slash_and_an_ollama_like_server() {
    let server = FakeServer::start().await;
    // Ollama: no usage unless asked, no system_fingerprint, [DONE] at the end.
    server.push(Reply::sse().chunk(sse_events(
        &[
            r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"llama3.2","choices":[{"index":0,"delta":{"role":"assistant","content":"hey"},"finish_reason":null}]}"#,
            r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"llama3.2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ],
        "\n",
    )));
    let ollama = OpenAiProvider::new("ollama")
        .with_name("ollama")
        .with_model("llama3.2")
        .with_base_url(server.url("/v1/"));
    let got = collect(ollama.stream(request()).await).await;
    assert_eq!(got.text(), "hey");
    let finish = got.finish.unwrap();
    assert_eq!((finish.provider.as_str(), finish.usage), ("ollama", None));
    assert_eq!(server.requests()[0].target, "/v1/chat/completions");
}

#[tokio::test]
async fn mid_stream_error_event_after_text() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().chunk(sse_events(
        &[
            r#"{"choices":[{"index":0,"delta":{"content":"Partial"},"finish_reason":null}]}"#,
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#,
            "[DONE]",
        ],
        "\n",
    )));
    let got = collect(provider(&server).stream(request()).await).await;
    assert_eq!(got.text(), "Partial");
    let error = got.error.unwrap();
    assert_eq!(error.kind, LlmErrorKind::Unavailable);
    assert!(error.output_sent);
}

#[tokio::test]
async fn eof_without_done_or_finish_is_truncated() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().chunk(sse_events(
        &[r#"{"choices":[{"index":0,"delta":{"content":"cut"},"finish_reason":null}]}"#],
        "\n",
    )));
    let got = collect(provider(&server).stream(request()).await).await;
    assert_eq!(got.error.unwrap().kind, LlmErrorKind::Protocol);
}

#[tokio::test]
async fn http_errors_are_classified() {
    let server = FakeServer::start().await;
    server.push(Reply::json(
        401,
        r#"{"error":{"message":"Incorrect API key provided: sk-test-openai-456.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
    ));
    server.push(Reply::json(
        429,
        r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
    ));
    server.push(
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit reached for gpt-test on tokens per min (TPM). Please try again in 1.574s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#,
        )
        .header("retry-after-ms", "300")
        .header("retry-after", "1"),
    );
    server.push(Reply::json(400, r#"{"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}"#));
    server.push(Reply::json(500, "upstream exploded"));
    let openai = provider(&server);
    let auth = openai.stream(request()).await.err().unwrap();
    assert_eq!(auth.kind, LlmErrorKind::Auth);
    assert!(!auth.message.contains(KEY), "{}", auth.message);
    let quota = openai.stream(request()).await.err().unwrap();
    assert_eq!(quota.kind, LlmErrorKind::QuotaExhausted);
    assert!(!quota.is_retryable());
    let rate = openai.stream(request()).await.err().unwrap();
    assert_eq!(rate.kind, LlmErrorKind::RateLimited);
    assert_eq!(rate.retry_after, Some(Duration::from_millis(300)));
    let bad = openai.stream(request()).await.err().unwrap();
    assert_eq!(bad.kind, LlmErrorKind::BadRequest);
    let down = openai.stream(request()).await.err().unwrap();
    assert_eq!(down.kind, LlmErrorKind::Unavailable);
    assert!(down.message.contains("upstream exploded"));
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let server = FakeServer::start().await;
    server.push(
        Reply::sse()
            .chunk(sse_events(
                &[r#"{"choices":[{"index":0,"delta":{"content":"x"}}]}"#],
                "\n",
            ))
            .then_hang(),
    );
    let mut stream = provider(&server).stream(request()).await.unwrap();
    assert!(matches!(stream.next().await, Some(Ok(_))));
    drop(stream);
    assert!(server.wait_client_close().await);
}
