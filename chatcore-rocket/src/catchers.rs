//! JSON catchers: no HTML error page ever reaches a client.

use rocket::http::Status;
use rocket::request::Request;
use rocket::{catch, catchers, Catcher};

use crate::allow::{not_allowed, ApiPaths};
use crate::error::ApiError;
use crate::guard::stashed;

/// Every catcher chatcore registers (at its base path).
pub(crate) fn all() -> Vec<Catcher> {
    catchers![
        bad_request,
        unauthorized,
        not_found,
        method_not_allowed,
        payload_too_large,
        unprocessable,
        too_many_requests,
        internal,
        default
    ]
}

/// The error body for `status`: the one a guard stashed, else a generic one.
pub(crate) fn error_for(status: Status, req: &Request<'_>) -> ApiError {
    if let Some(error) = stashed(req, status) {
        return error;
    }
    match status.code {
        400 => ApiError::bad_request("the request could not be understood"),
        401 => ApiError::unauthorized("missing or invalid bearer token"),
        403 => ApiError::new(status, "forbidden", "forbidden"),
        404 => ApiError::not_found(format!(
            "no route for {} {}",
            req.method(),
            req.uri().path()
        )),
        405 => ApiError::new(status, "method_not_allowed", "method not allowed"),
        409 => ApiError::new(status, "conflict", "conflict"),
        413 => ApiError::new(status, "payload_too_large", "the request body is too large"),
        422 => ApiError::validation("the request could not be processed"),
        429 => {
            let mut error = ApiError::new(status, "rate_limited", "too many requests");
            error.retry_after = Some(60);
            error
        }
        502 => ApiError::new(status, "llm_unavailable", "no language model could answer"),
        503 => ApiError::new(status, "unavailable", "the service is unavailable"),
        500..=599 => ApiError::internal(),
        _ => {
            let code = status
                .reason()
                .unwrap_or("error")
                .to_ascii_lowercase()
                .replace([' ', '-'], "_");
            let message = status.reason().unwrap_or("error").to_owned();
            ApiError::new(status, &code, message)
        }
    }
}

/// A request that reaches the 400 catcher without having been routed was
/// refused by Rocket itself; on one of chatcore's paths that is a method
/// Rocket does not know (`QUERY`, ...), answered as any other unsupported
/// method: 405 with `Allow`.
#[catch(400)]
fn bad_request(req: &Request<'_>) -> ApiError {
    if req.route().is_none() && stashed(req, Status::BadRequest).is_none() {
        let allow = req
            .rocket()
            .state::<ApiPaths>()
            .and_then(|paths| paths.allow(req.uri().path().as_str()));
        if let Some(allow) = allow {
            return not_allowed("this method", &allow);
        }
    }
    error_for(Status::BadRequest, req)
}

#[catch(401)]
fn unauthorized(req: &Request<'_>) -> ApiError {
    error_for(Status::Unauthorized, req)
}

#[catch(404)]
fn not_found(req: &Request<'_>) -> ApiError {
    error_for(Status::NotFound, req)
}

#[catch(405)]
fn method_not_allowed(req: &Request<'_>) -> ApiError {
    error_for(Status::MethodNotAllowed, req)
}

#[catch(413)]
fn payload_too_large(req: &Request<'_>) -> ApiError {
    error_for(Status::PayloadTooLarge, req)
}

#[catch(422)]
fn unprocessable(req: &Request<'_>) -> ApiError {
    error_for(Status::UnprocessableEntity, req)
}

#[catch(429)]
fn too_many_requests(req: &Request<'_>) -> ApiError {
    error_for(Status::TooManyRequests, req)
}

#[catch(500)]
fn internal(req: &Request<'_>) -> ApiError {
    error_for(Status::InternalServerError, req)
}

#[catch(default)]
fn default(status: Status, req: &Request<'_>) -> ApiError {
    // A status below 400 reaching a catcher is a bug: answer as an error.
    let status = if status.code < 400 {
        Status::InternalServerError
    } else {
        status
    };
    error_for(status, req)
}
