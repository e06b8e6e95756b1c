//! A chain over scripted providers with short timeouts, for the chain tests.

use std::sync::Arc;
use std::time::Duration;

use chatcore::testing::ScriptedProvider;
use chatcore::{LlmMessage, LlmProvider, LlmRequest, Role};
use chatcore_llm::{BreakerConfig, ChainConfig, FallbackChain};

/// One user turn, "hi".
pub fn request() -> LlmRequest {
    LlmRequest {
        messages: vec![LlmMessage {
            role: Role::User,
            content: "hi".into(),
        }],
        ..LlmRequest::default()
    }
}

/// Two retries, backoff 100 ms..1 s, connect 2 s, first token 3 s, idle 4 s,
/// breaker after 3 failures for 30 s.
pub fn config() -> ChainConfig {
    ChainConfig {
        max_retries: 2,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        max_retry_after: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        first_token_timeout: Duration::from_secs(3),
        idle_timeout: Duration::from_secs(4),
        breaker: BreakerConfig {
            failure_threshold: 3,
            cooldown: Duration::from_secs(30),
        },
    }
}

/// A chain over `members` with [`config`].
pub fn chain(members: &[&Arc<ScriptedProvider>]) -> FallbackChain {
    chain_with(members, config())
}

/// A chain over `members` with [`config`] but a breaker that opens at the
/// first failure, for 10 s.
pub fn touchy_chain(members: &[&Arc<ScriptedProvider>]) -> FallbackChain {
    let touchy = ChainConfig {
        breaker: BreakerConfig {
            failure_threshold: 1,
            cooldown: Duration::from_secs(10),
        },
        ..config()
    };
    chain_with(members, touchy)
}

fn chain_with(members: &[&Arc<ScriptedProvider>], config: ChainConfig) -> FallbackChain {
    let providers = members
        .iter()
        .map(|p| (*p).clone() as Arc<dyn LlmProvider>)
        .collect();
    FallbackChain::with_config(providers, config)
}
