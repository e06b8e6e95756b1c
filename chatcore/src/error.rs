//! The error type of chatcore's services, one variant per kind of answer a
//! client gets.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::time::Duration;

use crate::llm::LlmError;
use crate::password::PasswordError;
use crate::store::{ConflictKind, StoreError};
use crate::tokens::TokenError;

/// Field name → what is wrong with it.
pub type FieldErrors = BTreeMap<String, String>;

/// What a service call can fail with. Each variant maps to one HTTP status
/// and error code of the API (see [`ServiceError::code`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Input broke a rule (422 `validation_error`).
    #[error("{message}")]
    Validation {
        /// Summary.
        message: String,
        /// Per-field detail.
        fields: FieldErrors,
    },
    /// Missing, invalid or expired credentials (401 `unauthorized`).
    #[error("{0}")]
    Unauthorized(String),
    /// The thing does not exist or is not the caller's (404 `not_found`).
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with the current state (409 `conflict`).
    #[error("{message}")]
    Conflict {
        /// Summary.
        message: String,
        /// Per-field detail (e.g. which unique field is taken).
        fields: FieldErrors,
    },
    /// An upload is larger than allowed (413 `payload_too_large`).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// An upload is not of an accepted type (415 `unsupported_media_type`).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many requests (429 `rate_limited`).
    #[error("too many requests; retry in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// When to try again.
        retry_after: Duration,
    },
    /// Every provider failed (502 `llm_unavailable`).
    #[error("the language model is unavailable: {0}")]
    LlmUnavailable(LlmError),
    /// A dependency is down (503 `unavailable`).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected backend failure (500 `internal`); the source is
    /// for logs only.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

impl ServiceError {
    /// The API's snake_case error code.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Validation { .. } => "validation_error",
            ServiceError::Unauthorized(_) => "unauthorized",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Conflict { .. } => "conflict",
            ServiceError::PayloadTooLarge(_) => "payload_too_large",
            ServiceError::UnsupportedMediaType(_) => "unsupported_media_type",
            ServiceError::RateLimited { .. } => "rate_limited",
            ServiceError::LlmUnavailable(_) => "llm_unavailable",
            ServiceError::Unavailable(_) => "unavailable",
            ServiceError::Internal(_) => "internal",
        }
    }

    /// The HTTP status that goes with [`ServiceError::code`].
    pub fn http_status(&self) -> u16 {
        match self {
            ServiceError::Validation { .. } => 422,
            ServiceError::Unauthorized(_) => 401,
            ServiceError::NotFound(_) => 404,
            ServiceError::Conflict { .. } => 409,
            ServiceError::PayloadTooLarge(_) => 413,
            ServiceError::UnsupportedMediaType(_) => 415,
            ServiceError::RateLimited { .. } => 429,
            ServiceError::LlmUnavailable(_) => 502,
            ServiceError::Unavailable(_) => 503,
            ServiceError::Internal(_) => 500,
        }
    }

    /// The per-field detail, if any.
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            ServiceError::Validation { fields, .. } | ServiceError::Conflict { fields, .. }
                if !fields.is_empty() =>
            {
                Some(fields)
            }
            _ => None,
        }
    }

    /// The text safe to show a client (never a backend error's detail).
    pub fn public_message(&self) -> String {
        match self {
            ServiceError::Internal(_) => "internal server error".to_owned(),
            ServiceError::LlmUnavailable(e) => {
                format!("no language model could answer: {}", e.message)
            }
            other => other.to_string(),
        }
    }

    /// A validation error about one field.
    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), problem.clone());
        ServiceError::Validation {
            message: format!("{field}: {problem}"),
            fields,
        }
    }

    /// Wraps an unexpected failure.
    pub fn internal(error: impl StdError + Send + Sync + 'static) -> Self {
        ServiceError::Internal(Box::new(error))
    }

    pub(crate) fn not_found(what: &str) -> Self {
        ServiceError::NotFound(format!("{what} not found"))
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ServiceError::NotFound("not found".to_owned()),
            StoreError::Conflict(kind) => {
                let (field, text) = match kind {
                    ConflictKind::Email => ("email", "is already registered"),
                    ConflictKind::Username => ("username", "is already taken"),
                    _ => ("id", "already exists"),
                };
                let mut fields = FieldErrors::new();
                fields.insert(field.to_owned(), text.to_owned());
                ServiceError::Conflict {
                    message: format!("{field} {text}"),
                    fields,
                }
            }
            other => ServiceError::Internal(Box::new(other)),
        }
    }
}

impl From<PasswordError> for ServiceError {
    fn from(error: PasswordError) -> Self {
        ServiceError::Internal(Box::new(error))
    }
}

impl From<TokenError> for ServiceError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Expired => ServiceError::Unauthorized("token expired".to_owned()),
            TokenError::Invalid => ServiceError::Unauthorized("invalid token".to_owned()),
            other => ServiceError::Internal(Box::new(other)),
        }
    }
}
