//! `GET /health` and `GET /openapi.json`.

use crate::dto::{HealthDto, ProviderDto};
use crate::openapi::OpenApiDoc;
use crate::state::ApiState;
use chatcore::ProviderState;
use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};

pub(crate) fn routes() -> Vec<Route> {
    routes![health, openapi]
}

/// Database and provider health.
///
/// 200 when the database answers, else 503 with `"database": "unavailable"`.
#[utoipa::path(
    tag = "operations",
    operation_id = "health",
    responses(
        (status = 200, description = "Healthy", body = HealthDto),
        (status = 503, description = "The database does not answer", body = HealthDto),
    ),
)]
#[get("/health")]
async fn health(state: &State<ApiState>) -> (Status, Json<HealthDto>) {
    let database = state.chat.store().ping().await;
    if let Err(error) = &database {
        tracing::warn!(%error, "health check: database unavailable");
    }
    let providers = state
        .chat
        .provider_status()
        .into_iter()
        .map(|p| ProviderDto {
            name: p.name,
            model: p.model,
            state: match p.state {
                ProviderState::CoolingDown => "cooling_down",
                _ => "ok",
            },
        })
        .collect();
    let (status, db) = match database {
        Ok(()) => (Status::Ok, "ok"),
        Err(_) => (Status::ServiceUnavailable, "unavailable"),
    };
    let body = HealthDto {
        status: db,
        database: db,
        providers,
    };
    (status, Json(body))
}

/// This document.
#[utoipa::path(
    tag = "operations",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
)]
#[get("/openapi.json")]
fn openapi(doc: &State<OpenApiDoc>) -> (ContentType, String) {
    (ContentType::JSON, doc.0.clone())
}
