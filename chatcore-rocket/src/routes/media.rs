//! `/media`: images for messages, uploaded by one user and visible to the
//! members of the conversations they were sent to.

use chatcore::MediaId;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};

use crate::dto::{MediaDto, UploadBody};
use crate::error::{ApiError, ErrorBody};
use crate::guard::AuthUser;
use crate::routes::people::ImageBytes;
use crate::routes::{path_id, MediaPath};
use crate::state::ApiState;
use crate::upload::{Image, Upload};

pub(crate) fn routes() -> Vec<Route> {
    routes![upload, image]
}

/// Upload an image to attach to messages.
///
/// One file part `file`: a PNG, JPEG, GIF or WebP image (decided by its
/// bytes) of at most 5 MiB (configurable), 8192 pixels a side and 40
/// megapixels, re-encoded without metadata at its own size. Attach it with
/// `image_id` when sending a message.
#[utoipa::path(
    tag = "media",
    operation_id = "upload_media",
    security(("bearer" = [])),
    request_body(content = UploadBody, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The stored image", body = MediaDto),
        (status = 400, description = "The multipart body is malformed", body = ErrorBody),
        (status = 413, description = "The file is larger than the limit (5 MiB by default)", body = ErrorBody),
        (status = 415, description = "Not multipart/form-data, or the file is not a PNG, JPEG, GIF or WebP image", body = ErrorBody),
        (status = 422, description = "No `file` part, more than one file, or an image that cannot be decoded or is too large in pixels", body = ErrorBody),
    ),
)]
#[post("/media", data = "<upload>")]
async fn upload(
    state: &State<ApiState>,
    user: AuthUser,
    upload: Result<Upload<Image>, ApiError>,
) -> Result<(Status, Json<MediaDto>), ApiError> {
    let upload = upload?;
    let media = state
        .messenger()?
        .upload_image(user.user.id, upload.bytes)
        .await?;
    Ok((Status::Created, Json(MediaDto::from(media))))
}

/// The bytes of an image.
///
/// For its uploader and for the members of a conversation that has a
/// message with it; anyone else gets 404. Served with
/// `X-Content-Type-Options: nosniff`, `Content-Security-Policy: sandbox`
/// and `Cache-Control: private`.
#[utoipa::path(
    tag = "media",
    operation_id = "get_media",
    security(("bearer" = [])),
    params(MediaPath),
    responses(
        (status = 200, description = "The image",
            content(
                ("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp"),
            ),
            headers(
                ("X-Content-Type-Options" = String, description = "`nosniff`"),
                ("Content-Security-Policy" = String, description = "`sandbox`"),
                ("Cache-Control" = String, description = "`private`"),
            )),
    ),
)]
#[get("/media/<media_id>")]
async fn image(
    state: &State<ApiState>,
    user: AuthUser,
    media_id: &str,
) -> Result<ImageBytes, ApiError> {
    let id: MediaId = path_id(media_id, "image")?;
    let (_, stored) = state.messenger()?.image(user.user.id, id).await?;
    Ok(ImageBytes {
        bytes: stored.bytes,
        content_type: stored.content_type,
        headers: &[
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "sandbox"),
            ("Cache-Control", "private"),
        ],
    })
}
