//! `/auth/*`: register, login, me, refresh.

use chatcore::Registration;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Request, Route, State};

use crate::dto::{LoginBody, RegisterBody, TokenDto, UserDto};
use crate::error::{ApiError, ErrorBody};
use crate::guard::AuthUser;
use crate::json::ApiJson;
use crate::state::ApiState;

pub(crate) fn routes() -> Vec<Route> {
    routes![register, login, me, refresh]
}

/// The client's address as Rocket sees it (`ip_header`, else the peer).
struct ClientIp(Option<std::net::IpAddr>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for ClientIp {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        rocket::outcome::Outcome::Success(ClientIp(req.client_ip()))
    }
}

/// Create an account and sign in.
#[utoipa::path(
    tag = "auth",
    operation_id = "register",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Signed in", body = TokenDto),
        (status = 409, description = "The email or the username is taken", body = ErrorBody),
    ),
)]
#[post("/auth/register", data = "<body>")]
async fn register(
    state: &State<ApiState>,
    body: Result<ApiJson<RegisterBody>, ApiError>,
) -> Result<(Status, Json<TokenDto>), ApiError> {
    let body = body?.0;
    let registration = Registration {
        email: body.email,
        password: body.password,
        username: body.username,
        display_name: body.display_name,
    };
    let session = state.auth.register(registration).await?;
    Ok((Status::Created, Json(TokenDto::new(&session, state))))
}

/// Sign in with email and password.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = TokenDto),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 429, description = "Too many failed logins for this email or address", body = ErrorBody),
    ),
)]
#[post("/auth/login", data = "<body>")]
async fn login(
    state: &State<ApiState>,
    ip: ClientIp,
    body: Result<ApiJson<LoginBody>, ApiError>,
) -> Result<Json<TokenDto>, ApiError> {
    let body = body?.0;
    let session = state.auth.login(&body.email, &body.password, ip.0).await?;
    Ok(Json(TokenDto::new(&session, state)))
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    operation_id = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The user", body = UserDto)),
)]
#[get("/auth/me")]
async fn me(state: &State<ApiState>, user: AuthUser) -> Json<UserDto> {
    Json(UserDto::new(&user.user, state))
}

/// A fresh token for a valid one ("stay signed in").
#[utoipa::path(
    tag = "auth",
    operation_id = "refresh",
    security(("bearer" = [])),
    responses((status = 200, description = "Signed in", body = TokenDto)),
)]
#[post("/auth/refresh")]
async fn refresh(state: &State<ApiState>, user: AuthUser) -> Result<Json<TokenDto>, ApiError> {
    let session = state.auth.refresh(user.user.id).await?;
    Ok(Json(TokenDto::new(&session, state)))
}
