//! The chain over real Gemini and OpenAI providers talking to local fake
//! servers: retries, fallback, failures after output, timeouts, cancel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(feature = "gemini", feature = "openai"))]

mod support;

use std::sync::Arc;
use std::time::Duration;

use chatcore::{LlmErrorKind, LlmMessage, LlmProvider, LlmRequest, Role};
use chatcore_llm::{BreakerConfig, ChainConfig, FallbackChain, GeminiProvider, OpenAiProvider};
use futures_util::StreamExt;
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
        max_retries: 2,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
        first_token_timeout: Duration::from_millis(1000),
        idle_timeout: Duration::from_millis(500),
        breaker: BreakerConfig {
            failure_threshold: 3,
            cooldown: Duration::from_secs(30),
        },
    }
}

fn gemini(base: &str) -> Arc<dyn LlmProvider> {
    Arc::new(
        GeminiProvider::new("g-key")
            .with_model("gemini-test")
            .with_base_url(format!("{base}/v1beta")),
    )
}

fn openai(base: &str) -> Arc<dyn LlmProvider> {
    Arc::new(
        OpenAiProvider::new("o-key")
            .with_model("gpt-test")
            .with_base_url(format!("{base}/v1")),
    )
}

fn gemini_text(text: &str, finish: bool) -> String {
    let reason = if finish {
        r#","finishReason":"STOP""#
    } else {
        ""
    };
    let payload = format!(
        r#"{{"candidates":[{{"content":{{"role":"model","parts":[{{"text":{}}}]}}{reason}}}]}}"#,
        serde_json::to_string(text).unwrap()
    );
    sse_events(&[&payload], "\r\n")
}

fn openai_reply(text: &str) -> Reply {
    let content = format!(
        r#"{{"choices":[{{"index":0,"delta":{{"content":{}}},"finish_reason":null}}]}}"#,
        serde_json::to_string(text).unwrap()
    );
    Reply::sse().pieces(
        &sse_events(
            &[
                &content,
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#,
                "[DONE]",
            ],
            "\n",
        ),
        11,
        Duration::from_millis(1),
    )
}

#[tokio::test]
async fn rate_limit_then_success_after_retry_after() {
    let server = FakeServer::start().await;
    server.push(
        Reply::json(429, r#"{"error":{"message":"Rate limit reached. Please try again in 1s.","type":"requests","code":"rate_limit_exceeded"}}"#)
            .header("retry-after", "0.3"),
    );
    server.push(openai_reply("after the pause"));
    let chain = FallbackChain::with_config(vec![openai(&server.url(""))], config());
    let got = collect(chain.stream(request()).await).await;
    assert_eq!(got.text(), "after the pause");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(300), "retried after {gap:?}");
}

#[tokio::test]
async fn insufficient_quota_goes_to_the_next_provider_without_retries() {
    let openai_server = FakeServer::start().await;
    openai_server.set_default(Reply::json(
        429,
        r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
    ));
    let gemini_server = FakeServer::start().await;
    gemini_server.push(Reply::sse().chunk(gemini_text("from gemini", true)));
    let chain = FallbackChain::with_config(
        vec![
            openai(&openai_server.url("")),
            gemini(&gemini_server.url("")),
        ],
        config(),
    );
    let got = collect(chain.stream(request()).await).await;
    assert_eq!(got.text(), "from gemini");
    assert_eq!(got.finish.unwrap().provider, "gemini");
    assert_eq!(openai_server.requests().len(), 1);
}

#[tokio::test]
async fn gemini_500_falls_back_to_openai_with_text_intact() {
    let gemini_server = FakeServer::start().await;
    gemini_server.set_default(Reply::json(
        500,
        r#"{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}"#,
    ));
    let openai_server = FakeServer::start().await;
    let text = "Voilà — the fallback answer, intact: 你好 👋";
    openai_server.push(openai_reply(text));
    let chain = FallbackChain::with_config(
        vec![
            gemini(&gemini_server.url("")),
            openai(&openai_server.url("")),
        ],
        config(),
    );
    let got = collect(chain.stream(request()).await).await;
    assert_eq!(got.text(), text);
    let finish = got.finish.unwrap();
    assert_eq!(
        (finish.provider.as_str(), finish.model.as_str()),
        ("openai", "gpt-test")
    );
    assert_eq!(gemini_server.requests().len(), 3, "1 try + 2 retries");
    assert_eq!(openai_server.requests().len(), 1);
}

#[tokio::test]
async fn failure_after_output_keeps_the_partial_text_and_does_not_fall_back() {
    let gemini_server = FakeServer::start().await;
    gemini_server.push(
        Reply::sse()
            .chunk(gemini_text("The first half", false))
            .sleep(Duration::from_millis(20))
            .chunk(gemini_text(" and more", false))
            .then_drop(),
    );
    let openai_server = FakeServer::start().await;
    openai_server.set_default(openai_reply("should not be used"));
    let chain = FallbackChain::with_config(
        vec![
            gemini(&gemini_server.url("")),
            openai(&openai_server.url("")),
        ],
        config(),
    );
    let got = collect(chain.stream(request()).await).await;
    assert_eq!(got.text(), "The first half and more");
    let error = got.error.unwrap();
    assert!(error.output_sent);
    assert_eq!(error.provider, "gemini");
    assert_eq!(openai_server.requests().len(), 0);
    assert_eq!(gemini_server.requests().len(), 1);
}

#[tokio::test]
async fn first_token_timeout_falls_back() {
    let gemini_server = FakeServer::start().await;
    gemini_server.set_default(
        Reply::sse()
            .sleep(Duration::from_secs(10))
            .chunk(gemini_text("too late", true)),
    );
    let openai_server = FakeServer::start().await;
    openai_server.push(openai_reply("on time"));
    let chain = FallbackChain::with_config(
        vec![
            gemini(&gemini_server.url("")),
            openai(&openai_server.url("")),
        ],
        config(),
    );
    let started = std::time::Instant::now();
    let got = collect(chain.stream(request()).await).await;
    assert_eq!(got.text(), "on time");
    assert_eq!(
        gemini_server.requests().len(),
        1,
        "timeouts are not retried"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn idle_timeout_after_output_is_an_error_without_fallback() {
    let gemini_server = FakeServer::start().await;
    gemini_server.push(
        Reply::sse()
            .chunk(gemini_text("started", false))
            .then_hang(),
    );
    let openai_server = FakeServer::start().await;
    let chain = FallbackChain::with_config(
        vec![
            gemini(&gemini_server.url("")),
            openai(&openai_server.url("")),
        ],
        config(),
    );
    let got = collect(chain.stream(request()).await).await;
    assert_eq!(got.text(), "started");
    let error = got.error.unwrap();
    assert_eq!(
        (error.kind, error.output_sent),
        (LlmErrorKind::Timeout, true)
    );
    assert_eq!(openai_server.requests().len(), 0);
    // The abandoned upstream request was closed.
    assert!(gemini_server.wait_client_close().await);
}

#[tokio::test]
async fn all_down_is_one_error_listing_each_provider() {
    let gemini_server = FakeServer::start().await;
    gemini_server.set_default(Reply::json(
        503,
        r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
    ));
    let dead = support::dead_address().await;
    let chain = FallbackChain::with_config(
        vec![gemini(&gemini_server.url("")), openai(&dead)],
        config(),
    );
    let got = collect(chain.stream(request()).await).await;
    let error = got.error.unwrap();
    assert_eq!(error.kind, LlmErrorKind::AllFailed);
    assert!(
        error
            .message
            .contains("gemini (gemini-test): Unavailable after 3 attempts"),
        "{}",
        error.message
    );
    assert!(error.message.contains("overloaded"), "{}", error.message);
    assert!(
        error
            .message
            .contains("openai (gpt-test): Unavailable after 3 attempts: could not connect"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("g-key") && !error.message.contains("o-key"));
}

#[tokio::test]
async fn gemini_safety_block_is_not_retried_or_passed_on() {
    let gemini_server = FakeServer::start().await;
    gemini_server.set_default(Reply::sse().chunk(sse_events(
        &[r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#],
        "\r\n",
    )));
    let openai_server = FakeServer::start().await;
    let chain = FallbackChain::with_config(
        vec![
            gemini(&gemini_server.url("")),
            openai(&openai_server.url("")),
        ],
        config(),
    );
    let error = collect(chain.stream(request()).await).await.error.unwrap();
    assert_eq!(
        (error.kind, error.provider.as_str()),
        (LlmErrorKind::Blocked, "gemini")
    );
    assert_eq!(gemini_server.requests().len(), 1);
    assert_eq!(openai_server.requests().len(), 0);
}

#[tokio::test]
async fn dropping_the_chain_stream_cancels_upstream() {
    let server = FakeServer::start().await;
    server.push(Reply::sse().chunk(gemini_text("first", false)).then_hang());
    let chain = FallbackChain::with_config(vec![gemini(&server.url(""))], config());
    let mut stream = chain.stream(request()).await.unwrap();
    assert!(matches!(stream.next().await, Some(Ok(_))));
    drop(stream);
    assert!(
        server.wait_client_close().await,
        "upstream connection still open"
    );
}
