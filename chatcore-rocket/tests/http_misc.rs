//! /health, /openapi.json, CORS, request ids, mounting under a prefix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use chatcore::Store;
use chatcore_rocket::{Chatcore, CorsConfig, FALLBACK_RANK};
use common::{assert_error, Db, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ok_then_database_down() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("health.db").display());
    let store = Arc::new(chatcore_sqlx::SqliteStore::connect(&url).await.unwrap());
    let server = TestServer::with(Options {
        db: Db::Given(store.clone() as Arc<dyn Store>),
        ..Default::default()
    })
    .await;
    let response = server.get("/health", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "status": "ok", "database": "ok", "providers": [{ "name": "scripted", "model": "scripted-model", "state": "ok" }] })
    );
    store.close().await;
    let response = server.get("/health", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["database"], "unavailable");
    assert_eq!(body["providers"][0]["name"], "scripted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_route() {
    let server = TestServer::start().await;
    let response = server.get("/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut count = 0;
    for route in Chatcore::api_routes() {
        let path = route.uri.path().replace('<', "{").replace('>', "}");
        let method = route.method.as_str().to_ascii_lowercase();
        let op = &paths.get(&path).unwrap_or_else(|| panic!("{path} missing"))[&method];
        assert!(op["summary"].is_string(), "{method} {path}");
        assert!(
            !op["summary"]
                .as_str()
                .unwrap()
                .starts_with(&route.method.as_str().to_string()),
            "undocumented {method} {path}"
        );
        count += 1;
    }
    assert!(count >= 17, "{count}");
    for expected in [
        "/auth/register",
        "/auth/login",
        "/auth/me",
        "/auth/refresh",
        "/chat/sessions",
        "/chat/sessions/{session_id}",
        "/chat/session/{session_id}",
        "/chat/send",
        "/chat/stream",
        "/chat/sessions/{session_id}/stop",
        "/chat/sessions/{session_id}/stream",
        "/health",
        "/openapi.json",
        "/ws",
    ] {
        assert!(paths.contains_key(expected), "{expected}");
    }
    assert!(doc["paths"]["/ws"]["get"]["responses"]["101"].is_object());
    assert!(doc["paths"]["/chat/sessions/{session_id}"]["delete"]["responses"]["204"].is_object());
    assert!(
        doc["paths"]["/chat/stream"]["post"]["responses"]["200"]["content"]["text/event-stream"]
            .is_object()
    );
    assert_eq!(
        doc["paths"]["/chat/sessions"]["get"]["security"],
        json!([{ "bearer": [] }])
    );
    // The constraints are chatcore's own rules.
    let schemas = &doc["components"]["schemas"];
    let send = &schemas["SendBody"]["properties"];
    assert_eq!(send["content"]["pattern"], chatcore::patterns::CONTENT);
    assert_eq!(send["content"]["maxLength"], 32_000);
    assert_eq!(send["session_id"]["format"], "uuid");
    let register = &schemas["RegisterBody"]["properties"];
    assert_eq!(register["email"]["pattern"], chatcore::patterns::EMAIL);
    assert_eq!(
        register["username"]["pattern"],
        chatcore::patterns::USERNAME
    );
    assert_eq!(register["password"]["minLength"], 8);
    assert_eq!(register["password"]["maxLength"], 128);
    assert_eq!(
        schemas["RenameBody"]["properties"]["title"]["pattern"],
        chatcore::patterns::TITLE
    );
    let list = &doc["paths"]["/chat/sessions"]["get"];
    let cursor = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cursor")
        .unwrap();
    assert_eq!(cursor["schema"]["pattern"], chatcore::patterns::CURSOR);
    assert!(list["responses"]["200"]["headers"]["Link"].is_object());
    // Every JSON body answers 400, 413 and 422; every token 401; every id 404.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            if op["requestBody"].is_object() {
                for status in ["400", "413", "422"] {
                    assert!(responses[status].is_object(), "{method} {path} {status}");
                }
            }
            if op["security"].is_array() {
                assert!(responses["401"].is_object(), "{method} {path}");
            }
            if path.contains('{') {
                assert!(responses["404"].is_object(), "{method} {path}");
            }
            if responses["429"].is_object() {
                assert!(responses["429"]["headers"]["Retry-After"].is_object());
            }
        }
    }
    // Each event of a stream is described with its payload's schema.
    let events = &doc["paths"]["/chat/stream"]["post"]["responses"]["200"]["content"]
        ["text/event-stream"]["schema"];
    let events = serde_json::to_string(events).unwrap();
    let events = if events.contains("$ref") {
        let name = doc["paths"]["/chat/stream"]["post"]["responses"]["200"]["content"]
            ["text/event-stream"]["schema"]["$ref"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        serde_json::to_string(&schemas[&name]).unwrap()
    } else {
        events
    };
    for name in [
        "message",
        "delta",
        "done",
        "error",
        "Delta",
        "Done",
        "StreamError",
    ] {
        assert!(events.contains(name), "{name} in {events}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_without_a_handshake_is_400() {
    let server = TestServer::start().await;
    let plain = server.get("/ws", None).await;
    let body = assert_error(plain, 400, "bad_request").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Upgrade"),
        "{body}"
    );
    for key in ["not-base64!", "AAAA", "AAAAAAAAAAAAAAAAAAAAAB=="] {
        let response = server
            .request(Method::GET, "/ws", None)
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", key)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "bad_request").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_off_by_default() {
    let server = TestServer::start().await;
    let response = server
        .request(Method::GET, "/health", None)
        .header("origin", "http://ui.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let preflight = server
        .request(Method::OPTIONS, "/chat/send", None)
        .header("origin", "http://ui.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_on_for_listed_origins() {
    let server = TestServer::with(Options {
        cors: Some(CorsConfig::origins(["http://ui.example"])),
        ..Default::default()
    })
    .await;
    let preflight = server
        .request(Method::OPTIONS, "/chat/send", None)
        .header("origin", "http://ui.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "http://ui.example");
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    assert!(headers.get("access-control-max-age").is_some());

    let token = server.register("alice").await;
    let response = server
        .request(Method::GET, "/chat/sessions", Some(&token))
        .header("origin", "http://ui.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://ui.example"
    );
    assert!(response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("Link"));
    // Errors carry CORS headers too, so the UI can read them.
    let error = server
        .request(Method::GET, "/auth/me", None)
        .header("origin", "http://ui.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error.headers()["access-control-allow-origin"],
        "http://ui.example"
    );
    let other = server
        .request(Method::GET, "/health", None)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_on_every_response() {
    let server = TestServer::start().await;
    let mut seen = std::collections::HashSet::new();
    for response in [
        server.get("/health", None).await,
        server.get("/nope", None).await,
        server.get("/auth/me", None).await,
        server
            .request(Method::PUT, "/auth/me", None)
            .send()
            .await
            .unwrap(),
        server.post_raw("/auth/login", None, "{").await,
    ] {
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!id.is_empty());
        assert!(seen.insert(id));
    }
    let echoed = server
        .request(Method::GET, "/health", None)
        .header("x-request-id", "trace-abc_123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc_123");
    let insane = server
        .request(Method::GET, "/health", None)
        .header("x-request-id", "has spaces <b>")
        .send()
        .await
        .unwrap();
    let replaced = insane.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(replaced, "has spaces <b>");
    assert!(uuid::Uuid::parse_str(replaced).is_ok());
}

#[rocket::get("/hello")]
fn hello() -> &'static str {
    "hello from the host app"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mounts_under_a_prefix_beside_the_apps_routes() {
    let test_store = chatcore_sqlx::testing::sqlite_test_store().await;
    let store = test_store.store();
    let tokens = Arc::new(chatcore::JwtTokens::new(common::SECRET));
    let auth = chatcore::AuthService::new(
        store.clone(),
        tokens,
        chatcore::PasswordHasher::insecure_fast_for_tests().unwrap(),
    );
    let chat = chatcore::ChatService::new(
        store,
        chatcore::testing::ScriptedProvider::new("scripted").shared(),
        Arc::new(chatcore::LocalEventBus::new(64)),
    );
    let app = rocket::custom(common::rocket_config()).mount("/", rocket::routes![hello]);
    let rocket =
        Chatcore::new(chatcore_rocket::ApiState::new(Arc::new(auth), chat)).attach(app, "/api");
    let paths = rocket.state::<chatcore_rocket::ApiPaths>().unwrap().clone();
    assert!(paths.matches("/api/chat/sessions/abc/stop"));
    assert!(!paths.matches("/chat/sessions"));
    assert!(!paths.matches("/api/chat/whatever"));
    assert!(paths.allows(rocket::http::Method::Get, "/api/chat/sessions/abc"));
    assert!(!paths.allows(rocket::http::Method::Get, "/api/auth/login"));
    assert!(paths.allows(rocket::http::Method::Post, "/api/auth/login"));
    assert!(rocket.routes().any(|r| r.rank == FALLBACK_RANK));
    let (port, shutdown) = common::launch(rocket).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let hello = http.get(format!("{base}/hello")).send().await.unwrap();
    assert_eq!(hello.text().await.unwrap(), "hello from the host app");
    let health = http.get(format!("{base}/api/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let register = http
        .post(format!("{base}/api/auth/register"))
        .json(&json!({ "email": "host@example.com", "password": "long enough" }))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED);
    assert_error(
        http.get(format!("{base}/api/nothing"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    let doc: Value = http
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/chat/sessions/{session_id}"].is_object());
    let wrong = http
        .get(format!("{base}/api/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.headers()["allow"], "POST");
    shutdown.notify();
    drop(test_store);
}
