//! The JSON rules of API.md ("Precise rules") on every JSON route: one table
//! of malformed and wrong-shape bodies, sent to every operation that the
//! server's own OpenAPI document lists with a JSON request body, so a route
//! added later is covered the day it is documented (and the document test
//! makes sure every mounted route is).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{assert_error, TestServer};
use reqwest::Method;
use serde_json::Value;

/// Not well-formed JSON: 400 `bad_request`, whatever a value inside is.
const MALFORMED: &[&str] = &[
    "",
    "   \n",
    "{",
    // Truncated, with a bad UUID inside: syntax is judged before shape.
    r#"{"session_id": "x", "content": "hi""#,
    r#"{"title": "t", "email": "x@example.com""#,
    r#"{"a":}"#,
    r#"{"a": 1,}"#,
    r#"{'a': 1}"#,
    r#"{"title": "t"} trailing"#,
    r#"{"title": "t"}{"title": "u"}"#,
    "[1,",
    "nul",
    "\u{feff}{}",
];

/// Well-formed JSON that is not an object: 422 `validation_error`.
const NOT_AN_OBJECT: &[&str] = &[
    "[]",
    r#"["t"]"#,
    "[1,2]",
    "null",
    "5",
    r#""s""#,
    "true",
    r#"[{"title": "t"}]"#,
];

fn method(name: &str) -> Method {
    Method::from_bytes(name.to_ascii_uppercase().as_bytes()).unwrap()
}

/// Every (method, path) of the document with a JSON request body, path
/// parameters filled with `id`.
fn json_operations(doc: &Value, id: &str) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (name, operation) in item.as_object().unwrap() {
            if operation["requestBody"]["content"]["application/json"].is_object() {
                let concrete = path
                    .split('/')
                    .map(|s| if s.starts_with('{') { id } else { s })
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((method(name), concrete));
            }
        }
    }
    out
}

/// The user's sessions and every message of `session`, to show that no bad
/// body stored or changed anything.
async fn snapshot(server: &TestServer, token: &str, session: &str) -> (Value, Value) {
    let list: Value = server
        .get("/chat/sessions", Some(token))
        .await
        .json()
        .await
        .unwrap();
    (list, server.history(token, session).await)
}

#[tokio::test]
async fn every_json_route_refuses_malformed_and_wrong_shape_bodies() {
    let server = TestServer::start().await;
    let token = server.register("jsonrules").await;
    let session = server.session(&token).await;
    let doc: Value = server
        .get("/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let operations = json_operations(&doc, &session);
    // The table reaches at least the JSON routes of Part 1.
    for expected in [
        "/auth/register",
        "/auth/login",
        "/chat/sessions",
        "/chat/send",
        "/chat/stream",
    ] {
        assert!(
            operations.iter().any(|(_, p)| p == expected),
            "{expected} is not in {operations:?}"
        );
    }
    assert!(operations
        .iter()
        .any(|(m, p)| *m == Method::PATCH && p.ends_with(&session)));

    let before = snapshot(&server, &token, &session).await;
    for (method, path) in &operations {
        for (bodies, status, code) in [
            (MALFORMED, 400, "bad_request"),
            (NOT_AN_OBJECT, 422, "validation_error"),
        ] {
            for body in bodies {
                let response = server
                    .request(method.clone(), path, Some(&token))
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    response.status().as_u16(),
                    status,
                    "{method} {path} with {body:?}"
                );
                assert_error(response, status, code).await;
            }
        }
        let oversized = format!(r#"{{"title": "{}"}}"#, "x".repeat(70 * 1024));
        let response = server
            .request(method.clone(), path, Some(&token))
            .header("content-type", "application/json")
            .body(oversized)
            .send()
            .await
            .unwrap();
        assert_error(response, 413, "payload_too_large").await;
    }
    assert_eq!(snapshot(&server, &token, &session).await, before);
    // The truncated register body named this email: no account exists.
    let store = server.state.chat.store();
    assert!(store
        .find_user_by_email("x@example.com")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn the_issue_examples() {
    let server = TestServer::start().await;
    let token = server.register("examples").await;
    let session = server.session(&token).await;

    // A truncated body with a bad UUID inside is malformed (400), not 422.
    let response = server
        .post_raw(
            "/chat/send",
            Some(&token),
            r#"{"session_id": "x", "content": "hi""#,
        )
        .await;
    assert_error(response, 400, "bad_request").await;

    // `[]` and `["t"]` create no session.
    for body in ["[]", r#"["t"]"#] {
        let response = server.post_raw("/chat/sessions", Some(&token), body).await;
        assert_error(response, 422, "validation_error").await;
    }
    let list: Value = server
        .get("/chat/sessions", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], session.as_str());
}
