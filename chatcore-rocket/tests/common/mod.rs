//! A chatcore server on a real port for the HTTP tests, and small helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod messenger;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chatcore::messenger::MediaStores;
use chatcore::testing::ScriptedProvider;
use chatcore::{
    AuthService, ChatConfig, ChatService, EventBus, InMemoryMedia, JwtTokens, LocalDirMedia,
    LocalEventBus, MemoryStore, MessengerConfig, MessengerService, MessengerStore, PasswordHasher,
    Store,
};
use chatcore_rocket::{ApiConfig, ApiState, Chatcore, CorsConfig};
use futures_util::StreamExt;
use reqwest::{Method, Response, StatusCode};
use rocket::config::{LogLevel, Shutdown as ShutdownConfig};
use rocket::fairing::AdHoc;
use serde_json::{json, Value};

pub const SECRET: &[u8] = b"http-tests-secret-http-tests-secret-0123";

/// Which database a test server uses.
pub enum Db {
    /// A temporary SQLite file (the default), with its messenger store.
    Sqlite,
    /// A fresh PostgreSQL database from chatcore-sqlx's harness, with its
    /// messenger store.
    Postgres,
    /// A given store (no messenger: its routes answer 503).
    Given(Arc<dyn Store>),
    /// chatcore's `MemoryStore`, for the LLM chat and the messenger.
    Memory,
}

pub struct Options {
    pub db: Db,
    pub provider: ScriptedProvider,
    pub login_limit: u32,
    pub messages_per_minute: u32,
    pub cors: Option<CorsConfig>,
    pub base: &'static str,
    pub keepalive: Duration,
    /// Where the messenger keeps uploads (`avatars/`, `images/` below it);
    /// `None`: in memory.
    pub uploads: Option<PathBuf>,
    /// Rocket's `temp_dir` (`None`: the system's).
    pub temp_dir: Option<PathBuf>,
    /// The messenger's per-user message limit (0: off).
    pub conversation_messages_per_minute: u32,
    /// The messenger's image limit (`None`: its default, 5 MiB).
    pub media_max_bytes: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            db: Db::Sqlite,
            provider: ScriptedProvider::words(
                "scripted",
                "Hello there, how are you today?",
                Duration::ZERO,
            ),
            login_limit: 10,
            messages_per_minute: 0,
            cors: None,
            base: "/",
            keepalive: Duration::from_secs(15),
            uploads: None,
            temp_dir: None,
            conversation_messages_per_minute: 0,
            media_max_bytes: None,
        }
    }
}

impl Options {
    /// The default options on `db`.
    pub fn on(db: Db) -> Self {
        Options {
            db,
            ..Options::default()
        }
    }
}

pub struct TestServer {
    /// `http://127.0.0.1:PORT` plus the base path, without a trailing slash.
    pub url: String,
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    pub http: reqwest::Client,
    pub provider: Arc<ScriptedProvider>,
    pub tokens: Arc<JwtTokens>,
    pub state: ApiState,
    /// The messenger, when the store has one.
    pub messenger: Option<MessengerService>,
    shutdown: rocket::Shutdown,
    /// Keeps the test database (a SQLite file's directory) alive.
    _guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

pub fn rocket_config() -> rocket::Config {
    rocket::Config {
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        log_level: LogLevel::Off,
        shutdown: ShutdownConfig {
            ctrlc: false,
            signals: HashSet::new(),
            grace: 1,
            mercy: 1,
            ..ShutdownConfig::default()
        },
        ..rocket::Config::debug_default()
    }
}

/// Launches `rocket` on 127.0.0.1 port 0; returns the port and a shutdown handle.
pub async fn launch(rocket: rocket::Rocket<rocket::Build>) -> (u16, rocket::Shutdown) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let rocket = rocket.attach(AdHoc::on_liftoff("test port", move |r| {
        Box::pin(async move {
            let _ = tx.send(r.config().port);
        })
    }));
    let ignited = rocket.ignite().await.expect("ignite");
    let shutdown = ignited.shutdown();
    tokio::spawn(async move {
        if let Err(error) = ignited.launch().await {
            eprintln!("test server failed: {error}");
        }
    });
    let port = tokio::time::timeout(Duration::from_secs(20), rx)
        .await
        .expect("liftoff in time")
        .expect("port");
    (port, shutdown)
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        Self::try_with(options)
            .await
            .expect("PostgreSQL test database")
    }

    /// Like [`TestServer::with`]; `None` when PostgreSQL was asked for and
    /// chatcore-sqlx's harness says to skip (`CHATCORE_SKIP_PG=1` outside CI).
    pub async fn try_with(options: Options) -> Option<Self> {
        let (store, messenger_store, guard): (Arc<dyn Store>, Option<Arc<dyn MessengerStore>>, _) =
            match options.db {
                Db::Sqlite => {
                    let dir = tempfile::tempdir().unwrap();
                    let url = format!("sqlite://{}", dir.path().join("chatcore.db").display());
                    let stores = chatcore_sqlx::connect_stores(&url).await.unwrap();
                    let guard: Box<dyn std::any::Any + Send + Sync> = Box::new(dir);
                    (stores.store, Some(stores.messenger), Some(guard))
                }
                Db::Postgres => {
                    let Some(store) = chatcore_sqlx::testing::pg_test_store().await else {
                        eprintln!("PostgreSQL unavailable and skipping allowed: test skipped");
                        return None;
                    };
                    let stores = chatcore_sqlx::Stores::of(store);
                    (stores.store, Some(stores.messenger), None)
                }
                Db::Given(store) => (store, None, None),
                Db::Memory => {
                    let store = Arc::new(MemoryStore::new());
                    (store.clone(), Some(store), None)
                }
            };
        let tokens = Arc::new(JwtTokens::new(SECRET));
        let auth = AuthService::new(
            Arc::clone(&store),
            tokens.clone(),
            PasswordHasher::insecure_fast_for_tests().unwrap(),
        )
        .with_login_limit(options.login_limit);
        let provider = options.provider.shared();
        let config = ChatConfig {
            messages_per_minute: options.messages_per_minute,
            flush_interval: Duration::from_millis(100),
            ..ChatConfig::default()
        };
        let bus: Arc<dyn EventBus> = Arc::new(LocalEventBus::new(256));
        let chat = ChatService::with_config(store, provider.clone(), bus.clone(), config);
        let auth = Arc::new(auth);
        let mut state = ApiState::new(auth.clone(), chat).with_config(ApiConfig {
            keepalive: options.keepalive,
            ..ApiConfig::default()
        });
        let messenger = messenger_store.map(|store| {
            let media = match &options.uploads {
                Some(dir) => MediaStores {
                    avatars: Arc::new(LocalDirMedia::new(dir.join("avatars")).unwrap()),
                    images: Arc::new(LocalDirMedia::new(dir.join("images")).unwrap()),
                },
                None => MediaStores {
                    avatars: Arc::new(InMemoryMedia::new()),
                    images: Arc::new(InMemoryMedia::new()),
                },
            };
            let mut config = MessengerConfig::default()
                .with_messages_per_minute(options.conversation_messages_per_minute);
            if let Some(bytes) = options.media_max_bytes {
                config = config.with_media_max_bytes(bytes);
            }
            MessengerService::with_config(store, media, bus, auth, config)
        });
        if let Some(messenger) = &messenger {
            state = state.with_messenger(messenger.clone());
        }
        let mut rocket_config = rocket_config();
        if let Some(dir) = &options.temp_dir {
            rocket_config.temp_dir = dir.clone().into();
        }
        let rocket = Chatcore::new(state.clone())
            .cors(options.cors)
            .attach(rocket::custom(rocket_config), options.base);
        let (port, shutdown) = launch(rocket).await;
        let origin = format!("http://127.0.0.1:{port}");
        let url = format!("{origin}{}", options.base.trim_end_matches('/'));
        Some(TestServer {
            url,
            origin,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            provider,
            tokens,
            state,
            messenger,
            shutdown,
            _guard: guard,
        })
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.request(Method::POST, path, token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Registers `name@example.com` and returns its token.
    pub async fn register(&self, name: &str) -> String {
        let response = self
            .post(
                "/auth/register",
                None,
                &json!({ "email": format!("{name}@example.com"), "password": "correct horse battery" }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a session and returns its id.
    pub async fn session(&self, token: &str) -> String {
        let response = self.post("/chat/sessions", Some(token), &json!({})).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// `GET /chat/sessions/{id}` as JSON.
    pub async fn history(&self, token: &str, session: &str) -> Value {
        let response = self
            .get(&format!("/chat/sessions/{session}"), Some(token))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Waits until the session's last message is no longer `streaming`.
    pub async fn final_reply(&self, token: &str, session: &str) -> Value {
        for _ in 0..200 {
            let history = self.history(token, session).await;
            let last = history["messages"]
                .as_array()
                .unwrap()
                .last()
                .cloned()
                .unwrap();
            if last["status"] != "streaming" {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the reply never finished");
    }
}

/// Asserts an error response: status, JSON body with the code.
pub async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "body {body}");
    assert!(body["error"]["message"].is_string(), "body {body}");
    body
}

/// One parsed server-sent event.
#[derive(Clone, Debug)]
pub struct Sse {
    pub event: String,
    pub data: Value,
}

/// Incremental SSE reader over a response body.
pub struct SseReader {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl SseReader {
    pub fn new(response: Response) -> Self {
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        SseReader {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped); `None` at the end of the stream.
    pub async fn next(&mut self) -> Option<Sse> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer[..end].to_owned();
                self.buffer.drain(..end + 2);
                let mut event = String::from("message");
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event = name.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data.join("\n")).unwrap();
                return Some(Sse { event, data });
            }
            match tokio::time::timeout(Duration::from_secs(20), self.stream.next()).await {
                Ok(Some(Ok(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Some(Err(error))) => panic!("SSE read failed: {error}"),
                Ok(None) => return None,
                Err(_) => panic!("no SSE event within 20 s"),
            }
        }
    }

    /// Every remaining event.
    pub async fn all(mut self) -> Vec<Sse> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }
}

/// One `#[tokio::test]` per store for each scenario `async fn name(db: Db)`:
/// `name::memory`, `name::sqlite` and `name::postgres` (skipped only where
/// chatcore-sqlx's harness allows it, `CHATCORE_SKIP_PG=1` outside CI).
#[macro_export]
macro_rules! on_every_store {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    super::$scenario($crate::common::Db::Memory).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$scenario($crate::common::Db::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$scenario($crate::common::Db::Postgres).await;
                }
            }
        )*
    };
}
