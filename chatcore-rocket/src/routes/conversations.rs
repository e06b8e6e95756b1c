//! `/conversations*`: create, list, read, rename, members.

use chatcore::ConversationId;
use rocket::http::uri::Origin;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Route, State};

use crate::dto::{AddMembersBody, ConversationDto, CreateConversationBody, RenameBody};
use crate::error::{ApiError, ErrorBody};
use crate::guard::AuthUser;
use crate::json::ApiJson;
use crate::routes::paging::{Page, PageQuery};
use crate::routes::{path_id, ConversationPath};
use crate::state::ApiState;

pub(crate) fn routes() -> Vec<Route> {
    routes![create, list, get_one, rename, add_members, leave]
}

/// A conversation id from a path (malformed: 404).
pub(crate) fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    path_id(raw, "conversation")
}

/// Start a conversation.
///
/// The caller is always a member. One other user and no title makes a
/// `direct` conversation, of which there is only ever one per pair: asking
/// again returns it (200). Anything else is a `group`. Every member's
/// sockets get `conversation_updated`.
#[utoipa::path(
    tag = "conversations",
    operation_id = "create_conversation",
    security(("bearer" = [])),
    request_body = CreateConversationBody,
    responses(
        (status = 201, description = "The new conversation", body = ConversationDto),
        (status = 200, description = "The existing direct conversation with that user", body = ConversationDto),
        (status = 422, description = "No other member, more than 99, an unknown user id (`fields.member_ids`) or a bad title", body = ErrorBody),
    ),
)]
#[post("/conversations", data = "<body>")]
async fn create(
    state: &State<ApiState>,
    user: AuthUser,
    body: Result<ApiJson<CreateConversationBody>, ApiError>,
) -> Result<(Status, Json<ConversationDto>), ApiError> {
    let body = body?.0;
    let created = state
        .messenger()?
        .create_conversation(user.user.id, &body.member_ids, body.title.as_deref())
        .await?;
    let status = if created.created {
        Status::Created
    } else {
        Status::Ok
    };
    Ok((
        status,
        Json(ConversationDto::new(created.conversation, state)),
    ))
}

/// The caller's conversations, most recently active first.
///
/// A `Link` header (rel="next") names the next page when there is one.
#[utoipa::path(
    tag = "conversations",
    operation_id = "list_conversations",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of conversations", body = Vec<ConversationDto>,
            headers(("Link" = String, description = "`</conversations?limit=N&cursor=...>; rel=\"next\"` when more conversations exist"))),
        (status = 422, description = "`limit` or `cursor` is invalid", body = ErrorBody),
    ),
)]
#[get("/conversations?<query..>")]
async fn list(
    state: &State<ApiState>,
    user: AuthUser,
    origin: &Origin<'_>,
    query: PageQuery<'_>,
) -> Result<Page<ConversationDto>, ApiError> {
    let limit = query.limit()?;
    let cursor = query.cursor()?;
    let page = state
        .messenger()?
        .conversations(user.user.id, limit, cursor)
        .await?;
    let items = page
        .conversations
        .into_iter()
        .map(|c| ConversationDto::new(c, state))
        .collect();
    Ok(Page::new(items, origin, limit, page.next_cursor))
}

/// A conversation of the caller.
#[utoipa::path(
    tag = "conversations",
    operation_id = "get_conversation",
    security(("bearer" = [])),
    params(ConversationPath),
    responses((status = 200, description = "The conversation", body = ConversationDto)),
)]
#[get("/conversations/<conversation_id>")]
async fn get_one(
    state: &State<ApiState>,
    user: AuthUser,
    conversation_id: &str,
) -> Result<Json<ConversationDto>, ApiError> {
    let id = self::conversation_id(conversation_id)?;
    let conversation = state.messenger()?.conversation(user.user.id, id).await?;
    Ok(Json(ConversationDto::new(conversation, state)))
}

/// Rename a group.
///
/// A direct conversation has no title (422). Members' sockets get
/// `conversation_updated`.
#[utoipa::path(
    tag = "conversations",
    operation_id = "rename_conversation",
    security(("bearer" = [])),
    params(ConversationPath),
    request_body = RenameBody,
    responses(
        (status = 200, description = "The conversation", body = ConversationDto),
        (status = 422, description = "A bad title, or a direct conversation", body = ErrorBody),
    ),
)]
#[patch("/conversations/<conversation_id>", data = "<body>")]
async fn rename(
    state: &State<ApiState>,
    user: AuthUser,
    conversation_id: &str,
    body: Result<ApiJson<RenameBody>, ApiError>,
) -> Result<Json<ConversationDto>, ApiError> {
    let id = self::conversation_id(conversation_id)?;
    let body = body?.0;
    let conversation = state
        .messenger()?
        .rename_conversation(user.user.id, id, &body.title)
        .await?;
    Ok(Json(ConversationDto::new(conversation, state)))
}

/// Add people to a group.
///
/// At most 100 members in all; a direct conversation cannot grow (422).
/// Members' sockets (the new ones' too) get `conversation_updated`.
#[utoipa::path(
    tag = "conversations",
    operation_id = "add_members",
    security(("bearer" = [])),
    params(ConversationPath),
    request_body = AddMembersBody,
    responses(
        (status = 200, description = "The conversation", body = ConversationDto),
        (status = 422, description = "An unknown user id, too many members, or a direct conversation", body = ErrorBody),
    ),
)]
#[post("/conversations/<conversation_id>/members", data = "<body>")]
async fn add_members(
    state: &State<ApiState>,
    user: AuthUser,
    conversation_id: &str,
    body: Result<ApiJson<AddMembersBody>, ApiError>,
) -> Result<Json<ConversationDto>, ApiError> {
    let id = self::conversation_id(conversation_id)?;
    let body = body?.0;
    let conversation = state
        .messenger()?
        .add_members(user.user.id, id, &body.user_ids)
        .await?;
    Ok(Json(ConversationDto::new(conversation, state)))
}

/// Leave a group.
///
/// The history stays for the others, whose sockets get
/// `conversation_updated`; the caller no longer sees it (404). A direct
/// conversation cannot be left (422).
#[utoipa::path(
    tag = "conversations",
    operation_id = "leave_conversation",
    security(("bearer" = [])),
    params(ConversationPath),
    responses(
        (status = 204, description = "Left"),
        (status = 422, description = "A direct conversation", body = ErrorBody),
    ),
)]
#[delete("/conversations/<conversation_id>/members/me")]
async fn leave(
    state: &State<ApiState>,
    user: AuthUser,
    conversation_id: &str,
) -> Result<Status, ApiError> {
    let id = self::conversation_id(conversation_id)?;
    state
        .messenger()?
        .leave_conversation(user.user.id, id)
        .await?;
    Ok(Status::NoContent)
}
