//! The reference server configured from the environment with Gemini first
//! and OpenAI second, both pointed by base URL at local fake upstreams:
//! Gemini answers 500, so the reply comes from OpenAI, and `done` names it;
//! the session's title, asked for after that first reply, comes from OpenAI too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

type Seen = Arc<Mutex<Vec<String>>>;

/// A one-response-per-connection HTTP/1.1 fake. Records each request's
/// request line and headers (lower-cased) and answers `respond(request)`.
fn fake_upstream(respond: fn(&str) -> String) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let request = read_request(&stream);
            log.lock().unwrap().push(request.clone());
            let mut stream = stream;
            let _ = stream.write_all(respond(&request).as_bytes());
        }
    });
    (url, seen)
}

fn read_request(stream: &TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        head.push_str(&lower);
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    head + "\n" + &String::from_utf8_lossy(&body)
}

fn gemini_down(_: &str) -> String {
    let body = r#"{"error":{"code":500,"message":"internal","status":"INTERNAL"}}"#;
    format!(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The start of chatcore's title instruction (`chatcore::titles::TITLE_INSTRUCTION`).
const TITLE_REQUEST: &str = "You name chat conversations.";

fn openai_ok(request: &str) -> String {
    let pieces: &[&str] = if request.contains(TITLE_REQUEST) {
        &["\"Greeting", " the", " fallback\""]
    } else {
        &["Hello", " from", " the", " fallback"]
    };
    let mut body = String::new();
    for piece in pieces {
        body.push_str(&format!(
            "data: {}\n\n",
            json!({"id":"c1","object":"chat.completion.chunk","model":"fake-mini",
                   "choices":[{"index":0,"delta":{"content":piece},"finish_reason":null}]})
        ));
    }
    body.push_str(&format!(
        "data: {}\n\n",
        json!({"id":"c1","object":"chat.completion.chunk","model":"fake-mini",
               "choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})
    ));
    body.push_str(&format!(
        "data: {}\n\ndata: [DONE]\n\n",
        json!({"id":"c1","object":"chat.completion.chunk","model":"fake-mini","choices":[],
               "usage":{"prompt_tokens":7,"completion_tokens":4,"total_tokens":11}})
    ));
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_failing_falls_back_to_openai_with_its_text_intact() {
    let (gemini, gemini_seen) = fake_upstream(gemini_down);
    let (openai, openai_seen) = fake_upstream(openai_ok);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatcore-server"))
        .current_dir(dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("c.db").display()),
        )
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", "0")
        .env("JWT_SECRET", "fallback-test-secret-fallback-test-secret")
        .env("CHATCORE_PROVIDERS", "gemini,openai")
        .env("GEMINI_API_KEY", "gemini-test-key")
        .env("GEMINI_MODEL", "gemini-fake")
        .env("GEMINI_BASE_URL", format!("{gemini}/v1beta"))
        .env("OPENAI_API_KEY", "openai-test-key")
        .env("OPENAI_MODEL", "fake-mini")
        .env("OPENAI_BASE_URL", format!("{openai}/v1"))
        .env("CHATCORE_WEB_DIR", dir.path().join("no-ui"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("chatcore-server listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let http = reqwest::Client::new();

    let health: Value = http
        .get(format!("{url}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = health["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gemini", "openai"]);

    let auth: Value = http
        .post(format!("{url}/auth/register"))
        .json(&json!({"email": "fall@example.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = auth["access_token"].as_str().unwrap().to_owned();
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
    let sse = http
        .post(format!("{url}/chat/stream"))
        .bearer_auth(&token)
        .json(&json!({"session_id": session["id"], "content": "Say hello"}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let mut streamed = String::new();
    let mut done = None;
    let mut event = String::new();
    for line in sse.lines() {
        if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_owned();
        } else if let Some(data) = line.strip_prefix("data:") {
            let data: Value = serde_json::from_str(data.trim()).unwrap();
            match event.as_str() {
                "delta" => streamed.push_str(data["text"].as_str().unwrap()),
                "done" => done = Some(data),
                "error" => panic!("error event: {data}"),
                _ => {}
            }
        }
    }
    let done = done.expect("a done event");
    assert_eq!(streamed, "Hello from the fallback");
    assert_eq!(done["provider"], "openai");
    assert_eq!(done["message"]["content"], "Hello from the fallback");
    assert_eq!(done["message"]["model"], "fake-mini");
    assert_eq!(done["message"]["usage"]["completion_tokens"], 4);

    // After the first reply the title is asked for (Gemini fails, OpenAI
    // answers, quoted); until then the session has its derived title.
    let session_url = format!("{url}/chat/sessions/{}", session["id"].as_str().unwrap());
    let mut detail = Value::Null;
    for _ in 0..100 {
        detail = http
            .get(&session_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if detail["session"]["title"] != "Say hello" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(detail["session"]["title"], "Greeting the fallback");

    // Gemini was asked (with its key in the header, not the URL): the reply
    // streamed, with its retries, and the title once as `:generateContent`.
    let gemini_requests = gemini_seen.lock().unwrap().clone();
    let (streamed_requests, title_requests): (Vec<_>, Vec<_>) =
        gemini_requests.iter().partition(|r| {
            r.starts_with("post /v1beta/models/gemini-fake:streamgeneratecontent?alt=sse ")
        });
    assert!(!streamed_requests.is_empty());
    assert_eq!(title_requests.len(), 1, "{title_requests:?}");
    assert!(title_requests[0].starts_with("post /v1beta/models/gemini-fake:generatecontent "));
    assert!(title_requests[0].contains(TITLE_REQUEST));
    for request in &gemini_requests {
        assert!(request.contains("x-goog-api-key: gemini-test-key"));
        assert!(!request.lines().next().unwrap().contains("key="));
    }
    // OpenAI: the reply, then the title.
    let openai_requests = openai_seen.lock().unwrap().clone();
    assert_eq!(openai_requests.len(), 2);
    for request in &openai_requests {
        assert!(request.starts_with("post /v1/chat/completions "));
        assert!(request.contains("authorization: bearer openai-test-key"));
    }
    assert!(!openai_requests[0].contains(TITLE_REQUEST));
    assert!(openai_requests[1].contains(TITLE_REQUEST));

    // The stored history matches what was streamed.
    assert_eq!(detail["messages"][1]["content"], "Hello from the fallback");
    assert_eq!(detail["messages"][1]["provider"], "openai");
}
