//! [`AuthUser`]: the bearer-token request guard.

use std::sync::Mutex;

use chatcore::{User, VerifiedToken};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use crate::error::ApiError;
use crate::state::ApiState;

/// The signed-in user of a request: `Authorization: Bearer <jwt>` verified by
/// [`chatcore::AuthService::authenticate`]. A missing, malformed, expired or
/// forged token (or one whose user is gone) fails the request with 401
/// `unauthorized` as JSON.
#[derive(Clone, Debug)]
pub struct AuthUser {
    /// The user.
    pub user: User,
    /// The verified token (expiry, id).
    pub token: VerifiedToken,
}

/// An error a guard failed with, kept for the catcher (Rocket does not pass
/// guard errors to catchers).
#[derive(Debug, Default)]
struct StashedError(Mutex<Option<ApiError>>);

/// Keeps `error` for the catcher of this request.
pub(crate) fn stash(req: &Request<'_>, error: ApiError) {
    let slot = req.local_cache(StashedError::default);
    if let Ok(mut slot) = slot.0.lock() {
        *slot = Some(error);
    }
}

/// The error a guard stashed for this request, if its status is `status`.
pub(crate) fn stashed(req: &Request<'_>, status: Status) -> Option<ApiError> {
    let slot = req.local_cache(StashedError::default);
    let guard = slot.0.lock().ok()?;
    guard.as_ref().filter(|e| e.status == status).cloned()
}

/// `Bearer <token>` -> `<token>` (scheme case-insensitive).
pub(crate) fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthUser {
    type Error = ApiError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let result = authenticate(req).await;
        match result {
            Ok(user) => Outcome::Success(user),
            Err(error) => {
                stash(req, error.clone());
                Outcome::Error((error.status, error))
            }
        }
    }
}

async fn authenticate(req: &Request<'_>) -> Result<AuthUser, ApiError> {
    let state = req
        .rocket()
        .state::<ApiState>()
        .ok_or_else(ApiError::internal)?;
    let header = req
        .headers()
        .get_one("Authorization")
        .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
    let token = bearer_token(header)
        .ok_or_else(|| ApiError::unauthorized("expected `Authorization: Bearer <token>`"))?;
    let (user, token) = state.auth.authenticate(token).await?;
    Ok(AuthUser { user, token })
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn parses_bearer_scheme() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
