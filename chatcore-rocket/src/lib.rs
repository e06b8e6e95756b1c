//! # chatcore-rocket
//!
//! The HTTP, SSE and WebSocket layer of chatcore for Rocket 0.5: every route
//! of the API contract, a bearer-token guard, JSON errors everywhere,
//! request ids, CORS, and an OpenAPI document. Mount it into any Rocket
//! application with [`Chatcore`]:
//!
//! ```no_run
//! # fn state() -> chatcore_rocket::ApiState { unimplemented!() }
//! use chatcore_rocket::Chatcore;
//!
//! #[rocket::get("/hello")]
//! fn hello() -> &'static str { "hi" }
//!
//! #[rocket::launch]
//! fn rocket() -> _ {
//!     let app = rocket::build().mount("/", rocket::routes![hello]);
//!     Chatcore::new(state()).attach(app, "/api")
//! }
//! ```
//!
//! Handlers only translate: parse the request, call one method of
//! [`chatcore::AuthService`], [`chatcore::ChatService`] or
//! [`chatcore::MessengerService`], map the result.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// `ApiError` (~130 bytes) is what every handler returns on its cold error
// path; boxing it would only add an allocation to each error answer.
#![allow(clippy::result_large_err)]

mod allow;
mod app;
mod catchers;
mod cors;
pub mod dto;
mod error;
mod guard;
mod json;
mod openapi;
mod request_id;
mod routes;
mod sse;
mod state;
mod upload;
mod ws;

pub use allow::{ApiPaths, FALLBACK_RANK};
pub use app::Chatcore;
pub use cors::{AllowedOrigins, CorsConfig};
pub use error::ApiError;
pub use guard::AuthUser;
pub use json::{ApiJson, DEFAULT_JSON_LIMIT};
pub use request_id::{RequestId, RequestLog, REQUEST_ID_HEADER};
pub use sse::SseEvents;
pub use state::{ApiConfig, ApiState};

/// The WebSocket routes (`/ws`).
fn ws_routes() -> Vec<rocket::Route> {
    ws::routes()
}
