//! The API's error body, `{"error": {"code", "message", "fields"?}}`, as a Rocket responder.

use std::io::Cursor;

use chatcore::{FieldErrors, ServiceError};
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::openapi::schemas;

/// An error answer of the API. Every failure a client sees has this shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: Status,
    /// snake_case code (`validation_error`, `not_found`, ...).
    pub code: String,
    /// Human-readable message (never a backend detail or a secret).
    pub message: String,
    /// Per-field detail for validation errors.
    pub fields: Option<FieldErrors>,
    /// `Retry-After` seconds for 429.
    pub retry_after: Option<u64>,
    /// `Allow` header for 405.
    pub allow: Option<String>,
}

/// The error body as written, and as documented (`Error` in the OpenAPI document).
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody<'a> {
    /// What went wrong.
    error: ErrorDetail<'a>,
}

/// `error` of [`ErrorBody`].
#[derive(Serialize, ToSchema)]
#[schema(as = ErrorDetail)]
struct ErrorDetail<'a> {
    /// snake_case code (`validation_error`, `not_found`, ...).
    code: &'a str,
    /// Human-readable message.
    message: &'a str,
    /// The fields at fault, each with its problem (validation errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = schemas::field_errors, required = false)]
    fields: Option<&'a FieldErrors>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: Status, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
            fields: None,
            retry_after: None,
            allow: None,
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Status::BadRequest, "bad_request", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Status::Unauthorized, "unauthorized", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Status::NotFound, "not_found", message)
    }

    /// 422 `validation_error`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(Status::UnprocessableEntity, "validation_error", message)
    }

    /// 500 `internal`.
    pub fn internal() -> Self {
        Self::new(
            Status::InternalServerError,
            "internal",
            "internal server error",
        )
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let body = ErrorBody {
            error: ErrorDetail {
                code: &self.code,
                message: &self.message,
                fields: self.fields.as_ref(),
            },
        };
        serde_json::to_string(&body).unwrap_or_else(|_| {
            r#"{"error":{"code":"internal","message":"internal server error"}}"#.to_owned()
        })
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match &error {
            ServiceError::Internal(source) => {
                tracing::error!(error = %source, "internal error");
            }
            ServiceError::Unavailable(detail) => tracing::warn!(%detail, "service unavailable"),
            ServiceError::LlmUnavailable(detail) => tracing::warn!(%detail, "llm unavailable"),
            _ => {}
        }
        let status = Status::from_code(error.http_status()).unwrap_or(Status::InternalServerError);
        let mut api = ApiError::new(status, error.code(), error.public_message());
        api.fields = error.fields().cloned();
        if let ServiceError::RateLimited { retry_after } = &error {
            // Round up: never tell a client to come back too early.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            api.retry_after = Some(secs.max(1));
        }
        api
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let body = self.body();
        let mut response = Response::build();
        response
            .status(self.status)
            .header(ContentType::JSON)
            .sized_body(body.len(), Cursor::new(body));
        if let Some(secs) = self.retry_after {
            response.header(Header::new("Retry-After", secs.to_string()));
        }
        if let Some(allow) = self.allow {
            response.header(Header::new("Allow", allow));
        }
        response.ok()
    }
}
