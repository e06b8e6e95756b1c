//! `/chat/send`, `/chat/stream`, stop and re-attach.

use rocket::http::Status;
use rocket::response::stream::EventStream;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Request, Route, State};

use crate::dto::{MessageDto, SendBody, SentReplyDto};
use crate::error::ApiError;
use crate::guard::AuthUser;
use crate::json::ApiJson;
use crate::routes::session_id;
use crate::sse::{self, SseEvents};
use crate::state::ApiState;

pub(crate) fn routes() -> Vec<Route> {
    routes![send, stream, stop, reattach]
}

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

/// Starts a reply and relays it; every error comes before the stream starts.
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

/// Re-attaches to a running reply: `snapshot`, then deltas; 204 when idle.
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
