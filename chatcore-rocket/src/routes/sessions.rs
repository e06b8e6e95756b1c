//! `/chat/sessions*` and `/chat/session/{id}`: create, list, get, rename, delete.

use rocket::http::uri::Origin;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Route, State};

use crate::dto::{CreateSessionBody, MessageDto, RenameBody, SessionDetailDto, SessionDto};
use crate::error::{ApiError, ErrorBody};
use crate::guard::AuthUser;
use crate::json::ApiJson;
use crate::routes::paging::{Page, PageQuery};
use crate::routes::{session_id as session_id_of, SessionPath};
use crate::state::ApiState;

pub(crate) fn routes() -> Vec<Route> {
    routes![create, list, get_one, rename, delete_one, soft_delete]
}

/// Create a chat session.
#[utoipa::path(
    tag = "sessions",
    operation_id = "create_session",
    security(("bearer" = [])),
    request_body = CreateSessionBody,
    responses((status = 201, description = "The session", body = SessionDto)),
)]
#[post("/chat/sessions", data = "<body>")]
async fn create(
    state: &State<ApiState>,
    user: AuthUser,
    body: Result<ApiJson<CreateSessionBody>, ApiError>,
) -> Result<(Status, Json<SessionDto>), ApiError> {
    let body = body?.0;
    let session = state
        .chat
        .create_session(user.user.id, body.title.as_deref())
        .await?;
    Ok((Status::Created, Json(SessionDto::from(&session))))
}

/// The user's sessions, most recently updated first.
///
/// A `Link` header (rel="next") names the next page when there is one.
#[utoipa::path(
    tag = "sessions",
    operation_id = "list_sessions",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of sessions", body = Vec<SessionDto>,
            headers(("Link" = String, description = "`</chat/sessions?limit=N&cursor=...>; rel=\"next\"` when more sessions exist"))),
        (status = 422, description = "`limit` or `cursor` is invalid", body = ErrorBody),
    ),
)]
#[get("/chat/sessions?<query..>")]
async fn list(
    state: &State<ApiState>,
    user: AuthUser,
    origin: &Origin<'_>,
    query: PageQuery<'_>,
) -> Result<Page<SessionDto>, ApiError> {
    let limit = query.limit()?;
    let page = state
        .chat
        .list_sessions(user.user.id, limit, query.cursor()?)
        .await?;
    let items = page.sessions.into_iter().map(SessionDto::from).collect();
    Ok(Page::new(items, origin, limit, page.next_cursor))
}

/// A session and its messages.
#[utoipa::path(
    tag = "sessions",
    operation_id = "get_session",
    security(("bearer" = [])),
    params(SessionPath),
    responses((status = 200, description = "The session and its messages", body = SessionDetailDto)),
)]
#[get("/chat/sessions/<session_id>")]
async fn get_one(
    state: &State<ApiState>,
    user: AuthUser,
    session_id: &str,
) -> Result<Json<SessionDetailDto>, ApiError> {
    let id = session_id_of(session_id)?;
    let found = state.chat.get_session(user.user.id, id).await?;
    Ok(Json(SessionDetailDto {
        session: SessionDto::from(found.session),
        messages: found.messages.into_iter().map(MessageDto::from).collect(),
    }))
}

/// Rename a session (its title is then never replaced by a generated one).
#[utoipa::path(
    tag = "sessions",
    operation_id = "rename_session",
    security(("bearer" = [])),
    params(SessionPath),
    request_body = RenameBody,
    responses((status = 200, description = "The session", body = SessionDto)),
)]
#[patch("/chat/sessions/<session_id>", data = "<body>")]
async fn rename(
    state: &State<ApiState>,
    user: AuthUser,
    session_id: &str,
    body: Result<ApiJson<RenameBody>, ApiError>,
) -> Result<Json<SessionDto>, ApiError> {
    let id = session_id_of(session_id)?;
    let body = body?.0;
    let session = state
        .chat
        .rename_session(user.user.id, id, &body.title)
        .await?;
    Ok(Json(SessionDto::from(&session)))
}

/// Delete a session (soft: its rows stay); a reply running in it is stopped.
#[utoipa::path(
    tag = "sessions",
    operation_id = "delete_session",
    security(("bearer" = [])),
    params(SessionPath),
    responses((status = 204, description = "Deleted")),
)]
#[delete("/chat/sessions/<session_id>")]
async fn delete_one(
    state: &State<ApiState>,
    user: AuthUser,
    session_id: &str,
) -> Result<Status, ApiError> {
    let id = session_id_of(session_id)?;
    state.chat.delete_session(user.user.id, id).await?;
    Ok(Status::NoContent)
}

/// Delete a session (the original spec's route).
///
/// The same as `DELETE /chat/sessions/{session_id}`.
#[utoipa::path(
    tag = "sessions",
    operation_id = "delete_session_by_post",
    security(("bearer" = [])),
    params(SessionPath),
    responses((status = 204, description = "Deleted")),
)]
#[post("/chat/session/<session_id>")]
async fn soft_delete(
    state: &State<ApiState>,
    user: AuthUser,
    session_id: &str,
) -> Result<Status, ApiError> {
    let id = session_id_of(session_id)?;
    state.chat.delete_session(user.user.id, id).await?;
    Ok(Status::NoContent)
}
