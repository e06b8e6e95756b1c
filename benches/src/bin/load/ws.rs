//! Many authenticated, idle WebSocket connections held open at once.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::server::Server;

#[derive(Debug, Default)]
pub struct WsResult {
    pub target: usize,
    pub held: usize,
    pub failures: Vec<String>,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub kib_per_connection: f64,
    pub open_s: f64,
    pub still_open_after_hold: usize,
}

impl WsResult {
    pub fn to_json(&self) -> Value {
        json!({
            "target": self.target, "held": self.held, "failures": self.failures.len(),
            "first_failures": self.failures.iter().take(5).collect::<Vec<_>>(),
            "rss_before_kib": self.rss_before_kib, "rss_after_kib": self.rss_after_kib,
            "kib_per_connection": self.kib_per_connection, "open_s": self.open_s,
            "still_open_after_hold": self.still_open_after_hold,
        })
    }
}

/// Opens one socket, authenticates, waits for `ready`, then keeps reading
/// (which answers the server's pings) until aborted. Reports readiness on
/// `ready` and returns when the socket closes.
async fn hold(url: String, token: String, ready: tokio::sync::oneshot::Sender<Result<()>>) {
    let opened = async {
        let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .context("connect")?;
        socket
            .send(Message::text(
                json!({"type": "auth", "token": token}).to_string(),
            ))
            .await
            .context("auth frame")?;
        loop {
            match tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let v: Value = serde_json::from_str(&text).context("frame")?;
                    if v["type"] == "ready" {
                        return Ok(socket);
                    }
                    bail!("unexpected first frame {text}");
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => bail!("read: {e}"),
                Ok(None) => bail!("closed before ready"),
                Err(_) => bail!("no ready within 30 s"),
            }
        }
    }
    .await;
    match opened {
        Ok(mut socket) => {
            let _ = ready.send(Ok(()));
            while let Some(Ok(_)) = socket.next().await {}
        }
        Err(e) => {
            let _ = ready.send(Err(e));
        }
    }
}

/// Opens `target` sockets (`parallel` handshakes at a time), measures the
/// server's RSS before and after, holds them for `hold_for`, and closes them.
pub async fn run(
    server: &Server,
    token: &str,
    target: usize,
    parallel: usize,
    hold_for: Duration,
) -> Result<WsResult> {
    let url = format!("{}/ws", server.base.replacen("http://", "ws://", 1));
    let mut result = WsResult {
        target,
        ..WsResult::default()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    result.rss_before_kib = server.memory_kib()?.0;
    let started = Instant::now();
    let mut holders: Vec<JoinHandle<()>> = Vec::with_capacity(target);
    let mut pending = Vec::new();
    for i in 0..target {
        let (tx, rx) = tokio::sync::oneshot::channel();
        holders.push(tokio::spawn(hold(url.clone(), token.to_owned(), tx)));
        pending.push(rx);
        if pending.len() >= parallel || i + 1 == target {
            for rx in pending.drain(..) {
                match rx.await {
                    Ok(Ok(())) => result.held += 1,
                    Ok(Err(e)) => result.failures.push(format!("{e:#}")),
                    Err(_) => result.failures.push("holder ended".into()),
                }
            }
        }
    }
    result.open_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(hold_for).await;
    result.rss_after_kib = server.memory_kib()?.0;
    result.still_open_after_hold = holders.iter().filter(|h| !h.is_finished()).count();
    if result.held > 0 {
        result.kib_per_connection =
            result.rss_after_kib.saturating_sub(result.rss_before_kib) as f64 / result.held as f64;
    }
    for h in &holders {
        h.abort();
    }
    Ok(result)
}
