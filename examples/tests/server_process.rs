//! Starts the real `chatcore-server` binary with a temporary database and
//! drives it over HTTP: health, auth, a reply from the offline provider, the
//! web UI with its SPA fallback, the persisted JWT key, and a graceful
//! SIGTERM that stores a running reply as `interrupted`.
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatcore-server"))
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
