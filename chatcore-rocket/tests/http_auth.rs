//! `/auth/*` over a real port: happy paths, bad tokens, rate limits, bad bodies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use chatcore::UserId;
use common::{assert_error, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_me_refresh() {
    let server = TestServer::start().await;
    let response = server
        .post(
            "/auth/register",
            None,
            &json!({ "email": "  Alice@Example.COM ", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["user"]["email"], "alice@example.com");
    assert_eq!(body["user"]["username"], "alice");
    assert!(body["user"]["created_at"].as_str().unwrap().ends_with('Z'));
    let user_id = body["user"]["id"].clone();

    let response = server
        .post(
            "/auth/login",
            None,
            &json!({ "email": "alice@example.com", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let login: Value = response.json().await.unwrap();
    let token = login["access_token"].as_str().unwrap();
    assert_eq!(login["user"]["id"], user_id);

    let response = server.get("/auth/me", Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["id"], user_id);
    assert_eq!(me["email"], "alice@example.com");
    assert!(me.get("password_hash").is_none());

    let response = server
        .request(Method::POST, "/auth/refresh", Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let refreshed: Value = response.json().await.unwrap();
    let fresh = refreshed["access_token"].as_str().unwrap();
    assert_ne!(fresh, token);
    assert_eq!(
        server.get("/auth/me", Some(fresh)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_validation_and_conflicts() {
    let server = TestServer::start().await;
    let body = assert_error(
        server
            .post(
                "/auth/register",
                None,
                &json!({ "email": "not-an-email", "password": "short" }),
            )
            .await,
        422,
        "validation_error",
    )
    .await;
    assert!(body["error"]["fields"]["email"].is_string());
    assert!(body["error"]["fields"]["password"].is_string());

    server.register("bob").await;
    let body = assert_error(
        server
            .post(
                "/auth/register",
                None,
                &json!({ "email": "BOB@example.com", "password": "another password" }),
            )
            .await,
        409,
        "conflict",
    )
    .await;
    assert!(body["error"]["fields"]["email"].is_string());
    assert_error(
        server
            .post("/auth/register", None, &json!({ "email": "carol@example.com", "password": "another password", "username": "BOB" }))
            .await,
        409,
        "conflict",
    )
    .await;
    assert_error(
        server
            .post("/auth/register", None, &json!({ "email": "dave@example.com", "password": "another password", "username": "" }))
            .await,
        422,
        "validation_error",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies() {
    let server = TestServer::start().await;
    assert_error(
        server
            .post_raw("/auth/register", None, "{\"email\": ")
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_error(
        server.post_raw("/auth/register", None, "").await,
        400,
        "bad_request",
    )
    .await;
    assert_error(
        server.post_raw("/auth/login", None, "not json").await,
        400,
        "bad_request",
    )
    .await;
    let body = assert_error(
        server
            .post_raw("/auth/register", None, "{\"email\": \"a@b.c\"}")
            .await,
        422,
        "validation_error",
    )
    .await;
    assert_eq!(body["error"]["fields"]["password"], "is required");
    assert_error(
        server
            .post_raw(
                "/auth/register",
                None,
                "{\"email\": 5, \"password\": \"long enough\"}",
            )
            .await,
        422,
        "validation_error",
    )
    .await;
    assert_error(
        server.post_raw("/auth/login", None, "[1, 2]").await,
        422,
        "validation_error",
    )
    .await;
    let huge = format!(
        "{{\"email\": \"a@b.c\", \"password\": \"{}\"}}",
        "x".repeat(70 * 1024)
    );
    assert_error(
        server.post_raw("/auth/register", None, huge).await,
        413,
        "payload_too_large",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_look_the_same() {
    let server = TestServer::start().await;
    server.register("erin").await;
    let wrong_password = assert_error(
        server
            .post(
                "/auth/login",
                None,
                &json!({ "email": "erin@example.com", "password": "wrong password" }),
            )
            .await,
        401,
        "unauthorized",
    )
    .await;
    let unknown = assert_error(
        server
            .post(
                "/auth/login",
                None,
                &json!({ "email": "nobody@example.com", "password": "wrong password" }),
            )
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(wrong_password, unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_401_json() {
    let server = TestServer::start().await;
    let token = server.register("frank").await;
    assert_error(server.get("/auth/me", None).await, 401, "unauthorized").await;
    let basic = server
        .request(Method::GET, "/auth/me", None)
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_error(basic, 401, "unauthorized").await;
    assert_error(
        server.get("/auth/me", Some("garbage")).await,
        401,
        "unauthorized",
    )
    .await;

    // Tampered payload: another user id with the original signature.
    let parts: Vec<&str> = token.split('.').collect();
    let now = chrono::Utc::now().timestamp();
    let forged = format!(
        r#"{{"sub":"{}","iat":{now},"exp":{},"jti":"{}"}}"#,
        UserId::new(),
        now + 3600,
        uuid::Uuid::new_v4()
    );
    let tampered = format!("{}.{}.{}", parts[0], b64(forged.as_bytes()), parts[2]);
    assert_error(
        server.get("/auth/me", Some(&tampered)).await,
        401,
        "unauthorized",
    )
    .await;

    // alg: none.
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let none = format!("{header}.{}.", parts[1]);
    assert_error(
        server.get("/auth/me", Some(&none)).await,
        401,
        "unauthorized",
    )
    .await;

    // Expired: issued 31 minutes ago with the server's own key.
    let me: Value = server
        .get("/auth/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let user: UserId = me["id"].as_str().unwrap().parse().unwrap();
    let old = server
        .tokens
        .issue_at(user, chrono::Utc::now() - chrono::Duration::minutes(31))
        .unwrap();
    let body = assert_error(
        server.get("/auth/me", Some(&old.token)).await,
        401,
        "unauthorized",
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    assert_error(
        server
            .request(Method::POST, "/auth/refresh", Some(&old.token))
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;

    // Signed with another key.
    let other = chatcore::JwtTokens::new(b"some-other-secret-some-other-secret-xx");
    let foreign = other.issue_at(user, chrono::Utc::now()).unwrap();
    assert_error(
        server.get("/auth/me", Some(&foreign.token)).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_limit_blocks_even_the_right_password() {
    let server = TestServer::start().await;
    server.register("gina").await;
    for _ in 0..10 {
        assert_error(
            server
                .post(
                    "/auth/login",
                    None,
                    &json!({ "email": "gina@example.com", "password": "wrong password" }),
                )
                .await,
            401,
            "unauthorized",
        )
        .await;
    }
    let response = server
        .post(
            "/auth/login",
            None,
            &json!({ "email": "gina@example.com", "password": "correct horse battery" }),
        )
        .await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_error(response, 429, "rate_limited").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_limit_per_ip_and_off_switch() {
    let server = TestServer::start().await;
    server.register("hank").await;
    // Ten failures for ten different emails from one IP.
    for i in 0..10 {
        server
            .post(
                "/auth/login",
                None,
                &json!({ "email": format!("x{i}@example.com"), "password": "wrong password" }),
            )
            .await;
    }
    assert_error(
        server
            .post(
                "/auth/login",
                None,
                &json!({ "email": "hank@example.com", "password": "correct horse battery" }),
            )
            .await,
        429,
        "rate_limited",
    )
    .await;

    let server = TestServer::with(common::Options {
        login_limit: 0,
        ..Default::default()
    })
    .await;
    server.register("ivan").await;
    for _ in 0..15 {
        server
            .post(
                "/auth/login",
                None,
                &json!({ "email": "ivan@example.com", "password": "wrong password" }),
            )
            .await;
    }
    let response = server
        .post(
            "/auth/login",
            None,
            &json!({ "email": "ivan@example.com", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}
