//! `/conversations/{id}/messages` and `/conversations/{id}/read`.

use chatcore::messenger::SendMessage;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};

use crate::dto::{CMessageDto, ReadBody, SendConversationMessageBody};
use crate::error::{ApiError, ErrorBody};
use crate::guard::AuthUser;
use crate::json::ApiJson;
use crate::routes::conversations::conversation_id;
use crate::routes::query::MessagesQuery;
use crate::routes::ConversationPath;
use crate::state::ApiState;

pub(crate) fn routes() -> Vec<Route> {
    routes![send, list, read]
}

/// Send a message to a conversation.
///
/// Text, an image the caller uploaded (`image_id`), or both. It gets the
/// conversation's next `seq` and is pushed to every member's sockets as
/// `conversation_message`. The same `client_id` again returns the first
/// message (200) and stores and pushes nothing.
#[utoipa::path(
    tag = "conversations",
    operation_id = "send_conversation_message",
    security(("bearer" = [])),
    params(ConversationPath),
    request_body = SendConversationMessageBody,
    responses(
        (status = 201, description = "The stored message", body = CMessageDto),
        (status = 200, description = "The message first sent with this `client_id`", body = CMessageDto),
        (status = 422, description = "No text and no image, a bad text or `client_id`, or an `image_id` that is not the caller's upload", body = ErrorBody),
        (status = 429, description = "Message limit reached (120 a minute by default)", body = ErrorBody),
    ),
)]
#[post("/conversations/<conversation_id>/messages", data = "<body>")]
async fn send(
    state: &State<ApiState>,
    user: AuthUser,
    conversation_id: &str,
    body: Result<ApiJson<SendConversationMessageBody>, ApiError>,
) -> Result<(Status, Json<CMessageDto>), ApiError> {
    let id = self::conversation_id(conversation_id)?;
    let body = body?.0;
    let send = SendMessage {
        text: body.text,
        image_id: body.image_id,
        client_id: body.client_id,
    };
    let sent = state
        .messenger()?
        .send_message(user.user.id, id, send)
        .await?;
    let status = if sent.created {
        Status::Created
    } else {
        Status::Ok
    };
    Ok((status, Json(CMessageDto::from(sent.message))))
}

/// Messages of a conversation, in ascending `seq`.
///
/// With `after=n` the first `limit` messages after n (what a client that
/// holds everything up to n missed); with `before=n` the last `limit`
/// before n; with neither the last `limit`.
#[utoipa::path(
    tag = "conversations",
    operation_id = "list_conversation_messages",
    security(("bearer" = [])),
    params(ConversationPath, MessagesQuery),
    responses(
        (status = 200, description = "The messages", body = Vec<CMessageDto>),
        (status = 422, description = "`after`, `before` or `limit` is invalid, or both `after` and `before` are given", body = ErrorBody),
    ),
)]
#[get("/conversations/<conversation_id>/messages?<query..>")]
async fn list(
    state: &State<ApiState>,
    user: AuthUser,
    conversation_id: &str,
    query: MessagesQuery<'_>,
) -> Result<Json<Vec<CMessageDto>>, ApiError> {
    let id = self::conversation_id(conversation_id)?;
    let query = query.query()?;
    let messages = state.messenger()?.messages(user.user.id, id, query).await?;
    Ok(Json(messages.into_iter().map(CMessageDto::from).collect()))
}

/// Mark the conversation read up to `seq`.
///
/// Clamped to the latest message; a read pointer never moves back. When it
/// moves, members' sockets get `read`.
#[utoipa::path(
    tag = "conversations",
    operation_id = "mark_read",
    security(("bearer" = [])),
    params(ConversationPath),
    request_body = ReadBody,
    responses((status = 204, description = "Recorded")),
)]
#[post("/conversations/<conversation_id>/read", data = "<body>")]
async fn read(
    state: &State<ApiState>,
    user: AuthUser,
    conversation_id: &str,
    body: Result<ApiJson<ReadBody>, ApiError>,
) -> Result<Status, ApiError> {
    let id = self::conversation_id(conversation_id)?;
    let body = body?.0;
    state
        .messenger()?
        .mark_read(user.user.id, id, body.seq)
        .await?;
    Ok(Status::NoContent)
}
