//! `GET /ws`: the real-time channel of API.md ("Real-time channel").
//!
//! # Lifecycle
//!
//! - The socket is upgraded with `rocket_ws`; incoming messages are limited to
//!   `MAX_MESSAGE_SIZE` (a bigger one closes the socket with 1009).
//! - The first client frame must be `{"type":"auth","token":"<jwt>"}` within
//!   `ApiConfig::ws_auth_timeout`. A timeout, a first frame that is not a
//!   valid `auth` frame, or a bad / expired token closes the socket with
//!   **4401** (1011 if the token could not be checked because a dependency is
//!   down). Then `{"type":"ready","user","expires_at"}`.
//! - `token_expiring` is sent `ApiConfig::token_expiry_notice` before the
//!   token expires (at once when already inside that window); at expiry the
//!   socket closes with 4401. An `auth` frame with a fresh token of the same
//!   user is answered with a new `ready` and restarts both timers. A re-auth
//!   that fails gets an `error` frame (`unauthorized`; `forbidden` for another
//!   user's token) and the socket keeps its current token.
//! - A socket idle for `ApiConfig::keepalive` gets a WebSocket Ping; after two
//!   unanswered pings it is closed (1001). A client that does not take a frame
//!   within 30 s is dropped. Server shutdown closes sockets with 1001.
//!
//! # Frames after auth
//!
//! - Text that is not JSON, not an object, or has a missing / unknown `type`:
//!   `error` `bad_request`; a known `type` with missing or mistyped fields
//!   (a malformed UUID, ...): `error` `validation_error` (the REST 400 / 422
//!   split). Binary frames: `bad_request`. The socket stays open.
//! - Every client frame may carry a `request_id` (string of at most 256
//!   characters, or number); it is echoed in the frames answering it.
//! - `send`: as `POST /chat/stream` (same validation, conflict and rate-limit
//!   errors as `error` frames with the REST codes, plus `retry_after` /
//!   `fields` where REST has them). The sender follows the reply.
//! - `subscribe`: `snapshot` (text so far), then the reply's frames; nothing
//!   running: `error` `not_found`. Subscribing again to the same reply
//!   replaces the first subscription (a new snapshot).
//! - `stop`: stops the reply; nothing running: `error` `not_found`. Success
//!   has no frame of its own: followers get `done` (status `stopped`), other
//!   sockets the stored message.
//! - `ping`: `pong`.
//! - A socket follows at most `MAX_FOLLOWED` (32) replies at once
//!   (`error` `rate_limited` beyond).
//! - `conversation_send` {request_id?, conversation_id, text?, image_id?,
//!   client_id?}: as `POST /conversations/{id}/messages` (same rules; its
//!   errors — `validation_error`, `not_found`, `rate_limited` with
//!   `retry_after` — as `error` frames with the `request_id`). The answer is
//!   the message's `conversation_message` frame with the `request_id` (see
//!   "Messenger frames" below).
//! - `typing` {conversation_id}: relayed to the other members as `typing`
//!   {conversation_id, user_id}, at most one per user and conversation
//!   every 2 s (the rest dropped silently); nothing comes back unless it
//!   fails (`not_found` for a conversation the user is not a member of).
//! - Without a messenger on the server, both get `error` `unavailable`.
//!
//! # Following a reply
//!
//! A followed reply produces `delta` {request_id?, session_id, message_id,
//! text}… then `done` {request_id?, session_id, message, provider}, or, on
//! failure, a `message` frame with the stored message (status `error`) then
//! `error` {request_id?, code, message, session_id, message_id}.
//!
//! # Multi-device sync and the no-duplicate rule
//!
//! Each socket subscribes to its user's [`chatcore::EventBus`] and forwards
//! `message`, `session_updated` and `session_deleted` frames, whoever made
//! the change (REST or another socket, the sender's included).
//!
//! **Rule:** a socket reports each message of a reply it follows through the
//! reply path only, never also through the bus. For its own `send` it gets
//! `message` (user message, with `request_id`) and `message` (assistant
//! message, `streaming`, with `request_id`) right after the reply starts, then
//! `delta`… and `done` / `error` carrying the final state; the bus `message`
//! events of those two messages (including the final assistant message) are
//! dropped on that socket. A `subscribe`d reply's assistant message is
//! reported by `snapshot` and `done` / `error`, and its bus events from the
//! subscription on are dropped likewise. This is deterministic: the ids are
//! registered before the socket reads its bus again, and chatcore publishes
//! those events only after the reply started (the final one after the
//! reply's outcome is known). Every other socket of the user receives all of
//! them as plain `message` frames (no `request_id`).
//!
//! # Messenger frames
//!
//! The bus also carries the messenger's events, forwarded to every socket
//! of every member (the sender's own included):
//!
//! - `conversation_message` {request_id?, message}: a message stored in one
//!   of the user's conversations;
//! - `conversation_updated` {conversation}: one was created, renamed or its
//!   members changed. The event names the conversation only; the socket
//!   reads it as its own user (`MessengerService::conversation`, so the
//!   unread count and read pointer are theirs) and sends nothing when that
//!   is `not_found` (they left it);
//! - `read` {conversation_id, user_id, seq}: a member's read pointer moved;
//! - `typing` {conversation_id, user_id}: another member types.
//!
//! **Ordering rule:** on one socket, the `conversation_message` frames of
//! one conversation come in ascending `seq`, each once. chatcore stores and
//! publishes a conversation's messages one at a time, in `seq` order, and
//! a socket forwards its bus in order; so the answer to the socket's own
//! `conversation_send` is not sent from the send's return value (it could
//! overtake a message still queued on the bus): the socket records message
//! id → `request_id` and attaches the `request_id` to that message's bus
//! copy when it comes by. Only when the copy has not come within
//! `ApiConfig::ws_own_message_wait` (3 s: the bus dropped events for a slow
//! reader) is the answer sent directly, and the late copy then dropped. An
//! idempotent repeat (a `client_id` already used: nothing is stored or
//! published) is answered directly with the first message. A send without
//! `request_id` is answered by the plain bus copy. A client that lost its
//! connection asks `GET /conversations/{id}/messages?after=<last seq>` and
//! misses nothing.

mod connection;
mod follows;
mod handshake;
mod own_sends;
mod protocol;
#[cfg(test)]
mod tests;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest};
use rocket::{get, Request, Route, Shutdown, State};
use rocket_ws::{Channel, WebSocket};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Required, Schema};
use utoipa::IntoParams;

use crate::error::{ApiError, ErrorBody};
use crate::state::ApiState;

/// Largest incoming message (and frame): 64 KiB.
pub(crate) const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// The WebSocket route (`GET /ws`), to mount at `/`, and its answer to a
/// `GET` that is not a WebSocket handshake.
pub(crate) fn routes() -> Vec<Route> {
    rocket::routes![connect, not_a_handshake]
}

fn socket_config() -> rocket_ws::Config {
    rocket_ws::Config {
        max_message_size: Some(MAX_MESSAGE_SIZE),
        max_frame_size: Some(MAX_MESSAGE_SIZE),
        ..Default::default()
    }
}

/// The real-time channel (WebSocket).
///
/// The first client frame must be `{"type": "auth", "token"}` within 10 s;
/// then JSON frames (API.md, "Real-time channel").
#[utoipa::path(
    tag = "real-time",
    operation_id = "websocket",
    params(Handshake),
    responses(
        (status = 101, description = "Switching Protocols: the socket is open"),
        (status = 400, description = "Not a WebSocket handshake", body = ErrorBody),
    ),
)]
#[get("/ws")]
fn connect(
    ws: WebSocket,
    _key: ValidKey,
    state: &State<ApiState>,
    shutdown: Shutdown,
) -> Channel<'static> {
    let state = state.inner().clone();
    ws.config(socket_config()).channel(move |socket| {
        Box::pin(async move {
            connection::run(socket, state, shutdown).await;
            Ok(())
        })
    })
}

/// A `Sec-WebSocket-Key` that is what RFC 6455 asks for: the base64 of 16
/// bytes. Anything else is not a handshake (forwarded to the 400 below).
struct ValidKey;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ValidKey {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let valid = req
            .headers()
            .get_one("Sec-WebSocket-Key")
            .and_then(|key| STANDARD.decode(key.trim()).ok())
            .is_some_and(|bytes| bytes.len() == 16);
        if valid {
            Outcome::Success(ValidKey)
        } else {
            Outcome::Forward(Status::BadRequest)
        }
    }
}

/// `GET /ws` without the upgrade headers or with a malformed key (the
/// guards of [`connect`] forward it).
#[get("/ws", rank = 2)]
fn not_a_handshake() -> ApiError {
    ApiError::bad_request(
        "GET /ws opens a WebSocket: send Upgrade: websocket, Connection: Upgrade, \
         Sec-WebSocket-Version: 13 and Sec-WebSocket-Key",
    )
}

/// The request headers of a WebSocket handshake (documentation).
struct Handshake;

impl IntoParams for Handshake {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let header = |name: &str, schema: ObjectBuilder| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .schema(Some(RefOr::T(Schema::Object(schema.build()))))
                .build()
        };
        let exactly = |value: &'static str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([value]))
        };
        vec![
            header("Upgrade", exactly("websocket")),
            header("Connection", exactly("Upgrade")),
            header("Sec-WebSocket-Version", exactly("13")),
            header(
                "Sec-WebSocket-Key",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[A-Za-z0-9+/]{21}[AQgw]==$")),
            ),
        ]
    }
}
