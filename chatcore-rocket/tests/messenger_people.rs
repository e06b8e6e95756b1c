//! API.md Part 2, People: display names, avatars (stored, served, replaced,
//! removed), avatar names that try to leave the directory, people search
//! and profiles, over a real port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::messenger::{files_below, jpeg, png, Part};
use common::{assert_error, Db, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn messenger_server(db: Db) -> Option<TestServer> {
    TestServer::try_with(Options::on(db)).await
}

async fn patch_me(server: &TestServer, token: &str, body: Value) -> reqwest::Response {
    server
        .request(Method::PATCH, "/auth/me", Some(token))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    keys
}

async fn display_names_at_registration_and_later(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", Some("  Alice Liddell ")).await;
    assert_eq!(alice.user["display_name"], "Alice Liddell");
    assert_eq!(alice.user["avatar_url"], Value::Null);
    assert_eq!(
        keys(&alice.user),
        [
            "avatar_url",
            "created_at",
            "display_name",
            "email",
            "id",
            "username"
        ]
    );
    let bob = server.member("bob", None).await;
    assert_eq!(bob.user["display_name"], "bob", "the username by default");

    let response = patch_me(&server, &alice.token, json!({"display_name": " Ally "})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["display_name"], "Ally");
    assert_eq!(user["email"], "alice@example.com");
    let me = server.get_json("/auth/me", &alice.token).await;
    assert_eq!(me["display_name"], "Ally");
    let seen = server
        .get_json(&format!("/users/{}", alice.id), &bob.token)
        .await;
    assert_eq!(seen["display_name"], "Ally");

    for bad in [
        json!({"display_name": ""}),
        json!({"display_name": "   "}),
        json!({"display_name": "a\u{7}b"}),
        json!({"display_name": "line\nbreak"}),
        json!({"display_name": "x".repeat(65)}),
        json!({"display_name": 5}),
        json!({}),
    ] {
        let response = patch_me(&server, &alice.token, bad.clone()).await;
        let body = assert_error(response, 422, "validation_error").await;
        assert!(
            body["error"]["fields"]["display_name"].is_string(),
            "{bad}: {body}"
        );
    }
    let response = patch_me(
        &server,
        &alice.token,
        json!({"display_name": "é".repeat(64)}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = server
        .post(
            "/auth/register",
            None,
            &json!({"email": "carol@example.com", "password": "correct horse battery",
                    "display_name": "\u{0}"}),
        )
        .await;
    let body = assert_error(response, 422, "validation_error").await;
    assert!(
        body["error"]["fields"]["display_name"].is_string(),
        "{body}"
    );
    let response = patch_me(&server, "nope", json!({"display_name": "x"})).await;
    assert_error(response, 401, "unauthorized").await;
}

/// `/avatars/<32 hex>.<ext>` of a `user`.
fn avatar_name(user: &Value) -> String {
    let url = user["avatar_url"].as_str().unwrap();
    let name = url.strip_prefix("/avatars/").unwrap();
    let (stem, ext) = name.split_once('.').unwrap();
    assert_eq!(stem.len(), 32, "{url}");
    assert!(stem
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert!(["png", "jpg"].contains(&ext), "{url}");
    name.to_owned()
}

async fn avatars_are_stored_served_replaced_and_removed(db: Db) {
    let uploads = tempfile::tempdir().unwrap();
    let Some(server) = TestServer::try_with(Options {
        uploads: Some(uploads.path().to_owned()),
        ..Options::on(db)
    })
    .await
    else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;

    let part = Part::file(png(300, 200), "me.gif", "image/gif");
    let response = server
        .upload(Method::PUT, "/auth/me/avatar", Some(&alice.token), &[part])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    let first = avatar_name(&user);
    assert!(first.ends_with(".png"), "typed by its bytes: {first}");
    assert_eq!(
        files_below(uploads.path()),
        [uploads
            .path()
            .join("avatars")
            .join(&first)
            .display()
            .to_string()]
    );

    // Public: no token.
    let served = server.get(&format!("/avatars/{first}"), None).await;
    assert_eq!(served.status(), StatusCode::OK);
    let headers = served.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let bytes = served.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (200, 200),
        "a centred square"
    );

    // Others see it on the person.
    let person = server
        .get_json(&format!("/users/{}", alice.id), &bob.token)
        .await;
    assert_eq!(person["avatar_url"], user["avatar_url"]);
    assert_eq!(
        keys(&person),
        ["avatar_url", "display_name", "id", "username"]
    );

    // A new avatar replaces the file.
    let part = Part::file(jpeg(600, 600), "me.png", "image/png");
    let response = server
        .upload(Method::PUT, "/auth/me/avatar", Some(&alice.token), &[part])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    let second = avatar_name(&user);
    assert!(second.ends_with(".jpg"), "{second}");
    assert_ne!(first, second);
    assert_eq!(
        files_below(uploads.path()),
        [uploads
            .path()
            .join("avatars")
            .join(&second)
            .display()
            .to_string()]
    );
    let old = server.get(&format!("/avatars/{first}"), None).await;
    assert_error(old, 404, "not_found").await;
    let served = server.get(&format!("/avatars/{second}"), None).await;
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    let decoded = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (256, 256),
        "at most 256 a side"
    );
    assert_eq!(
        server.get_json("/auth/me", &alice.token).await["avatar_url"],
        user["avatar_url"]
    );

    // Removing it deletes the file.
    let response = server
        .request(Method::DELETE, "/auth/me/avatar", Some(&alice.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["avatar_url"], Value::Null);
    assert_eq!(files_below(uploads.path()), Vec::<String>::new());
    let gone = server.get(&format!("/avatars/{second}"), None).await;
    assert_error(gone, 404, "not_found").await;
    // Removing none is fine.
    let response = server
        .request(Method::DELETE, "/auth/me/avatar", Some(&alice.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Sends `GET <path>` as written (no client-side normalisation of `..`)
/// and returns the status and the body.
async fn raw_get(server: &TestServer, path: &str) -> (u16, String) {
    let address = server.origin.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

async fn avatar_names_never_leave_the_directory(db: Db) {
    let uploads = tempfile::tempdir().unwrap();
    let Some(server) = TestServer::try_with(Options {
        uploads: Some(uploads.path().to_owned()),
        ..Options::on(db)
    })
    .await
    else {
        return;
    };
    // Something to find if a name could climb out of avatars/.
    std::fs::write(uploads.path().join("secret.png"), b"not an avatar").unwrap();
    let alice = server.member("alice", None).await;
    let part = Part::file(png(8, 8), "a.png", "image/png");
    let response = server
        .upload(Method::PUT, "/auth/me/avatar", Some(&alice.token), &[part])
        .await;
    let user: Value = response.json().await.unwrap();
    let name = avatar_name(&user);
    let upper = name.to_uppercase();
    for path in [
        "/avatars/../../etc/passwd".to_owned(),
        "/avatars/..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/avatars/%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_owned(),
        "/avatars/..%252F..%252Fetc%252Fpasswd".to_owned(),
        "/avatars/%2E%2E".to_owned(),
        "/avatars/..".to_owned(),
        "/avatars/..%2Fsecret.png".to_owned(),
        "/avatars/%2e%2e%5csecret.png".to_owned(),
        "/avatars/secret.png".to_owned(),
        "/avatars/%00".to_owned(),
        format!("/avatars/{upper}"),
        format!("/avatars/{name}%00"),
        format!("/avatars/{name}.png"),
        format!("/avatars/.{name}"),
        "/avatars/0123456789abcdef0123456789abcdef.png".to_owned(),
        "/avatars/0123456789abcdef0123456789abcdef.svg".to_owned(),
    ] {
        let (status, body) = raw_get(&server, &path).await;
        assert_eq!(status, 404, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        assert_eq!(body["error"]["code"], "not_found", "{path}");
        assert!(!body.to_string().contains("root:"), "{path}");
    }
    let (status, _) = raw_get(&server, &format!("/avatars/{name}")).await;
    assert_eq!(status, 200);
    // A percent-encoded `.` is the same name (RFC 3986: an unreserved
    // character), so it is the same avatar.
    let encoded = name.replace('.', "%2E");
    let (status, _) = raw_get(&server, &format!("/avatars/{encoded}")).await;
    assert_eq!(status, 200);
}

async fn avatar_urls_include_the_base_path(db: Db) {
    let Some(server) = TestServer::try_with(Options {
        base: "/api",
        ..Options::on(db)
    })
    .await
    else {
        return;
    };
    let alice = server.member("alice", None).await;
    let part = Part::file(png(16, 16), "a.png", "image/png");
    let response = server
        .upload(Method::PUT, "/auth/me/avatar", Some(&alice.token), &[part])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    let url = user["avatar_url"].as_str().unwrap();
    assert!(url.starts_with("/api/avatars/"), "{url}");
    let served = server
        .http
        .get(format!("{}{url}", server.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
}

async fn search(server: &TestServer, token: &str, query: &str) -> reqwest::Response {
    server
        .get(&format!("/users/search?{query}"), Some(token))
        .await
}

async fn names(response: reqwest::Response) -> Vec<String> {
    assert_eq!(response.status(), StatusCode::OK);
    let people: Value = response.json().await.unwrap();
    people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(keys(p), ["avatar_url", "display_name", "id", "username"]);
            p["display_name"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn people_search_and_profiles(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let me = server.member("searcher", Some("Élodie Searcher")).await;
    server.member("elodie", Some("élodie")).await;
    server.member("elodie_b", Some("Élodie Bernard")).await;
    server.member("marie", Some("Marie-Élodie")).await;
    server.member("zed", Some("Zed")).await;

    // Case-insensitive for all of Unicode; the caller excluded; exact,
    // then prefix, then the rest.
    let found = names(search(&server, &me.token, "q=%C3%89LODIE").await).await;
    assert_eq!(found, ["élodie", "Élodie Bernard", "Marie-Élodie"]);
    let found = names(search(&server, &me.token, "q=+%20elodie%20&limit=1").await).await;
    assert_eq!(found, ["élodie"]);
    // Usernames are searched, emails are not.
    assert_eq!(
        names(search(&server, &me.token, "q=elodie_b").await).await,
        ["Élodie Bernard"]
    );
    assert!(names(search(&server, &me.token, "q=example.com").await)
        .await
        .is_empty());

    for (query, field) in [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("q=a%07b", "q"),
        ("q=a&q=b", "q"),
        ("q=a&limit=0", "limit"),
        ("q=a&limit=51", "limit"),
        ("q=a&limit=x", "limit"),
        ("q=a&limit=1&limit=2", "limit"),
    ] {
        let body = assert_error(
            search(&server, &me.token, query).await,
            422,
            "validation_error",
        )
        .await;
        assert!(
            body["error"]["fields"][field].is_string(),
            "{query}: {body}"
        );
    }
    let long = "x".repeat(65);
    assert_error(
        search(&server, &me.token, &format!("q={long}")).await,
        422,
        "validation_error",
    )
    .await;
    assert_error(search(&server, "bad", "q=x").await, 401, "unauthorized").await;

    let zed = server.get_json("/users/search?q=zed", &me.token).await;
    let id = zed[0]["id"].as_str().unwrap().to_owned();
    let person = server.get_json(&format!("/users/{id}"), &me.token).await;
    assert_eq!(person["username"], "zed");
    assert_eq!(person["display_name"], "Zed");
    for path in [
        "/users/not-a-uuid".to_owned(),
        format!("/users/{}", uuid::Uuid::now_v7()),
        format!("/users/{id}x"),
    ] {
        assert_error(server.get(&path, Some(&me.token)).await, 404, "not_found").await;
    }
    assert_error(
        server.get(&format!("/users/{id}"), None).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn without_a_messenger_its_routes_are_503() {
    let server = TestServer::with(Options::on(Db::Memory)).await;
    let alice = server.member("alice", None).await;
    // A server built without `with_messenger`.
    let state =
        chatcore_rocket::ApiState::new(server.state.auth.clone(), server.state.chat.clone());
    let rocket =
        chatcore_rocket::Chatcore::new(state).attach(rocket::custom(common::rocket_config()), "/");
    let (port, shutdown) = common::launch(rocket).await;
    let url = format!("http://127.0.0.1:{port}");
    for (method, path) in [
        (Method::GET, "/users/search?q=a"),
        (Method::GET, "/conversations"),
        (Method::GET, "/avatars/0123456789abcdef0123456789abcdef.png"),
    ] {
        let response = server
            .http
            .request(method, format!("{url}{path}"))
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap();
        assert_error(response, 503, "unavailable").await;
    }
    shutdown.notify();
}

on_every_store!(
    display_names_at_registration_and_later,
    avatars_are_stored_served_replaced_and_removed,
    avatar_names_never_leave_the_directory,
    avatar_urls_include_the_base_path,
    people_search_and_profiles,
);
