//! Messenger fan-out: one 50-member group, every member with an open
//! WebSocket, messages posted over REST at a fixed rate by the members in
//! turn. Measures post-to-last-socket latency (from just before the POST
//! to the moment the 50th socket has the `conversation_message` frame) and
//! the server's CPU per message, against the CPU of one `POST /chat/send`
//! (offline provider, zero delay) measured in the same phase.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
use futures_util::SinkExt as _;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::seed::Api;
use crate::server::Server;
use crate::stats::percentile;

/// Target: p99 post-to-last-socket under this, at the full rate.
pub const FANOUT_P99_TARGET_MS: f64 = 50.0;
/// Target: CPU per fanned-out message at most this many `/chat/send`s.
pub const FANOUT_CPU_RATIO_TARGET: f64 = 2.0;

#[derive(Debug, Default)]
pub struct FanoutResult {
    pub label: String,
    pub members: usize,
    pub rate: u32,
    pub messages: usize,
    pub delivered_frames: usize,
    pub complete: usize,
    pub achieved_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub cpu_us_per_message: f64,
    pub send_cpu_us: f64,
    pub failures: Vec<String>,
}

impl FanoutResult {
    pub fn cpu_ratio(&self) -> f64 {
        if self.send_cpu_us > 0.0 {
            self.cpu_us_per_message / self.send_cpu_us
        } else {
            f64::NAN
        }
    }

    pub fn full_size(&self) -> bool {
        self.members >= 50 && self.rate >= 500 && self.messages >= 2500
    }

    pub fn met(&self) -> bool {
        self.failures.is_empty()
            && self.p99_ms < FANOUT_P99_TARGET_MS
            && self.cpu_ratio() <= FANOUT_CPU_RATIO_TARGET
    }

    pub fn to_json(&self) -> Value {
        json!({
            "database": self.label, "members": self.members, "rate_per_s": self.rate,
            "messages": self.messages, "delivered_frames": self.delivered_frames,
            "complete_messages": self.complete, "achieved_rate_per_s": self.achieved_rate,
            "post_to_last_socket_ms": {"p50": self.p50_ms, "p99": self.p99_ms, "max": self.max_ms},
            "server_cpu_us_per_message": self.cpu_us_per_message,
            "server_cpu_us_per_chat_send": self.send_cpu_us, "cpu_ratio": self.cpu_ratio(),
            "failures": self.failures.len(),
            "first_failures": self.failures.iter().take(5).collect::<Vec<_>>(),
        })
    }
}

/// Per message: when its POST started, how many sockets have it, when the
/// last one got it.
#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    sent: Option<Instant>,
    seen: usize,
    last: Option<Instant>,
}

type Slots = Arc<Mutex<Vec<Slot>>>;

fn slots(slots: &Slots) -> std::sync::MutexGuard<'_, Vec<Slot>> {
    match slots.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Opens an authenticated socket and counts the `conversation_message`
/// frames whose `client_id` is `m<n>` into `slots`.
async fn listen(url: String, token: String, counts: Slots) -> Result<tokio::task::JoinHandle<()>> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .context("connect")?;
    socket
        .send(Message::text(
            json!({"type": "auth", "token": token}).to_string(),
        ))
        .await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let v: Value = serde_json::from_str(&text)?;
                if v["type"] == "ready" {
                    break;
                }
            }
            Ok(Some(Ok(_))) => {}
            other => bail!("no ready frame: {other:?}"),
        }
    }
    Ok(tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            let Message::Text(text) = frame else { continue };
            let now = Instant::now();
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if v["type"] != "conversation_message" {
                continue;
            }
            let index = v["message"]["client_id"]
                .as_str()
                .and_then(|c| c.strip_prefix('m'))
                .and_then(|n| n.parse::<usize>().ok());
            if let Some(index) = index {
                let mut all = slots(&counts);
                if let Some(slot) = all.get_mut(index) {
                    slot.seen += 1;
                    slot.last = Some(now);
                }
            }
        }
    }))
}

async fn post(api: &Api, conversation: &str, n: usize) -> Result<()> {
    let r = api
        .http
        .post(format!(
            "{}/conversations/{conversation}/messages",
            api.base
        ))
        .header("Authorization", api.auth())
        .json(&json!({"text": format!("fan-out message {n}"), "client_id": format!("m{n}")}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("post {n}: HTTP {}", r.status());
    }
    Ok(())
}

/// Server CPU µs of one `POST /chat/send` (offline, zero delay), from
/// `count` sends: 8 sessions, each sent to in turn by its own task (a
/// session runs one reply at a time).
async fn chat_send_cpu(api: &Api, server: &Server, count: usize) -> Result<f64> {
    const SESSIONS: usize = 8;
    let sessions = api.create_sessions(SESSIONS, SESSIONS).await?;
    for session in &sessions {
        api.send(session, "warm up").await?;
    }
    let each = count.div_ceil(SESSIONS);
    let cpu = server.cpu_s();
    stream::iter(sessions)
        .map(|session| async move {
            for i in 0..each {
                api.send(&session, &format!("baseline {i}")).await?;
            }
            Ok::<(), anyhow::Error>(())
        })
        .buffer_unordered(SESSIONS)
        .try_collect::<Vec<_>>()
        .await?;
    Ok((server.cpu_s() - cpu) * 1e6 / (each * SESSIONS) as f64)
}

/// One run: `members` users each with a socket, `seconds` at `rate` messages a second.
pub async fn run(
    label: &str,
    http: &reqwest::Client,
    server: &Server,
    members: usize,
    rate: u32,
    seconds: u32,
) -> Result<FanoutResult> {
    let tag = uuid_tag();
    let apis: Vec<Api> = stream::iter(0..members)
        .map(|i| {
            let email = format!("fanout{i}-{tag}@load.test");
            async move { Api::register(http, &server.base, &email).await }
        })
        .buffered(8)
        .try_collect()
        .await?;
    let mut ids = Vec::with_capacity(members);
    for api in &apis {
        ids.push(api.get("/auth/me").await?["id"].clone());
    }
    let r = apis[0]
        .http
        .post(format!("{}/conversations", server.base))
        .header("Authorization", apis[0].auth())
        .json(&json!({"member_ids": &ids[1..], "title": "fan-out"}))
        .send()
        .await?;
    let conversation: Value = r.json().await?;
    let conversation = conversation["id"]
        .as_str()
        .context("no conversation id")?
        .to_owned();

    let total = (rate * seconds) as usize;
    let warmup = 50;
    let all: Slots = Arc::new(Mutex::new(vec![Slot::default(); warmup + total]));
    let ws_url = format!("{}/ws", server.base.replacen("http", "ws", 1));
    let mut readers = Vec::new();
    for api in &apis {
        readers.push(listen(ws_url.clone(), api.token.clone(), Arc::clone(&all)).await?);
    }

    let mut result = FanoutResult {
        label: label.into(),
        members,
        rate,
        messages: total,
        ..FanoutResult::default()
    };
    // Warm-up, not measured.
    for n in 0..warmup {
        slots(&all)[n].sent = Some(Instant::now());
        post(&apis[n % members], &conversation, n).await?;
    }
    wait_delivered(&all, members, warmup, Duration::from_secs(10)).await;

    let cpu = server.cpu_s();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut posts = Vec::with_capacity(total);
    for n in warmup..warmup + total {
        tick.tick().await;
        let api = apis[n % members].clone();
        let conversation = conversation.clone();
        let all = Arc::clone(&all);
        posts.push(tokio::spawn(async move {
            slots(&all)[n].sent = Some(Instant::now());
            post(&api, &conversation, n).await
        }));
    }
    let posted_in = started.elapsed();
    for p in posts {
        if let Err(e) = p.await? {
            result.failures.push(e.to_string());
        }
    }
    wait_delivered(&all, members, warmup + total, Duration::from_secs(20)).await;
    result.cpu_us_per_message = (server.cpu_s() - cpu) * 1e6 / total as f64;
    result.achieved_rate = total as f64 / posted_in.as_secs_f64();
    for reader in readers {
        reader.abort();
    }

    let measured: Vec<Slot> = slots(&all)[warmup..].to_vec();
    let mut latencies = Vec::with_capacity(total);
    for (i, slot) in measured.iter().enumerate() {
        result.delivered_frames += slot.seen;
        match (slot.sent, slot.last) {
            (Some(sent), Some(last)) if slot.seen == members => {
                result.complete += 1;
                latencies.push(last.duration_since(sent).as_secs_f64() * 1e3);
            }
            _ => {
                if result.failures.len() < 20 {
                    result.failures.push(format!(
                        "message {} reached {} of {members} sockets",
                        warmup + i,
                        slot.seen
                    ));
                }
            }
        }
    }
    if !latencies.is_empty() {
        result.p50_ms = percentile(&mut latencies, 50.0);
        result.p99_ms = percentile(&mut latencies, 99.0);
        result.max_ms = latencies.iter().copied().fold(0.0, f64::max);
    }
    result.send_cpu_us = chat_send_cpu(&apis[0], server, total.clamp(200, 1000)).await?;
    Ok(result)
}

async fn wait_delivered(all: &Slots, members: usize, upto: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if slots(all)[..upto].iter().all(|s| s.seen >= members) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn uuid_tag() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros())
    )
}
