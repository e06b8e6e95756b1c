//! Starts the `embedded` example (chatcore under /api in a host app, with the
//! host's own provider and an in-memory store) and checks both halves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_example_mounts_chatcore_under_api() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_embedded"))
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", "0")
        .env("ROCKET_CLI_COLORS", "false")
        .env_remove("ROCKET_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(at) = line.find("launched from http://") {
                let rest = &line[at + "launched from ".len()..];
                let url: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                let _ = tx.send(url);
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("launch line");
    let http = reqwest::Client::new();
    let index = http
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("host application"));
    let registered: Value = http
        .post(format!("{url}/api/auth/register"))
        .json(&json!({ "email": "embed@example.com", "password": "a long password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["access_token"].as_str().unwrap();
    let session: Value = http
        .post(format!("{url}/api/chat/sessions"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reply: Value = http
        .post(format!("{url}/api/chat/send"))
        .bearer_auth(token)
        .json(&json!({ "session_id": session["id"], "content": "one two three" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["provider"], "reverser");
    assert_eq!(reply["assistant_message"]["content"], "three two one ");
    let missing: Value = http
        .get(format!("{url}/api/nope"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(missing["error"]["code"], "not_found");
    let _ = child.kill();
    let _ = child.wait();
}
