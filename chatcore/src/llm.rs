//! The LLM provider trait: streaming first, with errors a chain can act on.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_core::Stream;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::domain::{Role, Usage};

/// One turn of the conversation sent to a provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmMessage {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

/// What is sent to a provider: the history (ending with the user's turn),
/// an optional system instruction and generation settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmRequest {
    /// System instruction, if any.
    pub system: Option<String>,
    /// The conversation, oldest first; the last turn is the user's.
    pub messages: Vec<LlmMessage>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Upper bound on generated tokens.
    pub max_output_tokens: Option<u32>,
    /// Time limit of a whole non-streamed answer ([`LlmProvider::complete`]),
    /// for small side requests such as titles. A fallback chain gives each
    /// member this long; streamed replies ignore it (a chain's own connect,
    /// first-token and idle timeouts apply to them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

impl LlmRequest {
    /// The content of the last user turn, if any.
    pub fn last_user_text(&self) -> Option<&str> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
    }
}

/// Why a provider stopped generating.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinishReason {
    /// The model finished its answer.
    Stop,
    /// The output-token limit was reached.
    Length,
    /// The provider filtered the output (safety, recitation, ...); the value
    /// is the provider's reason.
    ContentFilter(String),
    /// Any other reason the provider named.
    Other(String),
}

/// The end of a successful stream: who answered, why it stopped, usage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finish {
    /// Name of the provider that answered.
    pub provider: String,
    /// Model that answered.
    pub model: String,
    /// Why it stopped.
    pub reason: FinishReason,
    /// Token usage, when reported.
    pub usage: Option<Usage>,
}

/// An item of a provider stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LlmEvent {
    /// The next piece of text (append it).
    Delta(String),
    /// The stream finished successfully. Nothing follows it.
    Finished(Finish),
}

/// A stream of provider events. A stream that ends without
/// [`LlmEvent::Finished`] was cut off: consumers treat that as a failure.
pub type LlmStream = Pin<Box<dyn Stream<Item = Result<LlmEvent, LlmError>> + Send + 'static>>;

/// What went wrong, in the terms a fallback chain decides on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LlmErrorKind {
    /// The request was rejected as malformed (HTTP 400). Not retryable.
    BadRequest,
    /// The key was refused (401/403). Not retryable on this provider.
    Auth,
    /// The account's quota or credits are exhausted. Not retryable on this provider.
    QuotaExhausted,
    /// Rate limited; retry after a pause.
    RateLimited,
    /// The provider is down or overloaded (5xx, connection refused/reset).
    Unavailable,
    /// Connect, first-token or idle timeout.
    Timeout,
    /// The provider blocked the prompt or the reply for safety or policy.
    Blocked,
    /// The provider's answer could not be understood, or the stream was cut off.
    Protocol,
    /// Every provider of a chain failed; the message lists each failure.
    AllFailed,
    /// Anything else.
    Other,
}

impl LlmErrorKind {
    /// Whether the same provider may succeed if asked again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LlmErrorKind::RateLimited
                | LlmErrorKind::Unavailable
                | LlmErrorKind::Timeout
                | LlmErrorKind::Protocol
        )
    }
}

/// A provider failure: which provider, what happened, whether output had
/// already been sent, and how long to wait before retrying (if known).
#[derive(Clone, Debug, thiserror::Error)]
pub struct LlmError {
    /// Name of the failing provider (or the chain).
    pub provider: String,
    /// The classification.
    pub kind: LlmErrorKind,
    /// Human-readable detail, free of secrets.
    pub message: String,
    /// True when some text of this reply had already been streamed.
    pub output_sent: bool,
    /// The provider's requested pause before a retry.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for LlmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}: {}", self.provider, self.kind, self.message)?;
        if self.output_sent {
            f.write_str(" (after output had been sent)")?;
        }
        Ok(())
    }
}

impl LlmError {
    /// A new error with no output sent and no retry hint.
    pub fn new(
        provider: impl Into<String>,
        kind: LlmErrorKind,
        message: impl Into<String>,
    ) -> Self {
        LlmError {
            provider: provider.into(),
            kind,
            message: message.into(),
            output_sent: false,
            retry_after: None,
        }
    }

    /// Marks whether output had been sent before the failure.
    pub fn with_output_sent(mut self, output_sent: bool) -> Self {
        self.output_sent = output_sent;
        self
    }

    /// Sets the retry hint.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Whether the same provider may succeed if asked again (never after output).
    pub fn is_retryable(&self) -> bool {
        !self.output_sent && self.kind.is_retryable()
    }
}

/// A full (non-streamed) answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The whole text.
    pub text: String,
    /// Who answered and why it stopped.
    pub finish: Finish,
}

/// Health of one provider, for `/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderStatus {
    /// Provider name.
    pub name: String,
    /// Model it uses.
    pub model: String,
    /// Whether it is in use or cooling down after failures.
    pub state: ProviderState,
}

/// See [`ProviderStatus`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderState {
    /// Available.
    Ok,
    /// Skipped by a circuit breaker until its cooldown ends.
    CoolingDown,
}

/// A source of replies. Streaming is the primary operation; dropping the
/// stream cancels the upstream request.
#[async_trait]
pub trait LlmProvider: Send + Sync + 'static {
    /// Short stable name (`gemini`, `openai`, `offline`, ...).
    fn name(&self) -> &str;

    /// The model this provider asks for.
    fn model(&self) -> &str;

    /// Starts generating. Errors before the first event are returned here or
    /// as the stream's first item.
    async fn stream(&self, request: LlmRequest) -> Result<LlmStream, LlmError>;

    /// The whole answer at once. The default collects [`LlmProvider::stream`].
    async fn complete(&self, request: LlmRequest) -> Result<Completion, LlmError> {
        let mut stream = self.stream(request).await?;
        let mut text = String::new();
        while let Some(event) = stream.next().await {
            match event.map_err(|e| e.with_output_sent(!text.is_empty()))? {
                LlmEvent::Delta(piece) => text.push_str(&piece),
                LlmEvent::Finished(finish) => return Ok(Completion { text, finish }),
            }
        }
        Err(LlmError::new(
            self.name(),
            LlmErrorKind::Protocol,
            "the stream ended without a finish",
        )
        .with_output_sent(!text.is_empty()))
    }

    /// The providers behind this one and their state (a chain lists each member).
    fn status(&self) -> Vec<ProviderStatus> {
        vec![ProviderStatus {
            name: self.name().to_owned(),
            model: self.model().to_owned(),
            state: ProviderState::Ok,
        }]
    }
}

#[async_trait]
impl<T: LlmProvider + ?Sized> LlmProvider for Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn model(&self) -> &str {
        (**self).model()
    }
    async fn stream(&self, request: LlmRequest) -> Result<LlmStream, LlmError> {
        (**self).stream(request).await
    }
    async fn complete(&self, request: LlmRequest) -> Result<Completion, LlmError> {
        (**self).complete(request).await
    }
    fn status(&self) -> Vec<ProviderStatus> {
        (**self).status()
    }
}
