//! [`OpenAiProvider`]: OpenAI Chat Completions and compatible servers
//! (Ollama's `/v1`, llama.cpp `llama-server`, vLLM, gateways).
//!
//! `POST {base}/chat/completions` with `stream: true` and
//! `stream_options.include_usage`, Bearer auth, the stream terminated by
//! `data: [DONE]`.

use std::time::Duration;

use async_trait::async_trait;
use chatcore::{
    Finish, FinishReason, LlmError, LlmErrorKind, LlmEvent, LlmProvider, LlmRequest, LlmStream,
    Role, Usage,
};
use serde::{Deserialize, Serialize};

use crate::config::{OPENAI_BASE_URL_DEFAULT, OPENAI_MODEL_DEFAULT};
use crate::error_class::{classify, classify_response, classify_transport, ErrorBody};
use crate::wire::{self, build_client, join_url, ApiKey, Outbox, WireParser};

/// The request field that carries the output-token limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaxTokensField {
    /// `max_completion_tokens` (OpenAI; required by reasoning models).
    MaxCompletionTokens,
    /// `max_tokens` (what most local servers understand).
    MaxTokens,
}

/// A provider that speaks OpenAI's Chat Completions protocol.
#[derive(Clone, Debug)]
pub struct OpenAiProvider {
    name: String,
    model: String,
    base_url: String,
    key: ApiKey,
    client: reqwest::Client,
    max_tokens_field: Option<MaxTokensField>,
}

impl OpenAiProvider {
    /// A provider for `gpt-4o-mini` at `https://api.openai.com/v1`.
    ///
    /// ```no_run
    /// use chatcore_llm::OpenAiProvider;
    ///
    /// // OpenAI itself:
    /// let openai = OpenAiProvider::new(std::env::var("OPENAI_API_KEY").unwrap_or_default());
    /// // A local Ollama server (the key is ignored but must not be empty):
    /// let ollama = OpenAiProvider::new("ollama")
    ///     .with_name("ollama")
    ///     .with_base_url("http://localhost:11434/v1")
    ///     .with_model("llama3.2");
    /// ```
    pub fn new(api_key: impl Into<String>) -> Self {
        OpenAiProvider {
            name: "openai".to_owned(),
            model: OPENAI_MODEL_DEFAULT.to_owned(),
            base_url: OPENAI_BASE_URL_DEFAULT.to_owned(),
            key: ApiKey::new(api_key),
            client: build_client(wire::DEFAULT_CONNECT_TIMEOUT),
            max_tokens_field: None,
        }
    }

    /// Uses another model.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Uses another base URL (up to and including `/v1`).
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

    /// Uses this HTTP client.
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// Chooses the output-token limit field. By default it is
    /// `max_completion_tokens` for `api.openai.com` and `max_tokens` for
    /// every other server.
    pub fn with_max_tokens_field(mut self, field: MaxTokensField) -> Self {
        self.max_tokens_field = Some(field);
        self
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Decodes a Chat Completions SSE body obtained elsewhere (recorded traffic, a proxy, a
    /// benchmark) exactly as a live response would be; no request is sent.
    ///
    /// ```no_run
    /// use bytes::Bytes;
    /// use chatcore_llm::OpenAiProvider;
    ///
    /// let recorded: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"data: ..."))];
    /// let stream = OpenAiProvider::new("unused").decode_sse(futures_util::stream::iter(recorded));
    /// ```
    pub fn decode_sse<S>(&self, body: S) -> LlmStream
    where
        S: futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static,
    {
        let parser = OpenAiParser::new(&self.name, &self.model);
        wire::sse_stream(
            &self.name,
            &self.key,
            wire::foreign_body(&self.name, body),
            parser,
        )
    }

    fn max_tokens_field(&self) -> MaxTokensField {
        self.max_tokens_field.unwrap_or_else(|| {
            if self.base_url.contains("://api.openai.com") {
                MaxTokensField::MaxCompletionTokens
            } else {
                MaxTokensField::MaxTokens
            }
        })
    }
}

#[async_trait]
impl LlmProvider for OpenAiProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn stream(&self, request: LlmRequest) -> Result<LlmStream, LlmError> {
        let url = join_url(&self.base_url, "chat/completions");
        tracing::debug!(provider = %self.name, model = %self.model, turns = request.messages.len(), "calling chat completions");
        let body = request_body(&self.model, &request, self.max_tokens_field());
        let response = self
            .client
            .post(url)
            .bearer_auth(self.key.expose())
            .header("accept", "text/event-stream")
            .json(&body)
            .send()
            .await
            .map_err(|e| classify_transport(&self.name, e))?;
        if !response.status().is_success() {
            let mut error = classify_response(&self.name, response).await;
            error.message = self.key.redact(&error.message);
            return Err(error);
        }
        let parser = OpenAiParser::new(&self.name, &self.model);
        let body = wire::response_body(&self.name, response);
        Ok(wire::sse_stream(&self.name, &self.key, body, parser))
    }
}

// ---- request ----

#[derive(Serialize)]
struct RequestBody<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    stream: bool,
    stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

fn request_body<'a>(
    model: &'a str,
    request: &'a LlmRequest,
    field: MaxTokensField,
) -> RequestBody<'a> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = request.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(Message {
            role: "system",
            content: system,
        });
    }
    messages.extend(request.messages.iter().map(|m| Message {
        role: match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        },
        content: &m.content,
    }));
    let (max_completion_tokens, max_tokens) = match field {
        MaxTokensField::MaxCompletionTokens => (request.max_output_tokens, None),
        MaxTokensField::MaxTokens => (None, request.max_output_tokens),
    };
    RequestBody {
        model,
        messages,
        stream: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
        temperature: request.temperature,
        max_completion_tokens,
        max_tokens,
    }
}

// ---- response ----

#[derive(Deserialize, Default)]
#[serde(default)]
struct Chunk {
    choices: Option<Vec<Choice>>,
    usage: Option<ChunkUsage>,
    model: Option<String>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Choice {
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Delta {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChunkUsage {
    prompt_tokens: Option<u32>,
    completion_tokens: Option<u32>,
}

struct OpenAiParser {
    provider: String,
    model: String,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    text_sent: bool,
    done: bool,
}

impl OpenAiParser {
    fn new(provider: &str, model: &str) -> Self {
        OpenAiParser {
            provider: provider.to_owned(),
            model: model.to_owned(),
            finish_reason: None,
            usage: None,
            text_sent: false,
            done: false,
        }
    }

    fn fail(&mut self, error: LlmError, out: &mut Outbox) {
        self.done = true;
        out.push_back(Err(error));
    }

    fn finish(&mut self, out: &mut Outbox) {
        self.done = true;
        let reason = match self.finish_reason.take().as_deref() {
            Some("stop") => FinishReason::Stop,
            Some("length") => FinishReason::Length,
            Some("content_filter") if !self.text_sent => {
                let error = LlmError::new(
                    &self.provider,
                    LlmErrorKind::Blocked,
                    "the reply was blocked (finish_reason content_filter)",
                );
                out.push_back(Err(error));
                return;
            }
            Some("content_filter") => FinishReason::ContentFilter("content_filter".to_owned()),
            Some(other) => FinishReason::Other(other.to_owned()),
            None => {
                tracing::warn!(provider = %self.provider, "[DONE] without a finish_reason; treating it as a stop");
                FinishReason::Stop
            }
        };
        out.push_back(Ok(LlmEvent::Finished(Finish {
            provider: self.provider.clone(),
            model: self.model.clone(),
            reason,
            usage: self.usage,
        })));
    }
}

impl WireParser for OpenAiParser {
    fn on_data(&mut self, data: &str, out: &mut Outbox) {
        if self.done {
            return;
        }
        if data.trim() == "[DONE]" {
            return self.finish(out);
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
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.model = model;
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(Usage {
                prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                completion_tokens: usage.completion_tokens.unwrap_or(0),
            });
        }
        let Some(choice) = chunk.choices.and_then(|c| c.into_iter().next()) else {
            return;
        };
        if let Some(delta) = choice.delta {
            for piece in [delta.content, delta.refusal].into_iter().flatten() {
                if !piece.is_empty() {
                    self.text_sent = true;
                    out.push_back(Ok(LlmEvent::Delta(piece)));
                }
            }
        }
        if let Some(reason) = choice.finish_reason {
            self.finish_reason = Some(reason);
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn on_end(&mut self, raw_tail: &str, transport_error: Option<LlmError>, out: &mut Outbox) {
        let tail_error = (!raw_tail.trim().is_empty())
            .then(|| ErrorBody::parse(raw_tail))
            .flatten();
        if let Some(body) = tail_error {
            return self.fail(classify(&self.provider, None, Some(&body), None), out);
        }
        if self.finish_reason.is_some() {
            // No [DONE] (or the connection dropped after it was due), but the
            // answer was complete.
            return self.finish(out);
        }
        let error = transport_error.unwrap_or_else(|| {
            LlmError::new(
                &self.provider,
                LlmErrorKind::Protocol,
                "the stream ended without a finish_reason or [DONE] (truncated)",
            )
        });
        self.fail(error, out)
    }
}

#[cfg(test)]
mod tests {
    use chatcore::LlmMessage;

    use super::*;

    fn parse(chunks: &[&str]) -> Vec<Result<LlmEvent, LlmError>> {
        let mut parser = OpenAiParser::new("openai", "m");
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
    fn body_shape_and_token_field() {
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
            max_output_tokens: Some(64),
            timeout: None,
        };
        let value = serde_json::to_value(request_body(
            "gpt",
            &request,
            MaxTokensField::MaxCompletionTokens,
        ))
        .unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "model": "gpt",
                "messages": [
                    {"role": "system", "content": "Be terse."},
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello"},
                    {"role": "user", "content": "Joke"}
                ],
                "stream": true,
                "stream_options": {"include_usage": true},
                "temperature": 0.5,
                "max_completion_tokens": 64
            })
        );
        let local =
            serde_json::to_value(request_body("m", &request, MaxTokensField::MaxTokens)).unwrap();
        assert_eq!(local["max_tokens"], 64);
        assert!(local.get("max_completion_tokens").is_none());
        let provider = OpenAiProvider::new("k").with_base_url("http://localhost:11434/v1");
        assert_eq!(provider.max_tokens_field(), MaxTokensField::MaxTokens);
        assert_eq!(
            OpenAiProvider::new("k").max_tokens_field(),
            MaxTokensField::MaxCompletionTokens
        );
    }

    #[test]
    fn tolerant_of_null_choices_and_unknown_fields() {
        let events = parse(&[
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],"usage":null}"#,
            r#"{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}],"timings":{}}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"length"}]}"#,
            r#"{"choices":null,"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#,
            "[DONE]",
        ]);
        assert_eq!(events.len(), 2);
        match &events[1] {
            Ok(LlmEvent::Finished(f)) => {
                assert_eq!(f.reason, FinishReason::Length);
                assert_eq!(
                    f.usage,
                    Some(Usage {
                        prompt_tokens: 5,
                        completion_tokens: 1
                    })
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn content_filter_without_text_is_blocked() {
        let events = parse(&[
            r#"{"choices":[{"delta":{},"finish_reason":"content_filter"}]}"#,
            "[DONE]",
        ]);
        assert!(matches!(&events[0], Err(e) if e.kind == LlmErrorKind::Blocked));
    }

    #[test]
    fn eof_after_finish_reason_is_success_and_without_is_truncation() {
        let events = parse(&[r#"{"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]}"#]);
        assert!(matches!(&events[1], Ok(LlmEvent::Finished(_))));
        let events = parse(&[r#"{"choices":[{"delta":{"content":"a"}}]}"#]);
        assert!(matches!(&events[1], Err(e) if e.kind == LlmErrorKind::Protocol));
    }
}
