//! [`FallbackChain`]: an [`LlmProvider`] over an ordered list of providers.
//!
//! Rules (see the crate README for the reasoning):
//! - Members are tried in order. A member whose circuit breaker is open is
//!   skipped.
//! - Before the first token, a `RateLimited`, `Unavailable` or `Protocol`
//!   failure is retried on the same member (at most `max_retries` times,
//!   exponential backoff with jitter, at least the provider's `retry_after`).
//!   A `retry_after` longer than `max_retry_after` falls back instead.
//! - `Auth`, `QuotaExhausted`, `BadRequest`, `Timeout` and `Other` fall back
//!   to the next member at once.
//! - `Blocked` ends the request: another provider is not asked to answer a
//!   prompt one provider refused.
//! - Once a member produced its first event, the chain is committed to it: a
//!   later failure or idle timeout is returned with `output_sent = true` and
//!   the chain does not continue on another member.
//! - When every member failed, one `AllFailed` error lists each failure.
//!
//! [`LlmProvider::complete`] (small side requests such as titles) follows
//! rules of its own (`chain/complete.rs`): members in order, skipping those
//! cooling down, each with the request's `timeout` and no retries, falling
//! over on any failure but `Blocked`, and never touching the breakers, so a
//! failing side request cannot open a circuit or otherwise affect replies.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chatcore::{
    Completion, LlmError, LlmErrorKind, LlmEvent, LlmProvider, LlmRequest, LlmStream,
    ProviderState, ProviderStatus,
};
use futures_util::StreamExt;
use rand::Rng;
use tokio::time::{timeout, timeout_at, Instant};

use crate::breaker::{Admission, Breaker, BreakerConfig};

mod complete;

/// Retry, timeout and breaker settings of a [`FallbackChain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainConfig {
    /// Retries per member per request, before its first token. Default 2.
    pub max_retries: u32,
    /// First backoff delay; doubled on each retry. Default 250 ms.
    pub backoff_base: Duration,
    /// Cap of the backoff delay. Default 4 s.
    pub backoff_max: Duration,
    /// A provider's `retry_after` longer than this falls back instead of
    /// waiting. Default 10 s.
    pub max_retry_after: Duration,
    /// Time for a member to answer with response headers (its `stream()` call
    /// to return). Default 10 s.
    pub connect_timeout: Duration,
    /// Time from the start of an attempt to its first event. Default 30 s.
    pub first_token_timeout: Duration,
    /// Longest silence between events once output started. Default 30 s.
    pub idle_timeout: Duration,
    /// Circuit breaker of each member.
    pub breaker: BreakerConfig,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            max_retries: 2,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            first_token_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            breaker: BreakerConfig::default(),
        }
    }
}

struct Member {
    provider: Arc<dyn LlmProvider>,
    breaker: Breaker,
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("provider", &self.provider.name())
            .field("model", &self.provider.model())
            .field("breaker", &self.breaker)
            .finish()
    }
}

/// An ordered list of providers with retries, timeouts, fallback and
/// circuit breakers. It is itself an [`LlmProvider`]; cloning it shares the
/// members and their breakers.
#[derive(Clone, Debug)]
pub struct FallbackChain {
    members: Arc<[Arc<Member>]>,
    config: ChainConfig,
    model: String,
}

impl FallbackChain {
    /// A chain over `providers` (first is preferred) with default settings.
    ///
    /// ```no_run
    /// # #[cfg(all(feature = "gemini", feature = "openai"))]
    /// # fn main() {
    /// use std::sync::Arc;
    /// use chatcore::LlmProvider;
    /// use chatcore_llm::{FallbackChain, GeminiProvider, OfflineProvider, OpenAiProvider};
    ///
    /// let chain = FallbackChain::new(vec![
    ///     Arc::new(GeminiProvider::new("gemini-key")) as Arc<dyn LlmProvider>,
    ///     Arc::new(OpenAiProvider::new("openai-key")),
    ///     Arc::new(OfflineProvider::new()),
    /// ]);
    /// println!("providers: {}", chain.describe());
    /// # }
    /// # #[cfg(not(all(feature = "gemini", feature = "openai")))]
    /// # fn main() {}
    /// ```
    pub fn new(providers: Vec<Arc<dyn LlmProvider>>) -> Self {
        Self::with_config(providers, ChainConfig::default())
    }

    /// A chain with explicit settings.
    pub fn with_config(providers: Vec<Arc<dyn LlmProvider>>, config: ChainConfig) -> Self {
        let model = providers
            .iter()
            .map(|p| p.model().to_owned())
            .collect::<Vec<_>>()
            .join(",");
        let members = providers
            .into_iter()
            .map(|provider| {
                Arc::new(Member {
                    provider,
                    breaker: Breaker::new(config.breaker),
                })
            })
            .collect();
        FallbackChain {
            members,
            config,
            model,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The members, in order.
    pub fn providers(&self) -> Vec<Arc<dyn LlmProvider>> {
        self.members.iter().map(|m| m.provider.clone()).collect()
    }

    /// `gemini (gemini-2.5-flash), openai (gpt-4o-mini)`: for logs and
    /// start-up banners. Holds no secrets.
    pub fn describe(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("{} ({})", m.provider.name(), m.provider.model()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .config
            .backoff_base
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
            .min(self.config.backoff_max);
        let half = exp / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let jittered = half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms));
        jittered.max(retry_after.unwrap_or_default())
    }

    /// One attempt: call the member and wait for its first event.
    async fn attempt(&self, member: &Member, request: &LlmRequest) -> Result<Opened, LlmError> {
        let name = member.provider.name();
        let started = Instant::now();
        let first_deadline = started + self.config.first_token_timeout;
        let connect = timeout(
            self.config.connect_timeout,
            member.provider.stream(request.clone()),
        );
        let mut stream = match timeout_at(first_deadline, connect).await {
            Ok(Ok(result)) => result?,
            Ok(Err(_)) => {
                return Err(LlmError::new(
                    name,
                    LlmErrorKind::Timeout,
                    format!(
                        "no response within the connect timeout ({:?})",
                        self.config.connect_timeout
                    ),
                ))
            }
            Err(_) => return Err(first_token_timeout(name, self.config.first_token_timeout)),
        };
        match timeout_at(first_deadline, stream.next()).await {
            Err(_) => Err(first_token_timeout(name, self.config.first_token_timeout)),
            Ok(None) => Err(LlmError::new(
                name,
                LlmErrorKind::Protocol,
                "the stream ended before any output",
            )),
            Ok(Some(Err(error))) => Err(error),
            Ok(Some(Ok(first))) => Ok(Opened { first, stream }),
        }
    }

    /// Tries one member with its retries. Ok when it produced a first event.
    async fn try_member(
        &self,
        member: &Member,
        probe: bool,
        request: &LlmRequest,
    ) -> Result<Opened, (LlmError, u32)> {
        let name = member.provider.name();
        let max_attempts = if probe {
            1
        } else {
            1 + self.config.max_retries
        };
        let mut attempt = 1;
        loop {
            tracing::debug!(provider = name, attempt, probe, "calling provider");
            let error = match self.attempt(member, request).await {
                Ok(opened) => return Ok(opened),
                Err(error) => error,
            };
            let retryable = matches!(
                error.kind,
                LlmErrorKind::RateLimited | LlmErrorKind::Unavailable | LlmErrorKind::Protocol
            );
            if !retryable || attempt >= max_attempts {
                return Err((error, attempt));
            }
            if let Some(wait) = error
                .retry_after
                .filter(|w| *w > self.config.max_retry_after)
            {
                tracing::warn!(provider = name, kind = ?error.kind, retry_after = ?wait, "provider asks for a long pause; falling back instead of waiting");
                return Err((error, attempt));
            }
            let delay = self.backoff(attempt, error.retry_after);
            tracing::warn!(provider = name, attempt, kind = ?error.kind, delay = ?delay, error = %error.message, "retrying provider");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn open(&self, request: &LlmRequest) -> Result<(Opened, Arc<Member>), LlmError> {
        let mut failures: Vec<String> = Vec::new();
        let mut shortest_hint: Option<Duration> = None;
        for member in self.members.iter() {
            let name = member.provider.name();
            let model = member.provider.model();
            let probe = match member.breaker.admit() {
                Admission::Skip(remaining) => {
                    tracing::info!(provider = name, remaining = ?remaining, "skipping provider: circuit open");
                    failures.push(skipped(member, remaining));
                    continue;
                }
                Admission::Probe => {
                    tracing::info!(provider = name, "probing provider after its cooldown");
                    true
                }
                Admission::Normal => false,
            };
            match self.try_member(member, probe, request).await {
                Ok(opened) => {
                    member.breaker.success();
                    tracing::info!(provider = name, model, "provider is answering");
                    return Ok((opened, member.clone()));
                }
                Err((error, attempts)) => {
                    if matches!(error.kind, LlmErrorKind::Blocked | LlmErrorKind::BadRequest) {
                        // The service is up; the request was the problem.
                        member.breaker.success();
                    } else if member.breaker.failure() {
                        tracing::warn!(provider = name, cooldown = ?self.config.breaker.cooldown, "circuit opened");
                    }
                    if error.kind == LlmErrorKind::Blocked {
                        tracing::warn!(provider = name, error = %error.message, "request blocked; not falling back");
                        return Err(error);
                    }
                    tracing::warn!(provider = name, kind = ?error.kind, attempts, error = %error.message, "provider failed; falling back");
                    if error.kind == LlmErrorKind::RateLimited {
                        shortest_hint = match (shortest_hint, error.retry_after) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                    failures.push(failed(member, &error, attempts));
                }
            }
        }
        let error = all_failed(&failures).with_retry_after(shortest_hint);
        tracing::error!(message = %error.message, "no provider could answer");
        Err(error)
    }
}

/// The failure line of a member skipped by its breaker.
fn skipped(member: &Member, remaining: Duration) -> String {
    format!(
        "{} ({}): skipped, cooling down for {}s after repeated failures",
        member.provider.name(),
        member.provider.model(),
        remaining.as_secs().max(1)
    )
}

/// The failure line of a member that failed after `attempts` attempts.
fn failed(member: &Member, error: &LlmError, attempts: u32) -> String {
    let tries = if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    };
    format!(
        "{} ({}): {:?}{tries}: {}",
        member.provider.name(),
        member.provider.model(),
        error.kind,
        error.message
    )
}

/// The `AllFailed` error listing each member's failure.
fn all_failed(failures: &[String]) -> LlmError {
    let message = if failures.is_empty() {
        "the chain has no providers".to_owned()
    } else {
        format!("all providers failed: {}", failures.join("; "))
    };
    LlmError::new("chain", LlmErrorKind::AllFailed, message)
}

fn first_token_timeout(name: &str, limit: Duration) -> LlmError {
    LlmError::new(
        name,
        LlmErrorKind::Timeout,
        format!("no output within the first-token timeout ({limit:?})"),
    )
}

struct Opened {
    first: LlmEvent,
    stream: LlmStream,
}

struct Relay {
    first: Option<LlmEvent>,
    stream: LlmStream,
    member: Arc<Member>,
    idle: Duration,
    sent: bool,
    done: bool,
}

impl Relay {
    async fn next(&mut self) -> Option<Result<LlmEvent, LlmError>> {
        if self.done {
            return None;
        }
        let name = self.member.provider.name();
        let item = match self.first.take() {
            Some(first) => Ok(first),
            None => match timeout(self.idle, self.stream.next()).await {
                Ok(Some(item)) => item,
                Ok(None) => Err(LlmError::new(
                    name,
                    LlmErrorKind::Protocol,
                    "the stream ended without a finish",
                )),
                Err(_) => Err(LlmError::new(
                    name,
                    LlmErrorKind::Timeout,
                    format!("no data for the idle timeout ({:?})", self.idle),
                )),
            },
        };
        match item {
            Ok(LlmEvent::Delta(text)) => {
                self.sent = true;
                Some(Ok(LlmEvent::Delta(text)))
            }
            Ok(LlmEvent::Finished(finish)) => {
                self.done = true;
                tracing::info!(provider = %finish.provider, model = %finish.model, reason = ?finish.reason, usage = ?finish.usage, "reply finished");
                Some(Ok(LlmEvent::Finished(finish)))
            }
            Err(error) => {
                self.done = true;
                let error = error.with_output_sent(self.sent);
                self.member.breaker.failure();
                tracing::warn!(provider = name, kind = ?error.kind, output_sent = error.output_sent, error = %error.message, "provider failed after output started; not falling back");
                Some(Err(error))
            }
        }
    }
}

#[async_trait]
impl LlmProvider for FallbackChain {
    fn name(&self) -> &str {
        "chain"
    }

    /// The members' models, comma separated.
    fn model(&self) -> &str {
        &self.model
    }

    /// Returns once a member produced its first event (or every member
    /// failed); the stream then relays that member only.
    async fn stream(&self, request: LlmRequest) -> Result<LlmStream, LlmError> {
        let (opened, member) = self.open(&request).await?;
        let relay = Relay {
            first: Some(opened.first),
            stream: opened.stream,
            member,
            idle: self.config.idle_timeout,
            sent: false,
            done: false,
        };
        Ok(Box::pin(futures_util::stream::unfold(
            relay,
            |mut relay| async move {
                let item = relay.next().await?;
                Some((item, relay))
            },
        )))
    }

    /// A whole answer from the first member that gives one: no retries, no
    /// breaker bookkeeping, each member limited to the request's `timeout`
    /// (the chain's first-token timeout when it has none). See the module
    /// documentation.
    async fn complete(&self, request: LlmRequest) -> Result<Completion, LlmError> {
        self.complete_once(request).await
    }

    fn status(&self) -> Vec<ProviderStatus> {
        let mut out = Vec::new();
        for member in self.members.iter() {
            let cooling = member.breaker.is_cooling_down();
            for mut status in member.provider.status() {
                if cooling {
                    status.state = ProviderState::CoolingDown;
                }
                out.push(status);
            }
        }
        out
    }
}
