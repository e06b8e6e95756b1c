//! [`FallbackChain`]'s non-streamed answers ([`chatcore::LlmProvider::complete`]),
//! for small side requests such as a session's title.
//!
//! They must never affect replies: no member is retried, and neither a
//! success nor a failure is recorded in the breakers (a member whose breaker
//! is open is skipped, but its probe is not claimed). Each member gets the
//! request's own time limit and its own `complete` (Gemini's
//! `:generateContent`, the collected stream for the others). Any failure
//! falls over to the next member, since nothing was relayed yet, except
//! `Blocked`: another provider is not asked what one refused.

use std::time::Duration;

use chatcore::{Completion, LlmError, LlmErrorKind, LlmRequest};
use tokio::time::timeout;

use super::{all_failed, failed, skipped, FallbackChain};

impl FallbackChain {
    pub(super) async fn complete_once(&self, request: LlmRequest) -> Result<Completion, LlmError> {
        let limit = request.timeout.unwrap_or(self.config.first_token_timeout);
        let mut failures = Vec::new();
        for member in self.members.iter() {
            let name = member.provider.name();
            if let Some(remaining) = member.breaker.cooling_down_for() {
                tracing::debug!(provider = name, remaining = ?remaining, "side request skips provider: circuit open");
                failures.push(skipped(member, remaining));
                continue;
            }
            let error = match timeout(limit, member.provider.complete(request.clone())).await {
                Ok(Ok(completion)) => return Ok(completion),
                Ok(Err(error)) => error,
                Err(_) => time_out(name, limit),
            };
            if error.kind == LlmErrorKind::Blocked {
                tracing::info!(provider = name, error = %error.message, "side request blocked; not falling back");
                return Err(error);
            }
            tracing::info!(provider = name, kind = ?error.kind, error = %error.message, "side request failed; trying the next provider");
            failures.push(failed(member, &error, 1));
        }
        Err(all_failed(&failures))
    }
}

fn time_out(name: &str, limit: Duration) -> LlmError {
    LlmError::new(
        name,
        LlmErrorKind::Timeout,
        format!("no answer within the request's time limit ({limit:?})"),
    )
}
