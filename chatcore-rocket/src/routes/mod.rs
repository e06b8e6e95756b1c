//! The HTTP routes of API.md.

use chatcore::SessionId;
use rocket::Route;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::Required;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::openapi::schemas;

pub(crate) mod auth;
pub(crate) mod health;
pub(crate) mod messages;
pub(crate) mod paging;
pub(crate) mod sessions;

/// Every REST and SSE route (not the WebSocket, not the 405 fallbacks).
pub(crate) fn all() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(auth::routes());
    routes.extend(sessions::routes());
    routes.extend(messages::routes());
    routes.extend(health::routes());
    routes
}

/// A session id from a path: malformed is 404 (the resource cannot exist).
pub(crate) fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found("session not found"))
}

/// The `{session_id}` path parameter (documentation only: handlers take the
/// raw segment so that a malformed id is 404, not a routing miss).
pub(crate) struct SessionPath;

impl IntoParams for SessionPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("session_id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some("The session's id (a malformed one is 404)"))
            .schema(Some(schemas::uuid()))
            .build()]
    }
}
