//! Optional live checks against the real services. They run only when
//! `GEMINI_API_KEY` / `OPENAI_API_KEY` are set and print a note otherwise
//! (`cargo test -p chatcore-llm --test live -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(any(feature = "gemini", feature = "openai"))]

mod support;

use chatcore::{LlmErrorKind, LlmMessage, LlmProvider, LlmRequest, Role};
use support::collect;

fn key(name: &str) -> Option<String> {
    let key = std::env::var(name).ok().filter(|k| !k.trim().is_empty());
    if key.is_none() {
        eprintln!("skipping live test: {name} is not set");
    }
    key
}

fn request() -> LlmRequest {
    LlmRequest {
        system: Some("Answer in at most five words.".into()),
        messages: vec![LlmMessage {
            role: Role::User,
            content: "Say hello.".into(),
        }],
        temperature: Some(0.0),
        max_output_tokens: Some(256),
        timeout: None,
    }
}

/// A live call either answers or fails for an account reason (quota,
/// billing): both show the wire format and classification work.
fn check(got: support::Collected) {
    match (&got.finish, &got.error) {
        (Some(finish), None) => {
            eprintln!(
                "live answer from {} ({}): {:?}",
                finish.provider,
                finish.model,
                got.text()
            );
        }
        (None, Some(error)) => {
            eprintln!("live call failed: {error}");
            assert!(
                matches!(
                    error.kind,
                    LlmErrorKind::QuotaExhausted
                        | LlmErrorKind::RateLimited
                        | LlmErrorKind::Unavailable
                ),
                "unexpected live failure: {error}"
            );
        }
        other => panic!("neither finish nor error: {other:?}"),
    }
}

#[cfg(feature = "gemini")]
#[tokio::test]
async fn live_gemini() {
    let Some(key) = key("GEMINI_API_KEY") else {
        return;
    };
    let mut gemini = chatcore_llm::GeminiProvider::new(key);
    if let Ok(model) = std::env::var("GEMINI_MODEL") {
        gemini = gemini.with_model(model);
    }
    check(collect(gemini.stream(request()).await).await);
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn live_openai() {
    let Some(key) = key("OPENAI_API_KEY") else {
        return;
    };
    let mut openai = chatcore_llm::OpenAiProvider::new(key);
    if let Ok(model) = std::env::var("OPENAI_MODEL") {
        openai = openai.with_model(model);
    }
    if let Ok(base) = std::env::var("OPENAI_BASE_URL") {
        openai = openai.with_base_url(base);
    }
    check(collect(openai.stream(request()).await).await);
}
