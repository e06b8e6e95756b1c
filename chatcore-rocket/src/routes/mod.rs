//! The HTTP routes of API.md.

use std::str::FromStr;

use chatcore::SessionId;
use rocket::Route;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::Required;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::openapi::schemas;

pub(crate) mod auth;
pub(crate) mod conversation_messages;
pub(crate) mod conversations;
pub(crate) mod health;
pub(crate) mod media;
pub(crate) mod messages;
pub(crate) mod paging;
pub(crate) mod people;
pub(crate) mod query;
pub(crate) mod sessions;

/// Every REST and SSE route (not the WebSocket, not the 405 fallbacks).
pub(crate) fn all() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(auth::routes());
    routes.extend(sessions::routes());
    routes.extend(messages::routes());
    routes.extend(people::routes());
    routes.extend(media::routes());
    routes.extend(conversations::routes());
    routes.extend(conversation_messages::routes());
    routes.extend(health::routes());
    routes
}

/// An id from a path: malformed is 404 (the resource cannot exist), like
/// an unknown one.
pub(crate) fn path_id<T: FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("{what} not found")))
}

/// The documentation of one id in a path.
fn id_parameter(name: &str, description: &str) -> Vec<Parameter> {
    vec![ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schemas::uuid()))
        .build()]
}

/// The `{user_id}` path parameter (documentation only, as [`SessionPath`]).
pub(crate) struct UserPath;

impl IntoParams for UserPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        id_parameter("user_id", "The user's id (a malformed one is 404)")
    }
}

/// The `{conversation_id}` path parameter (documentation only).
pub(crate) struct ConversationPath;

impl IntoParams for ConversationPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        id_parameter(
            "conversation_id",
            "The conversation's id (a malformed one, or one the caller is not a member of, is 404)",
        )
    }
}

/// The `{media_id}` path parameter (documentation only).
pub(crate) struct MediaPath;

impl IntoParams for MediaPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        id_parameter(
            "media_id",
            "The image's id (a malformed one, or one the caller may not see, is 404)",
        )
    }
}

/// A session id from a path: malformed is 404 (the resource cannot exist).
pub(crate) fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    path_id(raw, "session")
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
