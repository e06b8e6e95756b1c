//! [`Upload`]: the body of `PUT /auth/me/avatar` and `POST /media`, a
//! `multipart/form-data` form with exactly one file field `file`.
//!
//! It is read by Rocket's own form machinery ([`Form`] and a [`FromForm`]
//! implementation that sees every part), never by a parser of ours, and
//! with the API's rules:
//!
//! - the file is read into memory up to the kind's limit plus one byte
//!   (avatars: [`MessengerConfig::avatar_max_bytes`], 2 MiB; images:
//!   [`MessengerConfig::media_max_bytes`], 5 MiB by default); longer is
//!   413 `payload_too_large`. Nothing is written anywhere while reading:
//!   no temporary file (Rocket's `TempFile` would write one per part), no
//!   upload. The rest of the part is skipped by the form parser;
//! - no `file` part, or more than one file (a part with a file name or a
//!   content type, whatever its name, or a second `file`) is 422
//!   `validation_error` (field `file`); a `file` part sent as a plain text
//!   value counts as the file (its bytes are judged like any other); any
//!   other text part is 422 too (field `file`);
//! - a body that is not `multipart/form-data` is 415
//!   `unsupported_media_type`; a broken multipart body is 400
//!   `bad_request`; a body over Rocket's `limits.data-form` is 413 (that
//!   limit is raised by [`crate::Chatcore::attach`] to fit the largest
//!   upload).
//!
//! The type of the file is decided later, by chatcore, from its bytes.

use std::marker::PhantomData;

use chatcore::{MessengerConfig, ServiceError};
use rocket::data::{self, ByteUnit, Data, FromData};
use rocket::form::{self, DataField, Form, FromForm, ValueField};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::Request;

use crate::error::ApiError;
use crate::state::ApiState;

/// Room for the multipart framing around the file (boundaries, part
/// headers, small text fields) on top of the largest file.
pub(crate) const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// What is uploaded, and so its size limit.
pub(crate) trait UploadKind: Send + Sync + 'static {
    /// The largest file, in bytes.
    fn limit(config: &MessengerConfig) -> usize;
}

/// An avatar (`PUT /auth/me/avatar`).
#[derive(Debug)]
pub(crate) struct Avatar;

impl UploadKind for Avatar {
    fn limit(config: &MessengerConfig) -> usize {
        config.avatar_max_bytes
    }
}

/// An image for messages (`POST /media`).
#[derive(Debug)]
pub(crate) struct Image;

impl UploadKind for Image {
    fn limit(config: &MessengerConfig) -> usize {
        config.media_max_bytes
    }
}

/// The bytes of the one file of a multipart upload.
/// Take it as `Result<Upload<K>, ApiError>` and use `?`.
pub(crate) struct Upload<K> {
    /// The file, as sent.
    pub(crate) bytes: Vec<u8>,
    kind: PhantomData<K>,
}

impl<K> std::fmt::Debug for Upload<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The multipart form as [`Form`] sees it: it always finalises, carrying
/// the API's own verdict.
struct UploadForm<K> {
    result: Result<Vec<u8>, ApiError>,
    kind: PhantomData<K>,
}

/// The parts seen so far.
struct Parts {
    /// The file, once read (the first one).
    file: Option<Vec<u8>>,
    /// Files seen (parts with a file name or content type, and `file` values).
    files: usize,
    /// The first problem met (too large, unreadable, ...).
    error: Option<ApiError>,
    /// The name of the first text part other than `file`.
    unexpected: Option<String>,
}

/// The field name of the file.
const FILE: &str = "file";

fn too_large(limit: usize) -> ApiError {
    ApiError::from(ServiceError::PayloadTooLarge(format!(
        "the file is larger than {limit} bytes"
    )))
}

fn file_error(problem: &str) -> ApiError {
    ApiError::from(ServiceError::field(FILE, problem))
}

/// The limit of `K` in this request's application.
fn limit_of<K: UploadKind>(req: &Request<'_>) -> Result<usize, ApiError> {
    let state = req
        .rocket()
        .state::<ApiState>()
        .ok_or_else(ApiError::internal)?;
    Ok(K::limit(state.messenger()?.config()))
}

impl Parts {
    fn keep(&mut self, bytes: Vec<u8>) {
        if self.file.is_none() {
            self.file = Some(bytes);
        }
    }

    fn fail(&mut self, error: ApiError) {
        self.error.get_or_insert(error);
    }
}

#[rocket::async_trait]
impl<'r, K: UploadKind> FromForm<'r> for UploadForm<K> {
    type Context = Parts;

    fn init(_: form::Options) -> Parts {
        Parts {
            file: None,
            files: 0,
            error: None,
            unexpected: None,
        }
    }

    fn push_value(parts: &mut Parts, field: ValueField<'r>) {
        // The form has one part, `file`: any other is refused (the
        // document says `additionalProperties: false`).
        let name = field.name.source().as_str();
        if name != FILE {
            parts
                .unexpected
                .get_or_insert_with(|| name.chars().take(64).collect());
            return;
        }
        parts.files += 1;
        if parts.files == 1 {
            parts.keep(field.value.as_bytes().to_vec());
        }
    }

    async fn push_data(parts: &mut Parts, field: DataField<'r, '_>) {
        parts.files += 1;
        // Only the first part named `file` is read; any other file makes
        // the form invalid, so its bytes are skipped unread.
        if parts.files > 1 || field.name.source().as_str() != FILE {
            return;
        }
        let limit = match limit_of::<K>(field.request) {
            Ok(limit) => limit,
            Err(error) => return parts.fail(error),
        };
        let read = field
            .data
            .open(ByteUnit::from(limit as u64 + 1))
            .into_bytes()
            .await;
        match read {
            Ok(bytes) if bytes.len() > limit => parts.fail(too_large(limit)),
            Ok(bytes) => parts.keep(bytes.into_inner()),
            Err(_) => parts.fail(ApiError::bad_request("the file could not be read")),
        }
    }

    fn push_error(parts: &mut Parts, error: form::Error<'r>) {
        parts.fail(form_error(error.status()));
    }

    fn finalize(parts: Parts) -> form::Result<'r, Self> {
        let result = match parts {
            Parts {
                error: Some(error), ..
            } => Err(error),
            Parts { files, .. } if files > 1 => Err(file_error(
                "send exactly one file; this form has more than one",
            )),
            Parts { file: None, .. } => Err(file_error(
                "is required: a multipart/form-data part named `file`",
            )),
            Parts {
                unexpected: Some(name),
                ..
            } => Err(file_error(&format!(
                "send only the part `file`; this form also has `{name}`"
            ))),
            Parts {
                file: Some(bytes), ..
            } => Ok(bytes),
        };
        Ok(UploadForm {
            result,
            kind: PhantomData,
        })
    }
}

/// The API error for a failure of Rocket's form parser with `status`.
fn form_error(status: Status) -> ApiError {
    match status.code {
        413 => ApiError::new(
            Status::PayloadTooLarge,
            "payload_too_large",
            "the multipart body is larger than the server accepts",
        ),
        415 => not_multipart(),
        _ => ApiError::bad_request("the multipart/form-data body is malformed"),
    }
}

fn not_multipart() -> ApiError {
    ApiError::from(ServiceError::UnsupportedMediaType(
        "send multipart/form-data with one file field `file`".to_owned(),
    ))
}

#[rocket::async_trait]
impl<'r, K: UploadKind> FromData<'r> for Upload<K> {
    type Error = ApiError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        // No messenger: 503 before anything is read.
        if let Err(error) = limit_of::<K>(req) {
            return Outcome::Error((error.status, error));
        }
        let result = match Form::<UploadForm<K>>::from_data(req, data).await {
            Outcome::Success(form) => form.into_inner().result,
            Outcome::Forward(_) => Err(not_multipart()),
            Outcome::Error((status, _)) => Err(form_error(status)),
        };
        match result {
            Ok(bytes) => Outcome::Success(Upload {
                bytes,
                kind: PhantomData,
            }),
            Err(error) => Outcome::Error((error.status, error)),
        }
    }
}

/// The `data-form` limit that fits the largest upload of `config`.
pub(crate) fn data_form_limit(config: &MessengerConfig) -> u64 {
    let largest = config.avatar_max_bytes.max(config.media_max_bytes) as u64;
    largest + MULTIPART_OVERHEAD
}
