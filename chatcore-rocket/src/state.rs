//! The state every route shares, managed by Rocket.

use std::sync::Arc;
use std::time::Duration;

use chatcore::{AuthService, ChatService};

/// Settings of the HTTP / WebSocket layer.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// How long a new WebSocket may take to send its `auth` frame. Default 10 s.
    pub ws_auth_timeout: Duration,
    /// How long before token expiry `token_expiring` is sent. Default 5 min.
    pub token_expiry_notice: Duration,
    /// Keep-alive interval of idle SSE streams and sockets. Default 15 s.
    pub keepalive: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            ws_auth_timeout: Duration::from_secs(10),
            token_expiry_notice: Duration::from_secs(5 * 60),
            keepalive: Duration::from_secs(15),
        }
    }
}

/// Services and settings, shared by every route (`&rocket::State<ApiState>`).
#[derive(Clone, Debug)]
pub struct ApiState {
    /// Accounts and tokens.
    pub auth: Arc<AuthService>,
    /// Sessions, messages and replies.
    pub chat: ChatService,
    /// HTTP-layer settings.
    pub config: ApiConfig,
}

impl ApiState {
    /// State over the two services with default settings.
    pub fn new(auth: Arc<AuthService>, chat: ChatService) -> Self {
        ApiState {
            auth,
            chat,
            config: ApiConfig::default(),
        }
    }

    /// Replaces the settings.
    pub fn with_config(mut self, config: ApiConfig) -> Self {
        self.config = config;
        self
    }
}
