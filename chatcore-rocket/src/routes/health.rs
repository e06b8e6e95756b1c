//! `GET /health` and `GET /openapi.json`.

use chatcore::ProviderState;
use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};
use serde_json::{json, Value};

use crate::openapi::OpenApiDoc;
use crate::state::ApiState;

pub(crate) fn routes() -> Vec<Route> {
    routes![health, openapi]
}

/// 200 when the database answers, else 503 with `"database": "unavailable"`.
#[get("/health")]
async fn health(state: &State<ApiState>) -> (Status, Json<Value>) {
    let database = state.chat.store().ping().await;
    if let Err(error) = &database {
        tracing::warn!(%error, "health check: database unavailable");
    }
    let providers: Vec<Value> = state
        .chat
        .provider_status()
        .into_iter()
        .map(|p| {
            let state = match p.state {
                ProviderState::CoolingDown => "cooling_down",
                _ => "ok",
            };
            json!({ "name": p.name, "model": p.model, "state": state })
        })
        .collect();
    let (status, db) = match database {
        Ok(()) => (Status::Ok, "ok"),
        Err(_) => (Status::ServiceUnavailable, "unavailable"),
    };
    let body = json!({
        "status": if status == Status::Ok { "ok" } else { "unavailable" },
        "database": db,
        "providers": providers,
    });
    (status, Json(body))
}

#[get("/openapi.json")]
fn openapi(doc: &State<OpenApiDoc>) -> (ContentType, String) {
    (ContentType::JSON, doc.0.clone())
}
