//! Sessions, `/chat/send`, ownership, soft delete, paging, routing errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use chatcore::testing::{ScriptStep, ScriptedProvider};
use chatcore::LlmErrorKind;
use common::{assert_error, Db, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_list_get_rename() {
    let server = TestServer::start().await;
    let token = server.register("alice").await;
    let response = server
        .post("/chat/sessions", Some(&token), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["title"], "New chat");
    for key in ["id", "created_at", "updated_at"] {
        assert!(created[key].is_string(), "{key}");
    }
    let response = server
        .post(
            "/chat/sessions",
            Some(&token),
            &json!({ "title": "  Trip  " }),
        )
        .await;
    let titled: Value = response.json().await.unwrap();
    assert_eq!(titled["title"], "Trip");

    let list: Value = server
        .get("/chat/sessions", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            titled["id"].as_str().unwrap(),
            created["id"].as_str().unwrap()
        ]
    );

    let id = created["id"].as_str().unwrap();
    let history = server.history(&token, id).await;
    assert_eq!(history["session"]["id"], id);
    assert_eq!(history["messages"], json!([]));

    let response = server
        .request(Method::PATCH, &format!("/chat/sessions/{id}"), Some(&token))
        .json(&json!({ "title": "Renamed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let renamed: Value = response.json().await.unwrap();
    assert_eq!(renamed["title"], "Renamed");
    let empty = server
        .request(Method::PATCH, &format!("/chat/sessions/{id}"), Some(&token))
        .json(&json!({ "title": "   " }))
        .send()
        .await
        .unwrap();
    assert_error(empty, 422, "validation_error").await;
    let missing = server
        .request(Method::PATCH, &format!("/chat/sessions/{id}"), Some(&token))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(missing, 422, "validation_error").await;
    assert_error(
        server
            .post("/chat/sessions", Some(&token), &json!({ "title": 5 }))
            .await,
        422,
        "validation_error",
    )
    .await;
    assert_error(
        server.post("/chat/sessions", None, &json!({})).await,
        401,
        "unauthorized",
    )
    .await;
}

async fn paging_with_link_header(db: Db) {
    let Some(server) = TestServer::try_with(Options {
        db,
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let token = server.register("pager").await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(server.session(&token).await);
    }
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/chat/sessions?limit=2", server.url));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let response = server
            .http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        if let Some(link) = response.headers().get("link") {
            let link = link.to_str().unwrap();
            assert!(link.ends_with("; rel=\"next\""), "{link}");
            let target = link.trim_start_matches('<').split('>').next().unwrap();
            let cursor = target
                .strip_prefix("/chat/sessions?limit=2&cursor=")
                .unwrap_or_else(|| panic!("{target}"));
            assert_eq!(cursor.len(), 32, "{cursor}");
            next = Some(format!("{}{target}", server.origin));
        }
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|s| s["id"].as_str().unwrap().to_owned()));
        pages += 1;
    }
    assert_eq!(pages, 3);
    created.reverse();
    assert_eq!(seen, created);

    for bad in ["0", "201", "abc", "", "-1"] {
        assert_error(
            server
                .get(&format!("/chat/sessions?limit={bad}"), Some(&token))
                .await,
            422,
            "validation_error",
        )
        .await;
    }
    let short = "A".repeat(31);
    let long = "A".repeat(33);
    for bad in [
        "cursor=!!!",
        "cursor=bogus",
        "cursor=",
        &format!("cursor={short}"),
        &format!("cursor={long}"),
        "limit=2&limit=3",
        "limit=null&limit=null",
        &format!("cursor={}&cursor={}", "A".repeat(32), "B".repeat(32)),
    ] {
        let body = assert_error(
            server
                .get(&format!("/chat/sessions?{bad}"), Some(&token))
                .await,
            422,
            "validation_error",
        )
        .await;
        assert!(body["error"]["fields"].is_object(), "{bad}: {body}");
    }
    // Every 32 characters of the cursor alphabet name a position: one past
    // the newest session (the largest time) gives them all, one before the
    // oldest (time 0) none.
    let first: Vec<Value> = server
        .get(
            &format!("/chat/sessions?cursor=f{}", "_".repeat(31)),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first.len(), 5);
    let none: Vec<Value> = server
        .get(
            &format!("/chat/sessions?cursor={}", "A".repeat(32)),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(none.is_empty());
    let all: Vec<Value> = server
        .get("/chat/sessions?limit=200", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
}

async fn other_users_and_deleted_sessions_are_404(db: Db) {
    let Some(server) = TestServer::try_with(Options {
        db,
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let alice = server.register("alice").await;
    let mallory = server.register("mallory").await;
    let id = server.session(&alice).await;
    let path = format!("/chat/sessions/{id}");

    assert_error(server.get(&path, Some(&mallory)).await, 404, "not_found").await;
    let patch = server
        .request(Method::PATCH, &path, Some(&mallory))
        .json(&json!({ "title": "mine" }))
        .send()
        .await
        .unwrap();
    assert_error(patch, 404, "not_found").await;
    assert_error(
        server
            .request(Method::DELETE, &path, Some(&mallory))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_error(
        server
            .post(&format!("/chat/session/{id}"), Some(&mallory), &json!(null))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        server
            .post(
                "/chat/send",
                Some(&mallory),
                &json!({ "session_id": id, "content": "hi" }),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        server
            .post(
                "/chat/stream",
                Some(&mallory),
                &json!({ "session_id": id, "content": "hi" }),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        server
            .post(&format!("{path}/stop"), Some(&mallory), &json!(null))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        server.get(&format!("{path}/stream"), Some(&mallory)).await,
        404,
        "not_found",
    )
    .await;
    let theirs: Vec<Value> = server
        .get("/chat/sessions", Some(&mallory))
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs.is_empty());

    // Soft delete through DELETE, then everything is 404.
    let response = server
        .request(Method::DELETE, &path, Some(&alice))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(server.get(&path, Some(&alice)).await, 404, "not_found").await;
    assert_error(
        server
            .request(Method::DELETE, &path, Some(&alice))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_error(
        server
            .post(
                "/chat/send",
                Some(&alice),
                &json!({ "session_id": id, "content": "hi" }),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    let list: Vec<Value> = server
        .get("/chat/sessions", Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert!(list.is_empty());

    // The spec's POST /chat/session/{id}.
    let other = server.session(&alice).await;
    let response = server
        .request(
            Method::POST,
            &format!("/chat/session/{other}"),
            Some(&alice),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(
        server
            .get(&format!("/chat/sessions/{other}"), Some(&alice))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_ids_unknown_routes_wrong_methods() {
    let server = TestServer::start().await;
    let token = server.register("alice").await;
    for path in ["/chat/sessions/not-a-uuid", "/chat/sessions/123/stream"] {
        assert_error(server.get(path, Some(&token)).await, 404, "not_found").await;
    }
    assert_error(
        server
            .post("/chat/sessions/xyz/stop", Some(&token), &json!(null))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        server
            .post(
                "/chat/send",
                Some(&token),
                &json!({ "session_id": "not-a-uuid", "content": "hi" }),
            )
            .await,
        422,
        "validation_error",
    )
    .await;
    assert_error(server.get("/nope", None).await, 404, "not_found").await;
    let html = server
        .request(Method::GET, "/nope/deeper", None)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_error(html, 404, "not_found").await;

    for (method, path, allow) in [
        (Method::PUT, "/chat/sessions", "GET, POST"),
        (Method::DELETE, "/chat/sessions", "GET, POST"),
        (Method::GET, "/auth/login", "POST"),
        (Method::GET, "/chat/send", "POST"),
        (Method::POST, "/auth/me", "GET, PATCH"),
        (
            Method::POST,
            "/chat/sessions/0190a0b0-0000-7000-8000-000000000000",
            "GET, PATCH, DELETE",
        ),
        (
            Method::GET,
            "/chat/sessions/0190a0b0-0000-7000-8000-000000000000/stop",
            "POST",
        ),
        (Method::POST, "/health", "GET"),
        (Method::TRACE, "/chat/sessions", "GET, POST"),
        (Method::TRACE, "/health", "GET"),
        (Method::HEAD, "/chat/send", "POST"),
        // A method Rocket does not know never reaches a route: still 405.
        (
            Method::from_bytes(b"QUERY").unwrap(),
            "/chat/sessions",
            "GET, POST",
        ),
        (
            Method::from_bytes(b"QUERY").unwrap(),
            "/chat/sessions/0190a0b0-0000-7000-8000-000000000000/stop",
            "POST",
        ),
    ] {
        let response = server
            .request(method.clone(), path, Some(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["allow"].to_str().unwrap(),
            allow,
            "{method} {path}"
        );
        if method == Method::HEAD {
            assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        } else {
            assert_error(response, 405, "method_not_allowed").await;
        }
    }
    let options = server
        .request(Method::OPTIONS, "/chat/sessions", None)
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), StatusCode::NO_CONTENT);
    assert_eq!(options.headers()["allow"], "GET, POST, OPTIONS");
}

async fn send_stores_both_messages(db: Db) {
    let Some(server) = TestServer::try_with(Options {
        db,
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let token = server.register("alice").await;
    let id = server.session(&token).await;
    let response = server
        .post(
            "/chat/send",
            Some(&token),
            &json!({ "session_id": id, "content": "What's up?" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["provider"], "scripted");
    assert_eq!(body["user_message"]["role"], "user");
    assert_eq!(body["user_message"]["content"], "What's up?");
    assert_eq!(body["assistant_message"]["role"], "assistant");
    assert_eq!(body["assistant_message"]["status"], "complete");
    assert_eq!(
        body["assistant_message"]["content"],
        "Hello there, how are you today?"
    );
    assert_eq!(body["assistant_message"]["model"], "scripted-model");
    assert!(body["assistant_message"]["usage"]["completion_tokens"].is_number());

    let history = server.history(&token, &id).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0], body["user_message"]);
    assert_eq!(messages[1], body["assistant_message"]);
    assert_eq!(history["session"]["title"], "What's up?");

    for content in [
        json!(""),
        json!("   "),
        json!("a\u{0}b"),
        json!("x".repeat(32_001)),
    ] {
        assert_error(
            server
                .post(
                    "/chat/send",
                    Some(&token),
                    &json!({ "session_id": id, "content": content }),
                )
                .await,
            422,
            "validation_error",
        )
        .await;
    }
    assert_error(
        server
            .post("/chat/send", Some(&token), &json!({ "session_id": id }))
            .await,
        422,
        "validation_error",
    )
    .await;
    assert_error(
        server
            .post(
                "/chat/send",
                Some(&token),
                &json!({ "session_id": id, "content": 3 }),
            )
            .await,
        422,
        "validation_error",
    )
    .await;
    assert_error(
        server.post_raw("/chat/send", Some(&token), "{").await,
        400,
        "bad_request",
    )
    .await;
    let huge = json!({ "session_id": id, "content": "y".repeat(70_000) });
    assert_error(
        server.post("/chat/send", Some(&token), &huge).await,
        413,
        "payload_too_large",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_when_every_provider_fails_is_502_and_keeps_the_user_message() {
    let provider = ScriptedProvider::new("down")
        .with_default(vec![ScriptStep::Fail(LlmErrorKind::Unavailable)]);
    let server = TestServer::with(Options {
        provider,
        ..Default::default()
    })
    .await;
    let token = server.register("alice").await;
    let id = server.session(&token).await;
    assert_error(
        server
            .post(
                "/chat/send",
                Some(&token),
                &json!({ "session_id": id, "content": "anyone?" }),
            )
            .await,
        502,
        "llm_unavailable",
    )
    .await;
    let history = server.history(&token, &id).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages[0]["content"], "anyone?");
    assert_eq!(messages[1]["status"], "error");
    assert_eq!(messages[1]["content"], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_rate_limit_counts_send_and_stream() {
    let server = TestServer::with(Options {
        messages_per_minute: 2,
        ..Default::default()
    })
    .await;
    let token = server.register("alice").await;
    let id = server.session(&token).await;
    let first = server
        .post(
            "/chat/send",
            Some(&token),
            &json!({ "session_id": id, "content": "one" }),
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    // A rejected request does not count.
    assert_error(
        server
            .post(
                "/chat/send",
                Some(&token),
                &json!({ "session_id": id, "content": "" }),
            )
            .await,
        422,
        "validation_error",
    )
    .await;
    let second = server
        .post(
            "/chat/stream",
            Some(&token),
            &json!({ "session_id": id, "content": "two" }),
        )
        .await;
    common::SseReader::new(second).all().await;
    let third = server
        .post(
            "/chat/send",
            Some(&token),
            &json!({ "session_id": id, "content": "three" }),
        )
        .await;
    let retry: u64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_error(third, 429, "rate_limited").await;
    assert_error(
        server
            .post(
                "/chat/stream",
                Some(&token),
                &json!({ "session_id": id, "content": "four" }),
            )
            .await,
        429,
        "rate_limited",
    )
    .await;
    // Another user has their own budget.
    let bob = server.register("bob").await;
    let bobs = server.session(&bob).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let ok = server
        .post(
            "/chat/send",
            Some(&bob),
            &json!({ "session_id": bobs, "content": "hi" }),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_with_link_header_sqlite() {
    paging_with_link_header(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_with_link_header_postgres() {
    paging_with_link_header(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_users_and_deleted_sessions_are_404_sqlite() {
    other_users_and_deleted_sessions_are_404(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_users_and_deleted_sessions_are_404_postgres() {
    other_users_and_deleted_sessions_are_404(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_stores_both_messages_sqlite() {
    send_stores_both_messages(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_stores_both_messages_postgres() {
    send_stores_both_messages(Db::Postgres).await;
}
