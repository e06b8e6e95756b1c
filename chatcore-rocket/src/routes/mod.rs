//! The HTTP routes of API.md.

use chatcore::SessionId;
use rocket::Route;

use crate::error::ApiError;

pub(crate) mod auth;
pub(crate) mod health;
pub(crate) mod messages;
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
