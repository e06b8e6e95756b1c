//! The reference server, assembled from the environment (see DESIGN.md):
//!
//! | variable | default |
//! | --- | --- |
//! | `DATABASE_URL` | `sqlite://chatcore.db` (created) |
//! | `ROCKET_ADDRESS`, `ROCKET_PORT` | `127.0.0.1`, `8000` |
//! | `JWT_SECRET` | random, kept in `<db>.jwt-secret` beside the SQLite file |
//! | `CHATCORE_TOKEN_TTL_SECS` | `1800` |
//! | `CHATCORE_PROVIDERS`, `GEMINI_*`, `OPENAI_*`, `CHATCORE_OFFLINE_DELAY_MS` | see chatcore-llm |
//! | `CHATCORE_MESSAGES_PER_MINUTE` | `30` (`0` = off) |
//! | `CHATCORE_LOGIN_LIMIT` | `10` (`0` = off) |
//! | `CHATCORE_UPLOAD_DIR` | `uploads/` beside the SQLite file (the working directory for PostgreSQL or `:memory:`); avatars in `avatars/`, message images in `images/` below it |
//! | `CHATCORE_MEDIA_MAX_BYTES` | `5242880` (5 MiB): largest message image |
//! | `CHATCORE_CONVERSATION_MESSAGES_PER_MINUTE` | `120` (`0` = off): messages a user may send to conversations |
//! | `CHATCORE_TITLE_TIMEOUT_MS` | `5000`: time limit of the provider-generated title (`0` = first words only; always off with the offline provider alone) |
//! | `CHATCORE_WEB_DIR` | `examples/web/dist` when built |
//! | `CHATCORE_CORS_ORIGINS` | unset (CORS off); comma-separated origins or `*` |
//! | `ROCKET_IP_HEADER` | off: the login limit uses the peer address (set it behind a proxy) |
//! | `RUST_LOG`, `CHATCORE_LOG_FORMAT` | `info,rocket=error`; `json` for JSON log lines (on stderr) |

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chatcore::messenger::{MediaStores, DEFAULT_MEDIA_MAX_BYTES, DEFAULT_MESSAGES_PER_MINUTE};
use chatcore::{
    AuthService, ChatConfig, ChatService, EventBus, JwtTokens, LlmProvider, LocalDirMedia,
    LocalEventBus, MessengerConfig, MessengerService, PasswordHasher, DEFAULT_LOGIN_LIMIT,
    DEFAULT_TITLE_TIMEOUT,
};
use chatcore_llm::ProviderConfig;
use chatcore_rocket::{ApiState, Chatcore, CorsConfig};
use rocket::config::LogLevel;
use rocket::fairing::AdHoc;
use rocket::{Build, Rocket};

use crate::secret::{self, SecretSource};
use crate::web;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A variable has a value that cannot be used.
    #[error("{variable}: {message}")]
    Config {
        /// The variable.
        variable: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The provider configuration is wrong.
    #[error("providers: {0}")]
    Providers(#[from] chatcore_llm::ConfigError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] chatcore_sqlx::Error),
    /// The JWT key file could not be read or written.
    #[error("JWT secret file: {0}")]
    Secret(#[from] std::io::Error),
    /// A service failed to start.
    #[error("start-up: {0}")]
    Service(#[from] chatcore::ServiceError),
    /// Password hashing could not be set up.
    #[error("password hashing: {0}")]
    Password(#[from] chatcore::PasswordError),
    /// The upload directory could not be created.
    #[error("upload directory: {0}")]
    Uploads(#[from] chatcore::MediaError),
}

/// Everything the server reads from the environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `JWT_SECRET`, if set.
    pub jwt_secret: Option<String>,
    /// `CHATCORE_TOKEN_TTL_SECS`.
    pub token_ttl: Duration,
    /// `CHATCORE_MESSAGES_PER_MINUTE`.
    pub messages_per_minute: u32,
    /// `CHATCORE_LOGIN_LIMIT`.
    pub login_limit: u32,
    /// `CHATCORE_TITLE_TIMEOUT_MS` (`None` when `0`).
    pub title_timeout: Option<Duration>,
    /// `CHATCORE_WEB_DIR` (or the built UI when present).
    pub web_dir: Option<PathBuf>,
    /// `CHATCORE_CORS_ORIGINS`.
    pub cors: Option<CorsConfig>,
    /// The provider chain.
    pub providers: ProviderConfig,
    /// `CHATCORE_UPLOAD_DIR`, if set (see [`ServerConfig::upload_dir`]).
    pub upload_dir: Option<PathBuf>,
    /// `CHATCORE_MEDIA_MAX_BYTES`.
    pub media_max_bytes: usize,
    /// `CHATCORE_CONVERSATION_MESSAGES_PER_MINUTE`.
    pub conversation_messages_per_minute: u32,
}

/// The default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://chatcore.db";

fn number<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: T,
) -> Result<T, ServerError> {
    match lookup(variable)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| ServerError::Config {
            variable,
            message: format!("expected a whole number, got `{text}`"),
        }),
    }
}

impl ServerConfig {
    /// The chat service's settings. Provider-generated titles are off when
    /// the offline provider answers alone: its title would be an echo, so the
    /// title derived from the first words stays.
    pub fn chat_config(&self) -> ChatConfig {
        let title_timeout = self
            .title_timeout
            .filter(|_| !self.providers.is_offline_only());
        ChatConfig {
            messages_per_minute: self.messages_per_minute,
            title_timeout,
            ..ChatConfig::default()
        }
    }

    /// Where uploads are stored: `CHATCORE_UPLOAD_DIR`, else `uploads/`
    /// beside the SQLite database file, else (PostgreSQL, an in-memory
    /// SQLite) `uploads/` in the working directory.
    pub fn upload_dir(&self) -> PathBuf {
        if let Some(dir) = &self.upload_dir {
            return dir.clone();
        }
        let beside = secret::sqlite_path(&self.database_url)
            .and_then(|db| db.parent().map(|dir| dir.join("uploads")));
        beside.unwrap_or_else(|| PathBuf::from("uploads"))
    }

    /// The messenger's settings.
    pub fn messenger_config(&self) -> MessengerConfig {
        MessengerConfig::default()
            .with_media_max_bytes(self.media_max_bytes)
            .with_messages_per_minute(self.conversation_messages_per_minute)
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ServerError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ServerError> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let ttl: u64 = number(&lookup, "CHATCORE_TOKEN_TTL_SECS", 1800)?;
        if ttl == 0 {
            return Err(ServerError::Config {
                variable: "CHATCORE_TOKEN_TTL_SECS",
                message: "must be at least 1".to_owned(),
            });
        }
        let web_dir = match set("CHATCORE_WEB_DIR") {
            Some(dir) => Some(PathBuf::from(dir)),
            None => {
                let built = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/web/dist"));
                web::is_ui_dir(&built).then_some(built)
            }
        };
        let media_max_bytes: usize =
            number(&lookup, "CHATCORE_MEDIA_MAX_BYTES", DEFAULT_MEDIA_MAX_BYTES)?;
        if media_max_bytes == 0 {
            return Err(ServerError::Config {
                variable: "CHATCORE_MEDIA_MAX_BYTES",
                message: "must be at least 1".to_owned(),
            });
        }
        let title_ms: u64 = number(
            &lookup,
            "CHATCORE_TITLE_TIMEOUT_MS",
            u64::try_from(DEFAULT_TITLE_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
        )?;
        Ok(ServerConfig {
            database_url: set("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            jwt_secret: set("JWT_SECRET"),
            token_ttl: Duration::from_secs(ttl),
            messages_per_minute: number(&lookup, "CHATCORE_MESSAGES_PER_MINUTE", 30)?,
            login_limit: number(&lookup, "CHATCORE_LOGIN_LIMIT", DEFAULT_LOGIN_LIMIT)?,
            title_timeout: (title_ms > 0).then(|| Duration::from_millis(title_ms)),
            web_dir,
            cors: set("CHATCORE_CORS_ORIGINS").and_then(|list| CorsConfig::parse(&list)),
            providers: ProviderConfig::from_lookup(&lookup)?,
            upload_dir: set("CHATCORE_UPLOAD_DIR").map(PathBuf::from),
            media_max_bytes,
            conversation_messages_per_minute: number(
                &lookup,
                "CHATCORE_CONVERSATION_MESSAGES_PER_MINUTE",
                DEFAULT_MESSAGES_PER_MINUTE,
            )?,
        })
    }
}

/// Installs the tracing subscriber: `RUST_LOG` (default `info`), JSON lines
/// when `CHATCORE_LOG_FORMAT=json`.
pub fn init_tracing() {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    // Rocket's own log lines repeat chatcore's per-request line: errors only.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,rocket=error,hyper=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let json = std::env::var("CHATCORE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Where the database lives, for the start-up lines (never credentials).
fn describe_database(url: &str) -> String {
    match secret::sqlite_path(url) {
        Some(path) => format!("SQLite {}", path.display()),
        None if url.starts_with("sqlite") => "SQLite (in memory)".to_owned(),
        None => {
            let host = url
                .split_once('@')
                .map_or_else(|| url.split_once("://").map_or("", |(_, r)| r), |(_, r)| r);
            let host = host.split(['/', '?']).next().unwrap_or("");
            format!("PostgreSQL {host}")
        }
    }
}

/// Connects the store, builds the services, runs recovery and returns the
/// Rocket (not launched). Rocket settings come from `ROCKET_*` / Rocket.toml.
pub async fn build(config: ServerConfig) -> Result<Rocket<Build>, ServerError> {
    let stores = chatcore_sqlx::connect_stores(&config.database_url).await?;
    let store = stores.store;
    let database = describe_database(&config.database_url);

    let secret = secret::resolve(config.jwt_secret.clone(), &config.database_url)?;
    match &secret.source {
        SecretSource::Env if secret.bytes.len() < 32 => {
            tracing::warn!("JWT_SECRET is shorter than 32 bytes; use a longer random value")
        }
        SecretSource::Env => {}
        SecretSource::File(path) => tracing::info!(path = %path.display(), "JWT secret read from file"),
        SecretSource::Created(path) => tracing::warn!(
            path = %path.display(),
            "JWT_SECRET is not set: generated a random key and saved it beside the database; set JWT_SECRET in production"
        ),
        SecretSource::Ephemeral => tracing::warn!(
            "JWT_SECRET is not set: using a random key for this process only; every token becomes invalid when the server restarts"
        ),
    }
    let tokens = Arc::new(JwtTokens::new(&secret.bytes).with_ttl(config.token_ttl));
    let auth = AuthService::new(Arc::clone(&store), tokens, PasswordHasher::new()?)
        .with_login_limit(config.login_limit);

    let auth = Arc::new(auth);
    let chain = config.providers.build()?;
    let provider: Arc<dyn LlmProvider> = Arc::new(chain);
    let bus: Arc<dyn EventBus> = Arc::new(LocalEventBus::new(1024));
    let chat = ChatService::with_config(store, provider, bus.clone(), config.chat_config());
    chat.recover().await?;

    let uploads = config.upload_dir();
    let media = MediaStores {
        avatars: Arc::new(LocalDirMedia::new(uploads.join("avatars"))?),
        images: Arc::new(LocalDirMedia::new(uploads.join("images"))?),
    };
    let messenger = MessengerService::with_config(
        stores.messenger,
        media,
        bus,
        Arc::clone(&auth),
        config.messenger_config(),
    );

    let mut figment = rocket::Config::figment();
    if std::env::var_os("ROCKET_LOG_LEVEL").is_none() {
        // One structured line per request comes from chatcore's fairing;
        // Rocket's own logs would repeat them.
        figment = figment.merge(("log_level", LogLevel::Critical));
    }
    if std::env::var_os("ROCKET_IP_HEADER").is_none() {
        // Without a proxy in front, `X-Real-IP` would let clients choose the
        // IP the login limit counts. Behind one, set ROCKET_IP_HEADER.
        figment = figment.merge(("ip_header", false));
    }
    let mut rocket = rocket::custom(figment);
    if let Some(dir) = &config.web_dir {
        if web::is_ui_dir(dir) {
            rocket = web::mount(rocket, dir);
        } else {
            tracing::warn!(dir = %dir.display(), "CHATCORE_WEB_DIR has no index.html; not serving the UI");
        }
    }
    let summary = config.providers.summary();
    let offline = config.providers.is_offline_only();
    let web_dir = config.web_dir.clone().filter(|d| web::is_ui_dir(d));
    let uploads_shown = uploads.clone();
    let rocket = rocket.attach(AdHoc::on_liftoff("chatcore-server banner", move |rocket| {
        Box::pin(async move {
            let c = rocket.config();
            let scheme = if c.tls_enabled() { "https" } else { "http" };
            println!("chatcore-server listening on {scheme}://{}:{}", c.address, c.port);
            println!("database: {database}");
            println!("uploads: {}", uploads_shown.display());
            println!("{summary}");
            if offline {
                println!("no LLM key configured: the offline provider answers (set GEMINI_API_KEY or OPENAI_API_KEY)");
            }
            match &web_dir {
                Some(dir) => println!("web UI: {}", dir.display()),
                None => println!("web UI: not served (build examples/web or set CHATCORE_WEB_DIR)"),
            }
        })
    }));
    let rocket = rocket.attach(AdHoc::on_shutdown("chatcore-server goodbye", |_| {
        Box::pin(async {
            tracing::info!("shutting down: finishing requests, storing running replies")
        })
    }));
    let state = ApiState::new(auth, chat).with_messenger(messenger);
    Ok(Chatcore::new(state).cors(config.cors).attach(rocket, "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_any_variable() {
        let config = ServerConfig::from_lookup(|_| None).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.token_ttl, Duration::from_secs(1800));
        assert_eq!(config.messages_per_minute, 30);
        assert_eq!(config.login_limit, 10);
        assert!(config.cors.is_none());
        assert!(config.providers.is_offline_only());
        assert_eq!(config.title_timeout, Some(Duration::from_secs(5)));
        assert_eq!(config.media_max_bytes, 5 * 1024 * 1024);
        assert_eq!(config.conversation_messages_per_minute, 120);
        assert_eq!(config.upload_dir(), PathBuf::from("uploads"));
        let messenger = config.messenger_config();
        assert_eq!(messenger.messages_per_minute, 120);
        assert_eq!(messenger.media_max_bytes, 5 * 1024 * 1024);
    }

    #[test]
    fn the_upload_directory_follows_the_database() {
        let config = |vars: &'static [(&'static str, &'static str)]| {
            ServerConfig::from_lookup(move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            })
            .unwrap()
        };
        let beside = config(&[("DATABASE_URL", "sqlite:///var/lib/chat/chat.db")]);
        assert_eq!(beside.upload_dir(), PathBuf::from("/var/lib/chat/uploads"));
        let relative = config(&[("DATABASE_URL", "sqlite://data/chat.db?mode=rwc")]);
        assert_eq!(relative.upload_dir(), PathBuf::from("data/uploads"));
        let memory = config(&[("DATABASE_URL", "sqlite::memory:")]);
        assert_eq!(memory.upload_dir(), PathBuf::from("uploads"));
        let postgres = config(&[("DATABASE_URL", "postgres://u:p@db/chat")]);
        assert_eq!(postgres.upload_dir(), PathBuf::from("uploads"));
        let chosen = config(&[
            ("DATABASE_URL", "sqlite:///var/lib/chat/chat.db"),
            ("CHATCORE_UPLOAD_DIR", "/srv/uploads"),
            ("CHATCORE_MEDIA_MAX_BYTES", "1000"),
            ("CHATCORE_CONVERSATION_MESSAGES_PER_MINUTE", "0"),
        ]);
        assert_eq!(chosen.upload_dir(), PathBuf::from("/srv/uploads"));
        assert_eq!(chosen.messenger_config().media_max_bytes, 1000);
        assert_eq!(chosen.messenger_config().messages_per_minute, 0);
        let zero = |name: &str| (name == "CHATCORE_MEDIA_MAX_BYTES").then(|| "0".to_owned());
        assert!(ServerConfig::from_lookup(zero).is_err());
    }

    #[test]
    fn provider_titles_are_off_with_the_offline_provider_alone() {
        let offline = ServerConfig::from_lookup(|_| None).unwrap();
        assert_eq!(offline.chat_config().title_timeout, None);
        let gemini = |name: &str| (name == "GEMINI_API_KEY").then(|| "key".to_owned());
        let config = ServerConfig::from_lookup(gemini).unwrap();
        assert!(!config.providers.is_offline_only());
        assert_eq!(
            config.chat_config().title_timeout,
            Some(Duration::from_secs(5))
        );
        let off = |name: &str| match name {
            "GEMINI_API_KEY" => Some("key".to_owned()),
            "CHATCORE_TITLE_TIMEOUT_MS" => Some("0".to_owned()),
            _ => None,
        };
        let config = ServerConfig::from_lookup(off).unwrap();
        assert_eq!(config.chat_config().title_timeout, None);
        let chat = config.chat_config();
        assert_eq!(chat.messages_per_minute, 30);
    }

    #[test]
    fn bad_numbers_are_errors() {
        let lookup = |name: &str| (name == "CHATCORE_LOGIN_LIMIT").then(|| "ten".to_owned());
        assert!(ServerConfig::from_lookup(lookup).is_err());
    }

    #[test]
    fn database_descriptions_hide_credentials() {
        let text = describe_database("postgres://user:pw@db.example:5432/chat");
        assert_eq!(text, "PostgreSQL db.example:5432");
        assert_eq!(
            describe_database("sqlite://chatcore.db"),
            "SQLite chatcore.db"
        );
    }
}
