//! LLM providers for chatcore: Gemini, OpenAI-compatible servers, a fallback
//! chain and an offline stand-in, all implementing [`chatcore::LlmProvider`].
//!
//! - [`GeminiProvider`] (feature `gemini`): Gemini API v1beta, SSE streaming.
//! - [`OpenAiProvider`] (feature `openai`): Chat Completions, for OpenAI and
//!   compatible servers (Ollama `/v1`, llama.cpp, vLLM).
//! - [`FallbackChain`]: retries, timeouts, fallback before the first token,
//!   circuit breakers; itself an `LlmProvider`.
//! - [`OfflineProvider`]: no network, no key, deterministic.
//! - [`ProviderConfig`]: builds the chain from `CHATCORE_PROVIDERS`,
//!   `GEMINI_*`, `OPENAI_*` ([`ProviderConfig::from_env`]).
//! - [`sse`]: the SSE decoder both providers share; [`error_class`]: how
//!   HTTP and in-stream errors map to [`chatcore::LlmErrorKind`].
//!
//! ```no_run
//! use chatcore::{LlmProvider, LlmRequest};
//! use chatcore_llm::ProviderConfig;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ProviderConfig::from_env()?;
//! println!("{}", config.summary());
//! let chain = config.build()?;
//! let answer = chain.complete(LlmRequest::default()).await?;
//! println!("{} (from {})", answer.text, answer.finish.provider);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod breaker;
mod chain;
mod config;
pub mod error_class;
mod offline;
pub mod sse;

#[cfg(any(feature = "gemini", feature = "openai"))]
mod wire;

#[cfg(feature = "gemini")]
mod gemini;
#[cfg(feature = "openai")]
mod openai;

pub use breaker::BreakerConfig;
pub use chain::{ChainConfig, FallbackChain};
pub use config::{
    ConfigError, ProviderConfig, ProviderSpec, GEMINI_BASE_URL_DEFAULT, GEMINI_MODEL_DEFAULT,
    OPENAI_BASE_URL_DEFAULT, OPENAI_MODEL_DEFAULT,
};
#[cfg(feature = "gemini")]
pub use gemini::GeminiProvider;
pub use offline::{OfflineProvider, DEFAULT_OFFLINE_DELAY};
#[cfg(feature = "openai")]
pub use openai::{MaxTokensField, OpenAiProvider};
#[cfg(any(feature = "gemini", feature = "openai"))]
pub use wire::{ApiKey, DEFAULT_CONNECT_TIMEOUT};
