//! Building the provider chain from configuration: [`ProviderConfig`], read
//! from the environment ([`ProviderConfig::from_env`]) or from any lookup
//! function ([`ProviderConfig::from_lookup`], for tests).
//!
//! | variable | default |
//! |---|---|
//! | `CHATCORE_PROVIDERS` | those with a key, in the order `gemini,openai`; `offline` alone when none has one |
//! | `GEMINI_API_KEY`, `GEMINI_MODEL`, `GEMINI_BASE_URL` | –, `gemini-2.5-flash`, `https://generativelanguage.googleapis.com/v1beta` |
//! | `OPENAI_API_KEY`, `OPENAI_MODEL`, `OPENAI_BASE_URL` | –, `gpt-4o-mini`, `https://api.openai.com/v1` |
//! | `CHATCORE_OFFLINE_DELAY_MS` | `20` |

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chatcore::LlmProvider;

use crate::chain::{ChainConfig, FallbackChain};
use crate::offline::{OfflineProvider, DEFAULT_OFFLINE_DELAY};

/// Default Gemini model.
pub const GEMINI_MODEL_DEFAULT: &str = "gemini-2.5-flash";
/// Default Gemini base URL.
pub const GEMINI_BASE_URL_DEFAULT: &str = "https://generativelanguage.googleapis.com/v1beta";
/// Default OpenAI model.
pub const OPENAI_MODEL_DEFAULT: &str = "gpt-4o-mini";
/// Default OpenAI base URL.
pub const OPENAI_BASE_URL_DEFAULT: &str = "https://api.openai.com/v1";

/// A configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A provider was named but its key variable is not set.
    #[error(
        "provider `{provider}` is listed in CHATCORE_PROVIDERS but {variable} is not set{hint}"
    )]
    MissingKey {
        /// The provider.
        provider: String,
        /// The variable that should hold its key.
        variable: String,
        /// Extra advice (may be empty).
        hint: String,
    },
    /// `CHATCORE_PROVIDERS` names an unknown provider.
    #[error("unknown provider `{0}` in CHATCORE_PROVIDERS (known: gemini, openai, offline)")]
    UnknownProvider(String),
    /// The provider is known but this build left it out.
    #[error("provider `{0}` is not available: chatcore-llm was built without its `{0}` feature")]
    NotCompiled(String),
    /// A provider is listed twice.
    #[error("provider `{0}` is listed twice in CHATCORE_PROVIDERS")]
    Duplicate(String),
    /// `CHATCORE_PROVIDERS` is set but lists nothing.
    #[error("CHATCORE_PROVIDERS is set but names no provider")]
    Empty,
    /// A variable has a value that cannot be used.
    #[error("{variable}: {message}")]
    Invalid {
        /// The variable.
        variable: String,
        /// What is wrong.
        message: String,
    },
}

/// One configured provider. `Debug` never shows keys.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderSpec {
    /// Gemini.
    Gemini {
        /// API key.
        api_key: String,
        /// Model id.
        model: String,
        /// Base URL.
        base_url: String,
    },
    /// OpenAI or a compatible server.
    OpenAi {
        /// API key.
        api_key: String,
        /// Model.
        model: String,
        /// Base URL.
        base_url: String,
    },
    /// The offline stand-in.
    Offline {
        /// Pause between words.
        delay: Duration,
    },
}

impl ProviderSpec {
    /// `gemini`, `openai` or `offline`.
    pub fn name(&self) -> &'static str {
        match self {
            ProviderSpec::Gemini { .. } => "gemini",
            ProviderSpec::OpenAi { .. } => "openai",
            ProviderSpec::Offline { .. } => "offline",
        }
    }

    /// The model it asks for.
    pub fn model(&self) -> &str {
        match self {
            ProviderSpec::Gemini { model, .. } | ProviderSpec::OpenAi { model, .. } => model,
            ProviderSpec::Offline { .. } => "offline",
        }
    }

    /// Builds the provider.
    pub fn build(&self) -> Result<Arc<dyn LlmProvider>, ConfigError> {
        match self {
            #[cfg(feature = "gemini")]
            ProviderSpec::Gemini {
                api_key,
                model,
                base_url,
            } => Ok(Arc::new(
                crate::GeminiProvider::new(api_key.clone())
                    .with_model(model.clone())
                    .with_base_url(base_url.clone()),
            )),
            #[cfg(feature = "openai")]
            ProviderSpec::OpenAi {
                api_key,
                model,
                base_url,
            } => Ok(Arc::new(
                crate::OpenAiProvider::new(api_key.clone())
                    .with_model(model.clone())
                    .with_base_url(base_url.clone()),
            )),
            ProviderSpec::Offline { delay } => {
                Ok(Arc::new(OfflineProvider::new().with_delay(*delay)))
            }
            #[allow(unreachable_patterns)]
            other => Err(ConfigError::NotCompiled(other.name().to_owned())),
        }
    }
}

impl fmt::Debug for ProviderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderSpec::Gemini {
                model, base_url, ..
            }
            | ProviderSpec::OpenAi {
                model, base_url, ..
            } => f
                .debug_struct(self.name())
                .field("api_key", &"[redacted]")
                .field("model", model)
                .field("base_url", base_url)
                .finish(),
            ProviderSpec::Offline { delay } => {
                f.debug_struct("offline").field("delay", delay).finish()
            }
        }
    }
}

/// The providers to chain, in order, plus the chain's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The providers, first preferred.
    pub providers: Vec<ProviderSpec>,
    /// Retries, timeouts and breakers.
    pub chain: ChainConfig,
}

impl ProviderConfig {
    /// Reads the process environment (see the module docs for the variables).
    ///
    /// ```no_run
    /// use chatcore_llm::ProviderConfig;
    ///
    /// let config = ProviderConfig::from_env()?;
    /// println!("{}", config.summary()); // "providers: gemini (gemini-2.5-flash), openai (gpt-4o-mini)"
    /// let chain = config.build()?;
    /// # Ok::<(), chatcore_llm::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (returns `None` for an unset
    /// variable; empty values count as unset).
    ///
    /// ```no_run
    /// use chatcore_llm::ProviderConfig;
    ///
    /// let config = ProviderConfig::from_lookup(|name| match name {
    ///     "CHATCORE_PROVIDERS" => Some("openai,offline".into()),
    ///     "OPENAI_API_KEY" => Some("ollama".into()),
    ///     "OPENAI_BASE_URL" => Some("http://localhost:11434/v1".into()),
    ///     _ => None,
    /// })?;
    /// # Ok::<(), chatcore_llm::ConfigError>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let delay = match get("CHATCORE_OFFLINE_DELAY_MS") {
            None => DEFAULT_OFFLINE_DELAY,
            Some(text) => {
                Duration::from_millis(text.parse::<u64>().map_err(|_| ConfigError::Invalid {
                    variable: "CHATCORE_OFFLINE_DELAY_MS".to_owned(),
                    message: format!("expected a whole number of milliseconds, got `{text}`"),
                })?)
            }
        };
        let names: Vec<String> = match get("CHATCORE_PROVIDERS") {
            Some(list) => {
                let names: Vec<String> = list
                    .split(',')
                    .map(|n| n.trim().to_ascii_lowercase())
                    .filter(|n| !n.is_empty())
                    .collect();
                if names.is_empty() {
                    return Err(ConfigError::Empty);
                }
                names
            }
            None => {
                let mut names = Vec::new();
                if cfg!(feature = "gemini") && get("GEMINI_API_KEY").is_some() {
                    names.push("gemini".to_owned());
                }
                if cfg!(feature = "openai") && get("OPENAI_API_KEY").is_some() {
                    names.push("openai".to_owned());
                }
                if names.is_empty() {
                    names.push("offline".to_owned());
                }
                names
            }
        };
        let mut providers = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(ConfigError::Duplicate(name.clone()));
            }
            let missing = |provider: &str, variable: &str, hint: &str| ConfigError::MissingKey {
                provider: provider.to_owned(),
                variable: variable.to_owned(),
                hint: hint.to_owned(),
            };
            let spec = match name.as_str() {
                "gemini" if !cfg!(feature = "gemini") => return Err(ConfigError::NotCompiled(name.clone())),
                "openai" if !cfg!(feature = "openai") => return Err(ConfigError::NotCompiled(name.clone())),
                "gemini" => ProviderSpec::Gemini {
                    api_key: get("GEMINI_API_KEY").ok_or_else(|| missing("gemini", "GEMINI_API_KEY", ""))?,
                    model: get("GEMINI_MODEL").unwrap_or_else(|| GEMINI_MODEL_DEFAULT.to_owned()),
                    base_url: get("GEMINI_BASE_URL").unwrap_or_else(|| GEMINI_BASE_URL_DEFAULT.to_owned()),
                },
                "openai" => ProviderSpec::OpenAi {
                    api_key: get("OPENAI_API_KEY").ok_or_else(|| {
                        missing(
                            "openai",
                            "OPENAI_API_KEY",
                            " (local servers that ignore the key still need a non-empty value, e.g. `ollama`)",
                        )
                    })?,
                    model: get("OPENAI_MODEL").unwrap_or_else(|| OPENAI_MODEL_DEFAULT.to_owned()),
                    base_url: get("OPENAI_BASE_URL").unwrap_or_else(|| OPENAI_BASE_URL_DEFAULT.to_owned()),
                },
                "offline" => ProviderSpec::Offline { delay },
                _ => return Err(ConfigError::UnknownProvider(name.clone())),
            };
            check_url(&spec)?;
            providers.push(spec);
        }
        Ok(ProviderConfig {
            providers,
            chain: ChainConfig::default(),
        })
    }

    /// `providers: gemini (gemini-2.5-flash), openai (gpt-4o-mini)`. Never
    /// contains a key.
    pub fn summary(&self) -> String {
        let list = self
            .providers
            .iter()
            .map(|p| format!("{} ({})", p.name(), p.model()))
            .collect::<Vec<_>>()
            .join(", ");
        format!("providers: {list}")
    }

    /// True when the only provider is the offline stand-in.
    pub fn is_offline_only(&self) -> bool {
        self.providers
            .iter()
            .all(|p| matches!(p, ProviderSpec::Offline { .. }))
    }

    /// Builds the chain.
    pub fn build(&self) -> Result<FallbackChain, ConfigError> {
        let providers = self
            .providers
            .iter()
            .map(ProviderSpec::build)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FallbackChain::with_config(providers, self.chain))
    }
}

fn check_url(spec: &ProviderSpec) -> Result<(), ConfigError> {
    let (variable, url) = match spec {
        ProviderSpec::Gemini { base_url, .. } => ("GEMINI_BASE_URL", base_url),
        ProviderSpec::OpenAi { base_url, .. } => ("OPENAI_BASE_URL", base_url),
        ProviderSpec::Offline { .. } => return Ok(()),
    };
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            variable: variable.to_owned(),
            message: format!("expected an http:// or https:// URL, got `{url}`"),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<ProviderConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProviderConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn no_keys_means_offline_alone() {
        let c = config(&[("GEMINI_API_KEY", "  ")]).unwrap();
        assert_eq!(
            c.providers,
            vec![ProviderSpec::Offline {
                delay: Duration::from_millis(20)
            }]
        );
        assert!(c.is_offline_only());
        assert_eq!(c.summary(), "providers: offline (offline)");
    }

    #[test]
    #[cfg(all(feature = "gemini", feature = "openai"))]
    fn default_order_is_gemini_then_openai() {
        let c = config(&[("OPENAI_API_KEY", "sk-o"), ("GEMINI_API_KEY", "g-key")]).unwrap();
        assert_eq!(
            c.summary(),
            "providers: gemini (gemini-2.5-flash), openai (gpt-4o-mini)"
        );
        let c = config(&[("OPENAI_API_KEY", "sk-o"), ("OPENAI_MODEL", "llama3")]).unwrap();
        assert_eq!(c.summary(), "providers: openai (llama3)");
        assert!(!format!("{c:?}").contains("sk-o"));
    }

    #[test]
    #[cfg(all(feature = "gemini", feature = "openai"))]
    fn explicit_list_with_overrides() {
        let c = config(&[
            ("CHATCORE_PROVIDERS", "OpenAI, gemini ,offline"),
            ("GEMINI_API_KEY", "g"),
            ("GEMINI_MODEL", "gemini-2.5-pro"),
            ("GEMINI_BASE_URL", "http://127.0.0.1:9/v1beta"),
            ("OPENAI_API_KEY", "o"),
            ("OPENAI_BASE_URL", "http://localhost:11434/v1"),
            ("CHATCORE_OFFLINE_DELAY_MS", "0"),
        ])
        .unwrap();
        assert_eq!(
            c.summary(),
            "providers: openai (gpt-4o-mini), gemini (gemini-2.5-pro), offline (offline)"
        );
        assert_eq!(
            c.providers[1],
            ProviderSpec::Gemini {
                api_key: "g".into(),
                model: "gemini-2.5-pro".into(),
                base_url: "http://127.0.0.1:9/v1beta".into()
            }
        );
        assert_eq!(
            c.providers[2],
            ProviderSpec::Offline {
                delay: Duration::ZERO
            }
        );
        let chain = c.build().unwrap();
        assert_eq!(
            chain.describe(),
            "openai (gpt-4o-mini), gemini (gemini-2.5-pro), offline (offline)"
        );
    }

    #[test]
    #[cfg(all(feature = "gemini", feature = "openai"))]
    fn errors_are_clear() {
        let e = config(&[("CHATCORE_PROVIDERS", "gemini")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "provider `gemini` is listed in CHATCORE_PROVIDERS but GEMINI_API_KEY is not set"
        );
        let e = config(&[("CHATCORE_PROVIDERS", "openai")]).unwrap_err();
        assert!(e.to_string().contains("OPENAI_API_KEY is not set"));
        assert_eq!(
            config(&[("CHATCORE_PROVIDERS", "claude")]).unwrap_err(),
            ConfigError::UnknownProvider("claude".into())
        );
        assert_eq!(
            config(&[("CHATCORE_PROVIDERS", " , ")]).unwrap_err(),
            ConfigError::Empty
        );
        assert_eq!(
            config(&[("CHATCORE_PROVIDERS", "offline,offline")]).unwrap_err(),
            ConfigError::Duplicate("offline".into())
        );
        assert!(matches!(
            config(&[("CHATCORE_OFFLINE_DELAY_MS", "fast")]).unwrap_err(),
            ConfigError::Invalid { .. }
        ));
        assert!(matches!(
            config(&[
                ("OPENAI_API_KEY", "k"),
                ("OPENAI_BASE_URL", "localhost:1234")
            ])
            .unwrap_err(),
            ConfigError::Invalid { .. }
        ));
    }

    #[test]
    #[cfg(not(feature = "gemini"))]
    fn a_provider_left_out_of_the_build_is_reported() {
        let c = config(&[("GEMINI_API_KEY", "g")]).unwrap();
        assert!(c.providers.iter().all(|p| p.name() != "gemini"));
        assert_eq!(
            config(&[("CHATCORE_PROVIDERS", "gemini"), ("GEMINI_API_KEY", "g")]).unwrap_err(),
            ConfigError::NotCompiled("gemini".into())
        );
    }
}
