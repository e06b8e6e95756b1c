//! A small fake HTTP/1.1 server for provider tests: records every request
//! and plays scripted replies as chunked bodies, with pauses between
//! chunks, and can drop the connection mid-body or hang until the client
//! goes away.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod chain;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatcore::{LlmError, LlmEvent, LlmStream};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

#[derive(Clone, Debug)]
enum Step {
    Send(Vec<u8>),
    Sleep(Duration),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Complete,
    Drop,
    Hang,
}

/// A scripted reply.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    steps: Vec<Step>,
    end: End,
}

impl Reply {
    /// A `text/event-stream` reply with this status.
    pub fn sse() -> Self {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            steps: Vec::new(),
            end: End::Complete,
        }
    }

    /// A whole JSON body.
    pub fn json(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            steps: vec![Step::Send(body.as_bytes().to_vec())],
            end: End::Complete,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends these bytes as one network chunk.
    pub fn chunk(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.steps.push(Step::Send(bytes.as_ref().to_vec()));
        self
    }

    /// Sends `text` cut into pieces of `size` bytes (cutting UTF-8
    /// characters, JSON objects and CRLF pairs), pausing `gap` between them.
    pub fn pieces(mut self, text: &str, size: usize, gap: Duration) -> Self {
        for piece in text.as_bytes().chunks(size) {
            self.steps.push(Step::Send(piece.to_vec()));
            if !gap.is_zero() {
                self.steps.push(Step::Sleep(gap));
            }
        }
        self
    }

    pub fn sleep(mut self, pause: Duration) -> Self {
        self.steps.push(Step::Sleep(pause));
        self
    }

    /// Closes the connection without finishing the chunked body.
    pub fn then_drop(mut self) -> Self {
        self.end = End::Drop;
        self
    }

    /// Never finishes; waits until the client closes the connection.
    pub fn then_hang(mut self) -> Self {
        self.end = End::Hang;
        self
    }
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    closed_by_client: AtomicUsize,
    closed: Notify,
}

/// The fake server. It stops when dropped (its accept task is aborted).
pub struct FakeServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    pub async fn start() -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let task_shared = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, task_shared.clone()));
            }
        });
        FakeServer { addr, shared, task }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Queues a reply for the next request.
    pub fn push(&self, reply: Reply) {
        self.shared.replies.lock().unwrap().push_back(reply);
    }

    /// The reply for requests when the queue is empty.
    pub fn set_default(&self, reply: Reply) {
        *self.shared.default.lock().unwrap() = Some(reply);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many hanging replies saw the client close the connection.
    pub fn closed_by_client(&self) -> usize {
        self.shared.closed_by_client.load(Ordering::SeqCst)
    }

    /// Waits (up to 5 s) until a hanging reply sees the client close.
    pub async fn wait_client_close(&self) -> bool {
        let wait = async {
            loop {
                let notified = self.shared.closed.notified();
                if self.closed_by_client() > 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .is_ok()
    }
}

/// An address where nothing listens (connection refused).
pub async fn dead_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = socket.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Some(Recorded {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
        at: Instant::now(),
    })
}

async fn serve(mut socket: TcpStream, shared: Arc<Shared>) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    shared.requests.lock().unwrap().push(request);
    let reply = shared
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| shared.default.lock().unwrap().clone())
        .unwrap_or_else(|| {
            Reply::json(
                500,
                r#"{"error":{"code":500,"message":"no scripted reply"}}"#,
            )
        });
    let mut head = format!("HTTP/1.1 {} Scripted\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let _ = socket.flush().await;
    for step in reply.steps {
        match step {
            Step::Send(bytes) => {
                if bytes.is_empty() {
                    continue;
                }
                let mut frame = format!("{:x}\r\n", bytes.len()).into_bytes();
                frame.extend_from_slice(&bytes);
                frame.extend_from_slice(b"\r\n");
                if socket.write_all(&frame).await.is_err() {
                    return;
                }
                let _ = socket.flush().await;
            }
            Step::Sleep(pause) => tokio::time::sleep(pause).await,
        }
    }
    match reply.end {
        End::Complete => {
            let _ = socket.write_all(b"0\r\n\r\n").await;
            let _ = socket.shutdown().await;
        }
        End::Drop => drop(socket),
        End::Hang => {
            let mut tmp = [0u8; 256];
            loop {
                match socket.read(&mut tmp).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            shared.closed_by_client.fetch_add(1, Ordering::SeqCst);
            shared.closed.notify_waiters();
        }
    }
}

/// Everything a stream produced: the text, the finish (if any) and the
/// error (if any).
#[derive(Debug)]
pub struct Collected {
    pub deltas: Vec<String>,
    pub finish: Option<chatcore::Finish>,
    pub error: Option<LlmError>,
}

impl Collected {
    pub fn text(&self) -> String {
        self.deltas.concat()
    }
}

pub async fn collect(result: Result<LlmStream, LlmError>) -> Collected {
    let mut collected = Collected {
        deltas: Vec::new(),
        finish: None,
        error: None,
    };
    let mut stream = match result {
        Ok(stream) => stream,
        Err(error) => {
            collected.error = Some(error);
            return collected;
        }
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(LlmEvent::Delta(text)) => collected.deltas.push(text),
            Ok(LlmEvent::Finished(finish)) => {
                assert!(collected.finish.is_none(), "two finish events");
                collected.finish = Some(finish);
            }
            Err(error) => {
                assert!(collected.error.is_none(), "two errors");
                collected.error = Some(error);
            }
        }
    }
    assert!(
        !(collected.finish.is_some() && collected.error.is_some()),
        "both a finish and an error"
    );
    collected
}

/// SSE framing of JSON payloads with the given line end.
pub fn sse_events(payloads: &[&str], line_end: &str) -> String {
    payloads
        .iter()
        .map(|p| format!("data: {p}{line_end}{line_end}"))
        .collect()
}
