//! [`Chatcore`]: mounts chatcore into a Rocket application.

use rocket::fairing::AdHoc;
use rocket::{Build, Rocket, Route};

use crate::allow::{self, ApiPaths};
use crate::cors::{Cors, CorsConfig};
use crate::json::{JsonLimit, DEFAULT_JSON_LIMIT};
use crate::openapi::{self, OpenApiDoc};
use crate::request_id::RequestLog;
use crate::state::ApiState;
use crate::upload::data_form_limit;
use crate::{catchers, routes};

/// Builder that attaches chatcore's routes, JSON catchers, managed state and
/// fairings to any `Rocket<Build>`, under any base path.
///
/// ```no_run
/// use std::sync::Arc;
/// use chatcore::{AuthService, ChatService, JwtTokens, LocalEventBus, MemoryStore, PasswordHasher};
/// use chatcore_rocket::{ApiState, Chatcore, CorsConfig};
/// # fn provider() -> Arc<dyn chatcore::LlmProvider> { unimplemented!() }
///
/// # fn build() -> Result<rocket::Rocket<rocket::Build>, Box<dyn std::error::Error>> {
/// let store = Arc::new(MemoryStore::new());
/// let tokens = Arc::new(JwtTokens::new(b"a secret of at least thirty-two bytes!"));
/// let auth = Arc::new(AuthService::new(store.clone(), tokens, PasswordHasher::new()?));
/// let chat = ChatService::new(store, provider(), Arc::new(LocalEventBus::new(256)));
/// let rocket = Chatcore::new(ApiState::new(auth, chat))
///     .cors(CorsConfig::origins(["http://localhost:5173"]))
///     .attach(rocket::build(), "/api");
/// # Ok(rocket) }
/// ```
///
/// What `attach` adds:
/// - every route of API.md under `base` (plus `/ws`), 405 `method_not_allowed`
///   with `Allow` for their other methods, and `OPTIONS` answering 204;
/// - JSON catchers (400, 401, 404, 405, 413, 422, 429, 500, default) scoped to
///   `base`, so no HTML error page reaches a client of the API;
/// - managed state: the [`ApiState`] and the [`ApiPaths`] (manage neither
///   yourself, and attach chatcore once per Rocket);
/// - with a messenger: Rocket's `limits.data-form` (the largest
///   `multipart/form-data` body, 2 MiB by default) raised to the largest
///   upload plus 64 KiB of framing, never lowered; the upload routes apply
///   their own, smaller limits (avatar, image) to the file itself;
/// - fairings: request id + request log ([`crate::RequestLog`], optional),
///   CORS (when configured), and a shutdown hook that ends running replies
///   as `interrupted` ([`chatcore::ChatService::shutdown`]).
///
/// Rate limits are settings of the services: the login limit of
/// [`chatcore::AuthService::with_login_limit`] and the message limit of
/// [`chatcore::ChatConfig::messages_per_minute`] (0 turns either off).
#[derive(Debug)]
pub struct Chatcore {
    state: ApiState,
    cors: Option<CorsConfig>,
    json_limit: u64,
    request_log: bool,
}

impl Chatcore {
    /// chatcore over these services and settings: no CORS, 64 KiB JSON
    /// limit, request ids and logs on.
    pub fn new(state: ApiState) -> Self {
        Chatcore {
            state,
            cors: None,
            json_limit: DEFAULT_JSON_LIMIT,
            request_log: true,
        }
    }

    /// Allows browsers on other origins (off by default). `None` turns it off.
    pub fn cors(mut self, cors: impl Into<Option<CorsConfig>>) -> Self {
        self.cors = cors.into();
        self
    }

    /// The largest JSON body in bytes (default 64 KiB); larger is 413.
    pub fn json_limit(mut self, bytes: u64) -> Self {
        self.json_limit = bytes;
        self
    }

    /// Whether to attach the request-id / request-log fairing (default on).
    /// It applies to every response of the Rocket, the application's too.
    pub fn request_log(mut self, on: bool) -> Self {
        self.request_log = on;
        self
    }

    /// The state the routes will share.
    pub fn state(&self) -> &ApiState {
        &self.state
    }

    /// The API routes (REST, SSE and WebSocket), unmounted, without the
    /// 405 / OPTIONS fallbacks.
    pub fn api_routes() -> Vec<Route> {
        let mut routes = routes::all();
        routes.extend(crate::ws_routes());
        routes
    }

    /// The OpenAPI 3.1 document of the API as mounted at `base`.
    pub fn openapi(base: &str) -> serde_json::Value {
        serde_json::to_value(openapi::document(base)).unwrap_or_default()
    }

    /// Mounts everything under `base` (`"/"` or a prefix such as `"/api"`).
    pub fn attach(mut self, rocket: Rocket<Build>, base: &str) -> Rocket<Build> {
        self.state.set_base(base);
        let rocket = match &self.state.messenger {
            Some(messenger) => raise_data_form_limit(rocket, data_form_limit(messenger.config())),
            None => rocket,
        };
        let routes = Self::api_routes();
        let groups = allow::group(&routes);
        let mismatches = openapi::mismatches(base, &groups);
        if !mismatches.is_empty() {
            tracing::warn!(?mismatches, "the OpenAPI document and the routes differ");
        }
        let doc = serde_json::to_string(&openapi::document(base)).unwrap_or_default();
        let mut rocket = rocket
            .manage(self.state)
            .manage(JsonLimit(self.json_limit))
            .manage(OpenApiDoc(doc))
            .manage(ApiPaths::new(base, &groups))
            .mount(base, routes)
            .mount(base, allow::fallback_routes(&groups))
            .register(base, catchers::all())
            .attach(AdHoc::on_shutdown(
                "chatcore: store running replies",
                |rocket| {
                    Box::pin(async move {
                        if let Some(state) = rocket.state::<ApiState>() {
                            state.chat.shutdown().await;
                        }
                    })
                },
            ));
        if self.request_log {
            rocket = rocket.attach(RequestLog);
        }
        if let Some(config) = self.cors {
            rocket = rocket.attach(Cors {
                config,
                base: base.to_owned(),
            });
        }
        rocket
    }
}

/// Raises `limits.data-form` of `rocket`'s configuration to at least `bytes`.
fn raise_data_form_limit(rocket: Rocket<Build>, bytes: u64) -> Rocket<Build> {
    let current = rocket
        .figment()
        .extract_inner::<rocket::data::ByteUnit>("limits.data-form")
        .map_or(rocket::data::Limits::DATA_FORM.as_u64(), |limit| {
            limit.as_u64()
        });
    if current >= bytes {
        return rocket;
    }
    let figment = rocket.figment().clone().merge(("limits.data-form", bytes));
    rocket.configure(figment)
}
