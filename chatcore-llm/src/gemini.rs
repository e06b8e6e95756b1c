//! [`GeminiProvider`]: Google's Gemini API (v1beta REST).
//!
//! Streaming uses `POST {base}/models/{model}:streamGenerateContent?alt=sse`,
//! [`LlmProvider::complete`] uses `:generateContent`. The key travels in the
//! `x-goog-api-key` header only (never in the URL, never logged).

use std::time::Duration;

use async_trait::async_trait;
use chatcore::{
    Completion, Finish, FinishReason, LlmError, LlmErrorKind, LlmEvent, LlmProvider, LlmRequest,
    LlmStream, Role, Usage,
};
use serde::{Deserialize, Serialize};

use crate::config::{GEMINI_BASE_URL_DEFAULT, GEMINI_MODEL_DEFAULT};
use crate::error_class::{classify, classify_response, classify_transport, ErrorBody};
use crate::wire::{self, build_client, join_url, ApiKey, Outbox, WireParser};

/// A provider that talks to the Gemini API.
#[derive(Clone, Debug)]
pub struct GeminiProvider {
    name: String,
    model: String,
    base_url: String,
    key: ApiKey,
    client: reqwest::Client,
}

impl GeminiProvider {
    /// A provider for `gemini-2.5-flash` at Google's endpoint.
    ///
    /// ```no_run
    /// use chatcore_llm::GeminiProvider;
    ///
    /// let gemini = GeminiProvider::new(std::env::var("GEMINI_API_KEY").unwrap_or_default())
    ///     .with_model("gemini-2.5-flash");
    /// ```
    pub fn new(api_key: impl Into<String>) -> Self {
        GeminiProvider {
            name: "gemini".to_owned(),
            model: GEMINI_MODEL_DEFAULT.to_owned(),
            base_url: GEMINI_BASE_URL_DEFAULT.to_owned(),
            key: ApiKey::new(api_key),
            client: build_client(wire::DEFAULT_CONNECT_TIMEOUT),
        }
    }

    /// Uses another model id.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Uses another base URL (up to and including `/v1beta`).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Uses another name in errors, logs and [`Finish`] events.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the TCP/TLS connect timeout (default 10 s).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.client = build_client(timeout);
        self
    }

    /// Uses this HTTP client (proxies, TLS settings, ...).
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Decodes a `streamGenerateContent?alt=sse` body obtained elsewhere (recorded traffic, a proxy, a
    /// benchmark) exactly as a live response would be; no request is sent.
    ///
    /// ```no_run
    /// use bytes::Bytes;
    /// use chatcore_llm::GeminiProvider;
    ///
    /// let recorded: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"data: ..."))];
    /// let stream = GeminiProvider::new("unused").decode_sse(futures_util::stream::iter(recorded));
    /// ```
    pub fn decode_sse<S>(&self, body: S) -> LlmStream
    where
        S: futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static,
    {
        let parser = GeminiParser::new(&self.name, &self.model);
        wire::sse_stream(
            &self.name,
            &self.key,
            wire::foreign_body(&self.name, body),
            parser,
        )
    }

    async fn post(
        &self,
        method: &str,
        query: &str,
        request: &LlmRequest,
    ) -> Result<reqwest::Response, LlmError> {
        let url = join_url(
            &self.base_url,
            &format!("models/{}:{method}{query}", self.model),
        );
        tracing::debug!(provider = %self.name, model = %self.model, method, turns = request.messages.len(), "calling Gemini");
        let response = self
            .client
            .post(url)
            .header("x-goog-api-key", self.key.expose())
            .json(&request_body(request))
            .send()
            .await
            .map_err(|e| classify_transport(&self.name, e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            let mut error = classify_response(&self.name, response).await;
            error.message = self.key.redact(&error.message);
            Err(error)
        }
    }
}

#[async_trait]
impl LlmProvider for GeminiProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn stream(&self, request: LlmRequest) -> Result<LlmStream, LlmError> {
        let response = self
            .post("streamGenerateContent", "?alt=sse", &request)
            .await?;
        let parser = GeminiParser::new(&self.name, &self.model);
        let body = wire::response_body(&self.name, response);
        Ok(wire::sse_stream(&self.name, &self.key, body, parser))
    }

    async fn complete(&self, request: LlmRequest) -> Result<Completion, LlmError> {
        let response = self.post("generateContent", "", &request).await?;
        let body = response
            .text()
            .await
            .map_err(|e| classify_transport(&self.name, e))?;
        let mut parser = GeminiParser::new(&self.name, &self.model);
        let mut out = Outbox::new();
        parser.on_data(&body, &mut out);
        parser.on_end("", None, &mut out);
        let mut text = String::new();
        for item in out {
            match item? {
                LlmEvent::Delta(piece) => text.push_str(&piece),
                LlmEvent::Finished(finish) => return Ok(Completion { text, finish }),
            }
        }
        Err(LlmError::new(
            &self.name,
            LlmErrorKind::Protocol,
            "the response had no finishReason",
        ))
    }
}

// ---- request ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestBody<'a> {
    contents: Vec<Content<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<SystemInstruction<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation_config: Option<GenerationConfig>,
}

#[derive(Serialize)]
struct Content<'a> {
    role: &'static str,
    parts: [Part<'a>; 1],
}

#[derive(Serialize)]
struct SystemInstruction<'a> {
    parts: [Part<'a>; 1],
}

#[derive(Serialize)]
struct Part<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
}

fn request_body(request: &LlmRequest) -> RequestBody<'_> {
    let contents = request
        .messages
        .iter()
        .map(|m| Content {
            role: match m.role {
                Role::User => "user",
                Role::Assistant => "model",
            },
            parts: [Part { text: &m.content }],
        })
        .collect();
    let system_instruction = request
        .system
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|text| SystemInstruction {
            parts: [Part { text }],
        });
    let generation_config = (request.temperature.is_some() || request.max_output_tokens.is_some())
        .then_some(GenerationConfig {
            temperature: request.temperature,
            max_output_tokens: request.max_output_tokens,
        });
    RequestBody {
        contents,
        system_instruction,
        generation_config,
    }
}

// ---- response ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Chunk {
    candidates: Option<Vec<Candidate>>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    model_version: Option<String>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Candidate {
    content: Option<CandidateContent>,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CandidateContent {
    parts: Option<Vec<ResponsePart>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResponsePart {
    text: Option<String>,
    thought: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct UsageMetadata {
    prompt_token_count: Option<u32>,
    candidates_token_count: Option<u32>,
}

/// Finish reasons that mean the output was filtered.
const FILTER_REASONS: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
];

struct GeminiParser {
    provider: String,
    model: String,
    usage: Option<Usage>,
    text_sent: bool,
    done: bool,
}

impl GeminiParser {
    fn new(provider: &str, model: &str) -> Self {
        GeminiParser {
            provider: provider.to_owned(),
            model: model.to_owned(),
            usage: None,
            text_sent: false,
            done: false,
        }
    }

    fn fail(&mut self, error: LlmError, out: &mut Outbox) {
        self.done = true;
        out.push_back(Err(error));
    }

    fn finish(&mut self, reason: &str, out: &mut Outbox) {
        self.done = true;
        let reason = match reason {
            "STOP" => FinishReason::Stop,
            "MAX_TOKENS" => FinishReason::Length,
            r if FILTER_REASONS.contains(&r) => {
                if !self.text_sent {
                    out.push_back(Err(LlmError::new(
                        &self.provider,
                        LlmErrorKind::Blocked,
                        format!("the reply was blocked (finishReason {r})"),
                    )));
                    return;
                }
                FinishReason::ContentFilter(r.to_owned())
            }
            other => FinishReason::Other(other.to_owned()),
        };
        out.push_back(Ok(LlmEvent::Finished(Finish {
            provider: self.provider.clone(),
            model: self.model.clone(),
            reason,
            usage: self.usage,
        })));
    }
}

impl WireParser for GeminiParser {
    fn on_data(&mut self, data: &str, out: &mut Outbox) {
        if self.done {
            return;
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(e) => {
                let error = LlmError::new(
                    &self.provider,
                    LlmErrorKind::Protocol,
                    format!("unreadable stream chunk: {e}"),
                );
                return self.fail(error, out);
            }
        };
        if let Some(error) = chunk.error.as_ref() {
            let body = ErrorBody::from_error_value(error);
            return self.fail(classify(&self.provider, None, body.as_ref(), None), out);
        }
        if let Some(version) = chunk.model_version.filter(|v| !v.is_empty()) {
            self.model = version;
        }
        if let Some(usage) = chunk.usage_metadata {
            self.usage = Some(Usage {
                prompt_tokens: usage.prompt_token_count.unwrap_or(0),
                completion_tokens: usage.candidates_token_count.unwrap_or(0),
            });
        }
        if let Some(reason) = chunk.prompt_feedback.and_then(|f| f.block_reason) {
            let error = LlmError::new(
                &self.provider,
                LlmErrorKind::Blocked,
                format!("the prompt was blocked (blockReason {reason})"),
            );
            return self.fail(error, out);
        }
        let Some(candidate) = chunk.candidates.and_then(|c| c.into_iter().next()) else {
            return;
        };
        let parts = candidate.content.and_then(|c| c.parts).unwrap_or_default();
        let mut text = String::new();
        for part in parts {
            if part.thought != Some(true) {
                if let Some(piece) = part.text {
                    text.push_str(&piece);
                }
            }
        }
        if !text.is_empty() {
            self.text_sent = true;
            out.push_back(Ok(LlmEvent::Delta(text)));
        }
        if let Some(reason) = candidate.finish_reason {
            // The last chunk carries the finish reason and the final usage.
            // Finish now rather than at EOF, so a proxy that keeps the body
            // open cannot turn a complete answer into an idle timeout.
            self.finish(&reason, out);
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn on_end(&mut self, raw_tail: &str, transport_error: Option<LlmError>, out: &mut Outbox) {
        if self.done {
            return;
        }
        let tail_error = (!raw_tail.trim().is_empty())
            .then(|| ErrorBody::parse(raw_tail))
            .flatten();
        let error = match (tail_error, transport_error) {
            (Some(body), _) => classify(&self.provider, None, Some(&body), None),
            (None, Some(error)) => error,
            (None, None) => LlmError::new(
                &self.provider,
                LlmErrorKind::Protocol,
                "the stream ended without a finishReason (truncated)",
            ),
        };
        self.fail(error, out)
    }
}

#[cfg(test)]
mod tests {
    use chatcore::LlmMessage;

    use super::*;

    fn parse(chunks: &[&str]) -> Vec<Result<LlmEvent, LlmError>> {
        let mut parser = GeminiParser::new("gemini", "m");
        let mut out = Outbox::new();
        for chunk in chunks {
            parser.on_data(chunk, &mut out);
        }
        if !parser.is_done() {
            parser.on_end("", None, &mut out);
        }
        out.into_iter().collect()
    }

    #[test]
    fn body_shape() {
        let request = LlmRequest {
            system: Some("Be terse.".into()),
            messages: vec![
                LlmMessage {
                    role: Role::User,
                    content: "Hi".into(),
                },
                LlmMessage {
                    role: Role::Assistant,
                    content: "Hello".into(),
                },
                LlmMessage {
                    role: Role::User,
                    content: "Joke".into(),
                },
            ],
            temperature: Some(0.5),
            max_output_tokens: Some(100),
            timeout: None,
        };
        let value = serde_json::to_value(request_body(&request)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "contents": [
                    {"role": "user", "parts": [{"text": "Hi"}]},
                    {"role": "model", "parts": [{"text": "Hello"}]},
                    {"role": "user", "parts": [{"text": "Joke"}]}
                ],
                "systemInstruction": {"parts": [{"text": "Be terse."}]},
                "generationConfig": {"temperature": 0.5, "maxOutputTokens": 100}
            })
        );
        let bare = serde_json::to_value(request_body(&LlmRequest::default())).unwrap();
        assert_eq!(bare, serde_json::json!({"contents": []}));
    }

    #[test]
    fn max_tokens_without_parts_is_length() {
        let events = parse(&[
            r#"{"candidates":[{"content":{"role":"model"},"finishReason":"MAX_TOKENS"}]}"#,
        ]);
        assert!(
            matches!(&events[0], Ok(LlmEvent::Finished(f)) if f.reason == FinishReason::Length)
        );
    }

    #[test]
    fn thoughts_are_skipped_and_usage_kept() {
        let events = parse(&[
            r#"{"candidates":[{"content":{"parts":[{"text":"hmm","thought":true},{"text":"Hi"}]}}],"usageMetadata":{"promptTokenCount":3}}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":""}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2},"modelVersion":"gemini-x"}"#,
        ]);
        assert_eq!(events.len(), 2);
        assert!(matches!(&events[0], Ok(LlmEvent::Delta(t)) if t == "Hi"));
        match &events[1] {
            Ok(LlmEvent::Finished(f)) => {
                assert_eq!(f.model, "gemini-x");
                assert_eq!(
                    f.usage,
                    Some(Usage {
                        prompt_tokens: 3,
                        completion_tokens: 2
                    })
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn safety_after_text_is_content_filter() {
        let events = parse(&[
            r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}"#,
            r#"{"candidates":[{"finishReason":"RECITATION"}]}"#,
        ]);
        assert!(
            matches!(&events[1], Ok(LlmEvent::Finished(f)) if f.reason == FinishReason::ContentFilter("RECITATION".into()))
        );
    }

    #[test]
    fn unknown_reason_is_other() {
        let events = parse(&[
            r#"{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"NEW_THING"}]}"#,
        ]);
        assert!(
            matches!(&events[1], Ok(LlmEvent::Finished(f)) if f.reason == FinishReason::Other("NEW_THING".into()))
        );
    }

    #[test]
    fn unreadable_chunk_is_protocol() {
        let events = parse(&["{not json"]);
        assert!(matches!(&events[0], Err(e) if e.kind == LlmErrorKind::Protocol));
    }
}
