//! The state every route shares, managed by Rocket.

use std::sync::Arc;
use std::time::Duration;

use chatcore::{AuthService, ChatService, MessengerService};

use crate::error::ApiError;

/// Settings of the HTTP / WebSocket layer.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// How long a new WebSocket may take to send its `auth` frame. Default 10 s.
    pub ws_auth_timeout: Duration,
    /// How long before token expiry `token_expiring` is sent. Default 5 min.
    pub token_expiry_notice: Duration,
    /// Keep-alive interval of idle SSE streams and sockets. Default 15 s.
    pub keepalive: Duration,
    /// How long a socket waits for the bus copy of a message it sent with
    /// `conversation_send` before it answers the `request_id` directly.
    /// Default 3 s.
    pub ws_own_message_wait: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            ws_auth_timeout: Duration::from_secs(10),
            token_expiry_notice: Duration::from_secs(5 * 60),
            keepalive: Duration::from_secs(15),
            ws_own_message_wait: Duration::from_secs(3),
        }
    }
}

/// Services and settings, shared by every route (`&rocket::State<ApiState>`).
///
/// The messenger (API.md Part 2: people, uploads, conversations) is
/// optional: [`ApiState::new`] builds the state of the LLM chat alone, and
/// [`ApiState::with_messenger`] adds it. Without one, the messenger's routes
/// still exist (they are part of the contract and of `/openapi.json`) but
/// answer 503 `unavailable`, and its WebSocket frames an `error` frame with
/// that code.
///
/// Build the [`MessengerService`] over the same [`chatcore::EventBus`] as
/// the [`ChatService`] (`chat.events().clone()`): a socket listens to that
/// bus only.
#[derive(Clone, Debug)]
pub struct ApiState {
    /// Accounts and tokens.
    pub auth: Arc<AuthService>,
    /// Sessions, messages and replies.
    pub chat: ChatService,
    /// Profiles, people search, uploads and conversations, when configured.
    pub messenger: Option<MessengerService>,
    /// HTTP-layer settings.
    pub config: ApiConfig,
    /// The base path chatcore is mounted at, without a trailing slash
    /// (`""` at the root); set by [`crate::Chatcore::attach`].
    pub(crate) base: Arc<str>,
}

impl ApiState {
    /// State over the two services of the LLM chat with default settings
    /// (no messenger).
    pub fn new(auth: Arc<AuthService>, chat: ChatService) -> Self {
        ApiState {
            auth,
            chat,
            messenger: None,
            config: ApiConfig::default(),
            base: Arc::from(""),
        }
    }

    /// Adds the messenger (its routes answer 503 without one).
    pub fn with_messenger(mut self, messenger: MessengerService) -> Self {
        self.messenger = Some(messenger);
        self
    }

    /// Replaces the settings.
    pub fn with_config(mut self, config: ApiConfig) -> Self {
        self.config = config;
        self
    }

    /// The messenger, or 503 `unavailable` when the application has none.
    pub fn messenger(&self) -> Result<&MessengerService, ApiError> {
        self.messenger.as_ref().ok_or_else(|| {
            ApiError::new(
                rocket::http::Status::ServiceUnavailable,
                "unavailable",
                "the messenger is not configured on this server",
            )
        })
    }

    /// The URL path of the avatar stored under `key`: `/avatars/<key>`
    /// below the base path chatcore is mounted at (`/api/avatars/<key>`
    /// under `/api`), so that it can be used as it is in an `<img src>`.
    pub fn avatar_url(&self, key: &str) -> String {
        format!("{}/avatars/{key}", self.base)
    }

    pub(crate) fn set_base(&mut self, base: &str) {
        self.base = Arc::from(base.trim_end_matches('/'));
    }
}
