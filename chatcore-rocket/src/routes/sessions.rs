//! `/chat/sessions*` and `/chat/session/{id}`: create, list, get, rename, delete.

use chatcore::ServiceError;
use rocket::http::uri::Origin;
use rocket::http::Status;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Request, Route, State};

use crate::dto::{CreateSessionBody, MessageDto, RenameBody, SessionDetailDto, SessionDto};
use crate::error::ApiError;
use crate::guard::AuthUser;
use crate::json::ApiJson;
use crate::routes::session_id as session_id_of;
use crate::state::ApiState;

pub(crate) fn routes() -> Vec<Route> {
    routes![create, list, get_one, rename, delete_one, soft_delete]
}

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

/// A JSON page with an optional `Link: <…>; rel="next"` header.
struct Page {
    sessions: Vec<SessionDto>,
    next: Option<String>,
}

impl<'r> Responder<'r, 'static> for Page {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Json(self.sessions).respond_to(req)?;
        if let Some(link) = self.next {
            response.set_raw_header("Link", link);
        }
        Ok(response)
    }
}

fn parse_limit(raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|text| {
        text.trim().parse::<i64>().map_err(|_| {
            ApiError::from(ServiceError::field(
                "limit",
                format!(
                    "must be a whole number between 1 and {}",
                    chatcore::MAX_PAGE_SIZE
                ),
            ))
        })
    })
    .transpose()
}

#[get("/chat/sessions?<limit>&<cursor>")]
async fn list(
    state: &State<ApiState>,
    user: AuthUser,
    origin: &Origin<'_>,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<Page, ApiError> {
    let limit = parse_limit(limit)?;
    let page = state
        .chat
        .list_sessions(user.user.id, limit, cursor)
        .await?;
    let size = limit.unwrap_or(i64::from(chatcore::DEFAULT_PAGE_SIZE));
    let next = page.next_cursor.map(|cursor| {
        format!(
            "<{}?limit={size}&cursor={cursor}>; rel=\"next\"",
            origin.path()
        )
    });
    Ok(Page {
        sessions: page.sessions.into_iter().map(SessionDto::from).collect(),
        next,
    })
}

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

/// `POST /chat/session/{id}`: the spec's soft delete (same as DELETE).
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

#[cfg(test)]
mod tests {
    use super::parse_limit;

    #[test]
    fn limits() {
        assert_eq!(parse_limit(None).unwrap(), None);
        assert_eq!(parse_limit(Some("5")).unwrap(), Some(5));
        assert!(parse_limit(Some("x")).is_err());
        assert!(parse_limit(Some("")).is_err());
        assert_eq!(parse_limit(Some("0")).unwrap(), Some(0));
    }
}
