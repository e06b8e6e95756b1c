//! `/chat/send`, `/chat/stream`, stop and re-attach.

use rocket::http::Status;
use rocket::response::stream::EventStream;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Request, Route, State};

use crate::dto::{MessageDto, SendBody, SentReplyDto};
use crate::error::{ApiError, ErrorBody};
use crate::guard::AuthUser;
use crate::json::ApiJson;
use crate::routes::{session_id, SessionPath};
use crate::sse::{self, ReattachEvents, SseEvents, StreamEvents};
use crate::state::ApiState;

pub(crate) fn routes() -> Vec<Route> {
    routes![send, stream, stop, reattach]
}

/// Send a message and wait for the whole reply.
#[utoipa::path(
    tag = "replies",
    operation_id = "send_message",
    security(("bearer" = [])),
    request_body = SendBody,
    responses(
        (status = 200, description = "The stored user message and reply", body = SentReplyDto),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "A reply is already running in this session", body = ErrorBody),
        (status = 429, description = "Message limit reached", body = ErrorBody),
        (status = 502, description = "Every provider failed (the user message and the failed reply are stored)", body = ErrorBody),
    ),
)]
#[post("/chat/send", data = "<body>")]
async fn send(
    state: &State<ApiState>,
    user: AuthUser,
    body: Result<ApiJson<SendBody>, ApiError>,
) -> Result<Json<SentReplyDto>, ApiError> {
    let body = body?.0;
    let reply = state
        .chat
        .send(user.user.id, body.session_id, &body.content)
        .await?;
    Ok(Json(SentReplyDto {
        user_message: MessageDto::from(reply.user_message),
        assistant_message: MessageDto::from(reply.assistant_message),
        provider: reply.provider,
    }))
}

/// Send a message and stream the reply.
///
/// Server-sent events: `message` (the stored user message), `delta`...,
/// then `done` or `error`. Every error status comes before the stream
/// starts.
#[utoipa::path(
    tag = "replies",
    operation_id = "stream_reply",
    security(("bearer" = [])),
    request_body = SendBody,
    responses(
        (status = 200, description = "The reply as it is generated", content_type = "text/event-stream", body = StreamEvents),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "A reply is already running in this session", body = ErrorBody),
        (status = 429, description = "Message limit reached", body = ErrorBody),
    ),
)]
#[post("/chat/stream", data = "<body>")]
async fn stream(
    state: &State<ApiState>,
    user: AuthUser,
    body: Result<ApiJson<SendBody>, ApiError>,
) -> Result<EventStream<SseEvents>, ApiError> {
    let body = body?.0;
    let started = state
        .chat
        .start_reply(user.user.id, body.session_id, &body.content)
        .await?;
    let first = sse::message_event(&started.user_message);
    Ok(sse::relay(
        Some(first),
        started.events,
        state.config.keepalive,
    ))
}

/// Stop the running reply; its partial text is kept as `stopped`.
#[utoipa::path(
    tag = "replies",
    operation_id = "stop_reply",
    security(("bearer" = [])),
    params(SessionPath),
    responses(
        (status = 204, description = "Stopped"),
        (status = 404, description = "No such session, or no reply is running in it", body = ErrorBody),
    ),
)]
#[post("/chat/sessions/<session_id>/stop")]
async fn stop(
    state: &State<ApiState>,
    user: AuthUser,
    session_id: &str,
) -> Result<Status, ApiError> {
    let id = self::session_id(session_id)?;
    state.chat.stop(user.user.id, id).await?;
    Ok(Status::NoContent)
}

/// Re-attach to the running reply.
///
/// Server-sent events: `snapshot` (the text so far), `delta`..., then
/// `done` or `error`; 204 when nothing runs.
#[utoipa::path(
    tag = "replies",
    operation_id = "reattach_reply",
    security(("bearer" = [])),
    params(SessionPath),
    responses(
        (status = 200, description = "The running reply", content_type = "text/event-stream", body = ReattachEvents),
        (status = 204, description = "No reply is running"),
    ),
)]
#[get("/chat/sessions/<session_id>/stream")]
async fn reattach(
    state: &State<ApiState>,
    user: AuthUser,
    session_id: &str,
) -> Result<Reattach, ApiError> {
    let id = self::session_id(session_id)?;
    Ok(match state.chat.attach(user.user.id, id).await? {
        Some(events) => Reattach::Stream(sse::relay(None, events, state.config.keepalive)),
        None => Reattach::Idle,
    })
}

/// The answer of a re-attach: the stream, or 204 when nothing runs.
enum Reattach {
    Stream(EventStream<SseEvents>),
    Idle,
}

impl<'r> Responder<'r, 'r> for Reattach {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'r> {
        match self {
            Reattach::Stream(stream) => stream.respond_to(req),
            Reattach::Idle => Status::NoContent.respond_to(req),
        }
    }
}
