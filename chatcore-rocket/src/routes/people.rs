//! People: the caller's profile (`PATCH /auth/me`, `/auth/me/avatar`),
//! avatars by name (`/avatars/{name}`, public), search and profiles of
//! others (`/users/*`).

use chatcore::UserId;
use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use rocket::{delete, get, patch, put, routes, Route, State};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::Required;
use utoipa::IntoParams;

use crate::dto::{PersonDto, UpdateMeBody, UploadBody, UserDto};
use crate::error::{ApiError, ErrorBody};
use crate::guard::AuthUser;
use crate::json::ApiJson;
use crate::openapi::schemas;
use crate::routes::query::SearchQuery;
use crate::routes::{path_id, UserPath};
use crate::state::ApiState;
use crate::upload::{Avatar, Upload};

pub(crate) fn routes() -> Vec<Route> {
    routes![update_me, put_avatar, delete_avatar, avatar, search, person]
}

/// Change the caller's display name.
#[utoipa::path(
    tag = "people",
    operation_id = "update_me",
    security(("bearer" = [])),
    request_body = UpdateMeBody,
    responses((status = 200, description = "The user", body = UserDto)),
)]
#[patch("/auth/me", data = "<body>")]
async fn update_me(
    state: &State<ApiState>,
    user: AuthUser,
    body: Result<ApiJson<UpdateMeBody>, ApiError>,
) -> Result<Json<UserDto>, ApiError> {
    let body = body?.0;
    let updated = state
        .messenger()?
        .set_display_name(user.user.id, &body.display_name)
        .await?;
    Ok(Json(UserDto::new(&updated, state)))
}

/// Replace the caller's avatar.
///
/// One file part `file`: a PNG, JPEG, GIF or WebP image (decided by its
/// bytes) of at most 2 MiB, 8192 pixels a side and 40 megapixels. It is
/// centre-cropped to a square, resized to at most 256 x 256 and re-encoded
/// without metadata; the previous avatar's file is removed.
#[utoipa::path(
    tag = "people",
    operation_id = "put_avatar",
    security(("bearer" = [])),
    request_body(content = UploadBody, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The user with the new `avatar_url`", body = UserDto),
        (status = 400, description = "The multipart body is malformed", body = ErrorBody),
        (status = 413, description = "The file is larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Not multipart/form-data, or the file is not a PNG, JPEG, GIF or WebP image", body = ErrorBody),
        (status = 422, description = "No `file` part, more than one file, or an image that cannot be decoded or is too large in pixels", body = ErrorBody),
    ),
)]
#[put("/auth/me/avatar", data = "<upload>")]
async fn put_avatar(
    state: &State<ApiState>,
    user: AuthUser,
    upload: Result<Upload<Avatar>, ApiError>,
) -> Result<Json<UserDto>, ApiError> {
    let upload = upload?;
    let updated = state
        .messenger()?
        .set_avatar(user.user.id, upload.bytes)
        .await?;
    Ok(Json(UserDto::new(&updated, state)))
}

/// Remove the caller's avatar (and its file).
#[utoipa::path(
    tag = "people",
    operation_id = "delete_avatar",
    security(("bearer" = [])),
    responses((status = 200, description = "The user with `avatar_url: null`", body = UserDto)),
)]
#[delete("/auth/me/avatar")]
async fn delete_avatar(state: &State<ApiState>, user: AuthUser) -> Result<Json<UserDto>, ApiError> {
    let updated = state.messenger()?.remove_avatar(user.user.id).await?;
    Ok(Json(UserDto::new(&updated, state)))
}

/// An avatar (public, so that `<img>` works).
///
/// The image with its real type, `X-Content-Type-Options: nosniff` and a
/// year-long immutable `Cache-Control` (a new avatar gets a new name).
#[utoipa::path(
    tag = "people",
    operation_id = "get_avatar",
    params(AvatarPath),
    responses(
        (status = 200, description = "The image",
            content(
                ("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp"),
            ),
            headers(
                ("X-Content-Type-Options" = String, description = "`nosniff`"),
                ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
            )),
        (status = 404, description = "No avatar of that name (or a malformed name)", body = ErrorBody),
    ),
)]
#[get("/avatars/<name>")]
async fn avatar(state: &State<ApiState>, name: &str) -> Result<ImageBytes, ApiError> {
    let stored = state.messenger()?.avatar(name).await?;
    Ok(ImageBytes {
        bytes: stored.bytes,
        content_type: stored.content_type,
        headers: &[
            ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "public, max-age=31536000, immutable"),
        ],
    })
}

/// Find people by name.
///
/// Users whose display name or username contains `q`, case-insensitively
/// for all of Unicode, the caller excluded: exact matches first, then
/// prefix matches, then the rest, each group by display name. Emails are
/// not searched.
#[utoipa::path(
    tag = "people",
    operation_id = "search_people",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "The people found", body = Vec<PersonDto>),
        (status = 422, description = "`q` or `limit` is invalid", body = ErrorBody),
    ),
)]
#[get("/users/search?<query..>")]
async fn search(
    state: &State<ApiState>,
    user: AuthUser,
    query: SearchQuery<'_>,
) -> Result<Json<Vec<PersonDto>>, ApiError> {
    let (q, limit) = (query.q()?, query.limit()?);
    let people = state
        .messenger()?
        .search_people(user.user.id, q, limit)
        .await?;
    Ok(Json(
        people
            .into_iter()
            .map(|person| PersonDto::new(person, state))
            .collect(),
    ))
}

/// What others see of a user.
#[utoipa::path(
    tag = "people",
    operation_id = "get_person",
    security(("bearer" = [])),
    params(UserPath),
    responses((status = 200, description = "The person", body = PersonDto)),
)]
#[get("/users/<user_id>")]
async fn person(
    state: &State<ApiState>,
    _user: AuthUser,
    user_id: &str,
) -> Result<Json<PersonDto>, ApiError> {
    let id: UserId = path_id(user_id, "user")?;
    let person = state.messenger()?.person(id).await?;
    Ok(Json(PersonDto::new(person, state)))
}

/// The bytes of a stored image, with its type and headers.
pub(crate) struct ImageBytes {
    pub(crate) bytes: Vec<u8>,
    pub(crate) content_type: &'static str,
    pub(crate) headers: &'static [(&'static str, &'static str)],
}

impl<'r> Responder<'r, 'static> for ImageBytes {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let content_type =
            ContentType::parse_flexible(self.content_type).unwrap_or(ContentType::Binary);
        let mut response = Response::build();
        response
            .header(content_type)
            .sized_body(self.bytes.len(), std::io::Cursor::new(self.bytes));
        for (name, value) in self.headers {
            response.header(Header::new(*name, *value));
        }
        response.ok()
    }
}

/// The `{name}` path parameter of `/avatars/{name}` (documentation only).
struct AvatarPath;

impl IntoParams for AvatarPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("name")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(
                "The file name of an `avatar_url` (anything else is 404)",
            ))
            .schema(Some(schemas::avatar_name()))
            .build()]
    }
}
