//! N concurrent `POST /chat/stream` replies: completeness and the delay the
//! server adds between deltas on top of the provider's pace.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use futures_util::StreamExt as _;
use serde_json::{json, Value};

use crate::seed::Api;
use crate::stats::percentile;

#[derive(Debug, Default)]
pub struct SseResult {
    pub streams: usize,
    pub complete: usize,
    pub failures: Vec<String>,
    pub deltas: usize,
    /// Gap between consecutive deltas minus the provider pace, ms.
    pub excess_p50_ms: f64,
    pub excess_p99_ms: f64,
    pub excess_max_ms: f64,
    /// The same, counting only gaps that began once every stream had its
    /// first delta (no stream still being set up), ms.
    pub steady_gaps: usize,
    pub steady_excess_p50_ms: f64,
    pub steady_excess_p99_ms: f64,
    /// Request start to first delta, ms.
    pub first_delta_p99_ms: f64,
    pub total_s: f64,
    /// CPU seconds used meanwhile by the server and by this client.
    pub server_cpu_s: f64,
    pub client_cpu_s: f64,
}

impl SseResult {
    pub fn to_json(&self) -> Value {
        json!({
            "streams": self.streams, "complete": self.complete,
            "failures": self.failures.len(), "first_failures": self.failures.iter().take(5).collect::<Vec<_>>(),
            "deltas": self.deltas,
            "gap_excess_p50_ms": self.excess_p50_ms, "gap_excess_p99_ms": self.excess_p99_ms,
            "gap_excess_max_ms": self.excess_max_ms,
            "steady_gaps": self.steady_gaps, "steady_gap_excess_p50_ms": self.steady_excess_p50_ms,
            "steady_gap_excess_p99_ms": self.steady_excess_p99_ms,
            "first_delta_p99_ms": self.first_delta_p99_ms, "total_s": self.total_s,
            "server_cpu_s": self.server_cpu_s, "client_cpu_s": self.client_cpu_s,
        })
    }
}

struct One {
    arrivals: Vec<Instant>,
    first_ms: f64,
}

/// Reads one reply to the end and checks that the deltas add up to the
/// stored message.
async fn one(api: &Api, session: &str, content: &str) -> Result<One> {
    let started = Instant::now();
    let response = api
        .http
        .post(format!("{}/chat/stream", api.base))
        .header("Authorization", api.auth())
        .json(&json!({"session_id": session, "content": content}))
        .send()
        .await?;
    if !response.status().is_success() {
        let status = response.status();
        bail!(
            "HTTP {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    let mut text = String::new();
    let mut arrivals: Vec<Instant> = Vec::new();
    let mut done: Option<Value> = None;
    while let Some(chunk) = body.next().await {
        let now = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(
            &chunk.context("reading the stream")?,
        ));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let mut name = "message";
            let mut data = String::new();
            for line in event.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            match name {
                "delta" => {
                    let v: Value = serde_json::from_str(&data).context("delta data")?;
                    text.push_str(v["text"].as_str().context("delta without text")?);
                    arrivals.push(now);
                }
                "done" => done = Some(serde_json::from_str(&data).context("done data")?),
                "error" => bail!("error event: {data}"),
                _ => {}
            }
        }
        if done.is_some() {
            break;
        }
    }
    let done = done.context("stream ended without done")?;
    let stored = done["message"]["content"].as_str().unwrap_or_default();
    if stored != text {
        bail!(
            "deltas ({} chars) differ from the done message ({} chars)",
            text.len(),
            stored.len()
        );
    }
    if done["message"]["status"] != "complete" {
        bail!("done with status {}", done["message"]["status"]);
    }
    let first_ms = arrivals
        .first()
        .map(|t| t.duration_since(started).as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    Ok(One { arrivals, first_ms })
}

/// Runs one stream in each of `sessions` at once; `pace` is the provider's
/// per-word delay.
/// `words` words of user text: the offline reply repeats them, so the reply
/// has about `words + 25` deltas.
pub fn prompt(words: usize) -> String {
    (0..words)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn run(api: &Api, sessions: &[String], pace: Duration, content: &str) -> SseResult {
    let started = Instant::now();
    let tasks: Vec<_> = sessions
        .iter()
        .map(|session| {
            let api = api.clone();
            let session = session.clone();
            let content = content.to_owned();
            tokio::spawn(async move { one(&api, &session, &content).await })
        })
        .collect();
    let mut result = SseResult {
        streams: sessions.len(),
        ..SseResult::default()
    };
    let mut done = Vec::new();
    let mut first = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(one)) => {
                result.complete += 1;
                result.deltas += one.arrivals.len();
                first.push(one.first_ms);
                done.push(one.arrivals);
            }
            Ok(Err(e)) => result.failures.push(format!("{e:#}")),
            Err(e) => result.failures.push(format!("task: {e}")),
        }
    }
    result.total_s = started.elapsed().as_secs_f64();
    let all_started = done.iter().filter_map(|a| a.first().copied()).max();
    let pace_ms = pace.as_secs_f64() * 1000.0;
    let mut excess = Vec::new();
    let mut steady = Vec::new();
    for arrivals in &done {
        for w in arrivals.windows(2) {
            let gap = w[1].duration_since(w[0]).as_secs_f64() * 1000.0 - pace_ms;
            excess.push(gap);
            if all_started.is_some_and(|t| w[0] >= t) {
                steady.push(gap);
            }
        }
    }
    result.steady_gaps = steady.len();
    result.steady_excess_p50_ms = percentile(&mut steady, 50.0);
    result.steady_excess_p99_ms = percentile(&mut steady, 99.0);
    result.excess_p50_ms = percentile(&mut excess, 50.0);
    result.excess_p99_ms = percentile(&mut excess, 99.0);
    result.excess_max_ms = percentile(&mut excess, 100.0);
    result.first_delta_p99_ms = percentile(&mut first, 99.0);
    result
}
