//! Starts the real `chatcore-server` binary with a temporary database and
//! drives it over HTTP: health, auth, a reply from the offline provider, the
//! web UI with its SPA fallback, the persisted JWT key, a graceful
//! SIGTERM that stores a running reply as `interrupted`, and the messenger
//! with its uploads on disk (beside the database, or `CHATCORE_UPLOAD_DIR`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, delay_ms: u32) -> Server {
    start_with(dir, delay_ms, &[])
}

fn start_with(dir: &Path, delay_ms: u32, env: &[(&str, &Path)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatcore-server"));
    command.env_remove("CHATCORE_UPLOAD_DIR");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .current_dir(dir)
        .env_remove("JWT_SECRET")
        .env_remove("CHATCORE_PROVIDERS")
        .env_remove("GEMINI_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ROCKET_CONFIG")
        .env_remove("ROCKET_PROFILE")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("chat.db").display()),
        )
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", "0")
        .env("CHATCORE_WEB_DIR", dir.join("web"))
        .env("CHATCORE_OFFLINE_DELAY_MS", delay_ms.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start chatcore-server");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("chatcore-server listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server prints where it listens");
    Server { child, url }
}

fn terminate(mut server: Server) {
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    for _ in 0..200 {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not stop within 10 s of SIGTERM");
}

fn web_dir(dir: &Path) {
    std::fs::create_dir_all(dir.join("web/assets")).unwrap();
    std::fs::write(
        dir.join("web/index.html"),
        "<!doctype html><title>chatcore UI</title>",
    )
    .unwrap();
    std::fs::write(dir.join("web/assets/app.js"), "console.log('ui')").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_process_serves_the_api_and_the_ui() {
    let dir = tempfile::tempdir().unwrap();
    web_dir(dir.path());
    let server = start(dir.path(), 0);
    let http = reqwest::Client::new();
    let url = server.url.clone();

    let health: Value = http
        .get(format!("{url}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "ok");
    assert_eq!(health["providers"][0]["name"], "offline");
    assert!(dir.path().join("chat.db").exists());
    assert!(dir.path().join("chat.db.jwt-secret").exists());

    let registered: Value = http
        .post(format!("{url}/auth/register"))
        .json(&json!({ "email": "proc@example.com", "password": "a long password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["access_token"].as_str().unwrap().to_owned();
    let session: Value = http
        .post(format!("{url}/chat/sessions"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reply: Value = http
        .post(format!("{url}/chat/send"))
        .bearer_auth(&token)
        .json(&json!({ "session_id": session["id"], "content": "Hello offline world" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["provider"], "offline", "{reply}");
    assert_eq!(reply["assistant_message"]["status"], "complete");
    assert!(!reply["assistant_message"]["content"]
        .as_str()
        .unwrap()
        .is_empty());

    // The UI and its SPA fallback; API paths stay JSON.
    let index = http.get(format!("{url}/")).send().await.unwrap();
    assert!(index.text().await.unwrap().contains("chatcore UI"));
    let asset = http
        .get(format!("{url}/assets/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.text().await.unwrap(), "console.log('ui')");
    let reload = http
        .get(format!("{url}/chat/{}", session["id"].as_str().unwrap()))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert!(reload.text().await.unwrap().contains("chatcore UI"));
    // A page load of the UI's login route gets the UI; an API client still
    // gets the 405 of a POST-only path.
    let login_page = http
        .get(format!("{url}/auth/login"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(login_page.text().await.unwrap().contains("chatcore UI"));
    let api_client = http
        .get(format!("{url}/auth/login"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(api_client.status().as_u16(), 405);
    assert_eq!(api_client.headers()["allow"], "POST");
    for (path, status) in [("/chat/sessions", 401), ("/chat/sessions/abc", 401)] {
        let response = http
            .get(format!("{url}{path}"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["code"].is_string());
    }
    let missing = http
        .get(format!("{url}/no/such/thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    terminate(server);

    // A new process on the same database accepts the old token (key persisted).
    let server = start(dir.path(), 0);
    let me = http
        .get(format!("{}/auth/me", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stores_a_running_reply_as_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    web_dir(dir.path());
    let server = start(dir.path(), 300);
    let http = reqwest::Client::new();
    let url = server.url.clone();
    let registered: Value = http
        .post(format!("{url}/auth/register"))
        .json(&json!({ "email": "term@example.com", "password": "a long password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["access_token"].as_str().unwrap().to_owned();
    let session: Value = http
        .post(format!("{url}/chat/sessions"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = session["id"].as_str().unwrap().to_owned();
    let mut response = http
        .post(format!("{url}/chat/stream"))
        .bearer_auth(&token)
        .json(
            &json!({ "session_id": id, "content": "please write a long answer about many things" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut seen = String::new();
    while !seen.contains("event:delta") {
        let chunk = tokio::time::timeout(Duration::from_secs(20), response.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    tokio::task::spawn_blocking(move || terminate(server))
        .await
        .unwrap();

    let server = start(dir.path(), 0);
    let history: Value = http
        .get(format!("{}/chat/sessions/{id}", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reply = &history["messages"][1];
    assert_eq!(reply["status"], "interrupted", "{history}");
    assert!(!reply["content"].as_str().unwrap().is_empty());
}

/// A 3 x 2 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0x12, 0x16, 0xf1,
    0x4d, 0x00, 0x00, 0x00, 0x15, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x64, 0x64, 0x62, 0x66,
    0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x62, 0x80, 0x01, 0x00, 0x00, 0xa6, 0x00, 0x0a, 0x01, 0xde,
    0x68, 0x2f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A `multipart/form-data` body with one part `file` (built by the test,
/// the way a browser's `FormData` does).
fn upload(bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "chatcore-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn register(
    http: &reqwest::Client,
    url: &str,
    name: &str,
    display: &str,
) -> (String, String) {
    let body: Value = http
        .post(format!("{url}/auth/register"))
        .json(&json!({"email": format!("{name}@example.com"), "password": "correct horse battery", "username": name, "display_name": display}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["user"]["display_name"], display);
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["user"]["id"].as_str().unwrap().to_owned(),
    )
}

fn files(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The messenger with no configuration: two people find each other, talk,
/// and their uploads land in `uploads/` beside the database (or in
/// `CHATCORE_UPLOAD_DIR`), under random names.
#[tokio::test]
async fn server_process_runs_the_messenger_with_uploads_on_disk() {
    for explicit in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let server = if explicit {
            start_with(dir.path(), 0, &[("CHATCORE_UPLOAD_DIR", elsewhere.path())])
        } else {
            start(dir.path(), 0)
        };
        let uploads = if explicit {
            elsewhere.path().to_path_buf()
        } else {
            dir.path().join("uploads")
        };
        let http = reqwest::Client::new();
        let url = server.url.clone();
        let (ada, _) = register(&http, &url, "ada", "Ada Lovelace").await;
        let (_, elodie_id) = register(&http, &url, "elodie", "Élodie Martin").await;

        let found: Value = http
            .get(format!("{url}/users/search?q=%C3%89LODIE"))
            .bearer_auth(&ada)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found[0]["id"], elodie_id.as_str());
        assert!(found[0].get("email").is_none());

        let created = http
            .post(format!("{url}/conversations"))
            .bearer_auth(&ada)
            .json(&json!({"member_ids": [elodie_id]}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let conversation: Value = created.json().await.unwrap();
        assert_eq!(conversation["kind"], "direct");
        let id = conversation["id"].as_str().unwrap();

        let (content_type, body) = upload(PNG);
        let me: Value = http
            .put(format!("{url}/auth/me/avatar"))
            .bearer_auth(&ada)
            .header("content-type", &content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let avatar = me["avatar_url"].as_str().unwrap().to_owned();
        let name = avatar.strip_prefix("/avatars/").unwrap();
        assert_eq!(files(&uploads.join("avatars")), vec![name.to_owned()]);
        assert_eq!(name.len(), 32 + ".png".len());
        let served = http.get(format!("{url}{avatar}")).send().await.unwrap();
        assert_eq!(served.headers()["content-type"], "image/png");

        let media = http
            .post(format!("{url}/media"))
            .bearer_auth(&ada)
            .header("content-type", &content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(media.status(), 201);
        let media: Value = media.json().await.unwrap();
        assert_eq!(
            (media["width"].as_u64(), media["height"].as_u64()),
            (Some(3), Some(2))
        );
        assert_eq!(files(&uploads.join("images")).len(), 1);

        let sent = http
            .post(format!("{url}/conversations/{id}/messages"))
            .bearer_auth(&ada)
            .json(&json!({"text": "Bonjour !", "image_id": media["id"], "client_id": "c-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 201);
        let sent: Value = sent.json().await.unwrap();
        assert_eq!(sent["seq"], 1);
        assert_eq!(sent["image"]["id"], media["id"]);
        if !explicit {
            assert!(!elsewhere.path().join("avatars").exists());
        }
        terminate(server);
    }
}
