//! `/ws` against a real server on a free port, driven by a tokio-tungstenite
//! client (Rocket's local client cannot do WebSockets): the harness here,
//! the tests in `lifecycle` (auth, expiry, keep-alive, bad frames),
//! `replies` (send, stop, subscribe) and `sync` (multi-device).

mod lifecycle;
mod replies;
mod sync;

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatcore::testing::{ScriptStep, ScriptedProvider};
use chatcore::{
    AuthService, AuthSession, ChatConfig, ChatService, JwtTokens, LlmErrorKind, LocalEventBus,
    MemoryStore, PasswordHasher, Registration, SessionId, Store, TokenService,
};
use futures_util::{SinkExt, StreamExt};
use rocket::config::LogLevel;
use rocket::fairing::AdHoc;
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

use super::handshake::CLOSE_UNAUTHORIZED;
use super::{routes, MAX_MESSAGE_SIZE};
use crate::dto::UserDto;
use crate::state::{ApiConfig, ApiState};

const SECRET: &[u8] = b"ws-test-secret-ws-test-secret-0123456789";
const WAIT: Duration = Duration::from_secs(5);

type Client = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

struct Setup {
    api: ApiConfig,
    chat: ChatConfig,
    token_ttl: Duration,
    provider: ScriptedProvider,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            api: ApiConfig::default(),
            chat: ChatConfig::default(),
            token_ttl: Duration::from_secs(30 * 60),
            provider: ScriptedProvider::words("scripted", "the quick brown fox", ms(10)),
        }
    }
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

struct Server {
    port: u16,
    state: ApiState,
    shutdown: rocket::Shutdown,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

async fn start(setup: Setup) -> Server {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let tokens = Arc::new(JwtTokens::new(SECRET).with_ttl(setup.token_ttl));
    let hasher = PasswordHasher::insecure_fast_for_tests().unwrap();
    let auth = Arc::new(AuthService::new(Arc::clone(&store), tokens, hasher));
    let chat = ChatService::with_config(
        store,
        setup.provider.shared(),
        Arc::new(LocalEventBus::default()),
        setup.chat,
    );
    let state = ApiState::new(auth, chat).with_config(setup.api);

    let (port_tx, port_rx) = tokio::sync::oneshot::channel();
    let port_tx = Mutex::new(Some(port_tx));
    let config = rocket::Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        log_level: LogLevel::Off,
        ..rocket::Config::debug_default()
    };
    let rocket = rocket::custom(config)
        .manage(state.clone())
        .mount("/", routes())
        .attach(AdHoc::on_liftoff("report port", move |rocket| {
            Box::pin(async move {
                if let Some(tx) = port_tx.lock().unwrap().take() {
                    let _ = tx.send(rocket.config().port);
                }
            })
        }))
        .ignite()
        .await
        .unwrap();
    let shutdown = rocket.shutdown();
    tokio::spawn(rocket.launch());
    let port = timeout(WAIT, port_rx).await.unwrap().unwrap();
    Server {
        port,
        state,
        shutdown,
    }
}

impl Server {
    async fn user(&self, name: &str) -> AuthSession {
        self.state
            .auth
            .register(Registration {
                email: format!("{name}@example.com"),
                password: "correct horse battery".to_owned(),
                username: Some(name.to_owned()),
                display_name: None,
            })
            .await
            .unwrap()
    }

    async fn connect(&self) -> Client {
        let url = format!("ws://127.0.0.1:{}/ws", self.port);
        connect_async(url).await.unwrap().0
    }

    /// A socket past `ready`, and the `ready` frame.
    async fn signed_in(&self, token: &str) -> (Client, Value) {
        let mut ws = self.connect().await;
        send(&mut ws, json!({"type": "auth", "token": token})).await;
        let ready = recv(&mut ws).await;
        assert_eq!(ready["type"], "ready", "{ready}");
        (ws, ready)
    }

    async fn session(&self, who: &AuthSession) -> SessionId {
        self.state
            .chat
            .create_session(who.user.id, Some("test"))
            .await
            .unwrap()
            .id
    }

    async fn stored_reply(&self, who: &AuthSession, session: SessionId) -> chatcore::ChatMessage {
        let found = self
            .state
            .chat
            .get_session(who.user.id, session)
            .await
            .unwrap();
        found.messages.last().cloned().unwrap()
    }
}

async fn send(ws: &mut Client, frame: Value) {
    ws.send(WsMessage::Text(frame.to_string())).await.unwrap();
}

async fn send_text(ws: &mut Client, text: &str) {
    ws.send(WsMessage::Text(text.to_owned())).await.unwrap();
}

/// The next JSON frame (skipping WebSocket pings and pongs).
async fn recv(ws: &mut Client) -> Value {
    loop {
        let message = timeout(WAIT, ws.next())
            .await
            .expect("no frame in time")
            .expect("socket ended")
            .expect("socket failed");
        match message {
            WsMessage::Text(text) => return serde_json::from_str(&text).unwrap(),
            WsMessage::Ping(_) | WsMessage::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The next JSON frame that is not about sessions (their order relative to
/// a reply's frames is not fixed).
async fn recv_reply_frame(ws: &mut Client) -> Value {
    loop {
        let frame = recv(ws).await;
        if frame["type"] != "session_updated" {
            return frame;
        }
    }
}

/// The close code the server ends the socket with; text frames before it fail the test.
async fn close_code(ws: &mut Client) -> u16 {
    loop {
        let message = timeout(WAIT, ws.next()).await.expect("not closed in time");
        match message {
            Some(Ok(WsMessage::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(WsMessage::Close(None))) => return 1005,
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// Every JSON frame received within `period`.
async fn frames_within(ws: &mut Client, period: Duration) -> Vec<Value> {
    let mut frames = Vec::new();
    let deadline = Instant::now() + period;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let WsMessage::Text(text) = message {
            frames.push(serde_json::from_str(&text).unwrap());
        }
    }
    frames
}

/// Reads a followed reply to its end: the frames before `done`/`error`, and that last frame.
async fn read_reply(ws: &mut Client) -> (Vec<Value>, Value) {
    let mut frames = Vec::new();
    loop {
        let frame = recv_reply_frame(ws).await;
        if frame["type"] == "done" || frame["type"] == "error" {
            return (frames, frame);
        }
        frames.push(frame);
    }
}

fn delta_text(frames: &[Value]) -> String {
    frames
        .iter()
        .filter(|f| f["type"] == "delta")
        .map(|f| f["text"].as_str().unwrap())
        .collect()
}

fn time_json(time: chrono::DateTime<chrono::Utc>) -> Value {
    json!(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}
