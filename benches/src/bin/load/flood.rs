//! `GET /auth/me` latency while many logins (real argon2) run at once, and
//! the server's peak RSS meanwhile.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde_json::{json, Value};

use crate::seed::{Api, PASSWORD};
use crate::server::Server;
use crate::wrk::{self, Load, WrkResult};

#[derive(Debug, Default)]
pub struct FloodResult {
    pub logins_in_flight: usize,
    pub baseline: WrkResult,
    pub during: WrkResult,
    pub logins_ok: u64,
    pub logins_failed: u64,
    pub hwm_before_kib: u64,
    pub hwm_after_kib: u64,
}

impl FloodResult {
    pub fn to_json(&self) -> Value {
        json!({
            "logins_in_flight": self.logins_in_flight,
            "me_baseline": self.baseline.to_json(), "me_during_flood": self.during.to_json(),
            "logins_ok": self.logins_ok, "logins_failed": self.logins_failed,
            "vmhwm_before_kib": self.hwm_before_kib, "vmhwm_after_kib": self.hwm_after_kib,
        })
    }
}

/// `GET /auth/me` over 4 connections, first alone, then while `logins`
/// tasks each log in again and again.
pub async fn run(
    server: &Server,
    api: &Api,
    email: &str,
    logins: usize,
    seconds: u32,
) -> Result<FloodResult> {
    let load = Load {
        threads: 1,
        connections: 4,
        seconds,
    };
    let url = format!("{}/auth/me", server.base);
    let header = vec![format!("Authorization: {}", api.auth())];
    let (u, h) = (url.clone(), header.clone());
    let baseline = tokio::task::spawn_blocking(move || wrk::run(&u, load, &h, None)).await??;
    let hwm_before_kib = server.memory_kib()?.1;

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..logins {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        let http = api.http.clone();
        let login = format!("{}/auth/login", server.base);
        let body = json!({"email": email, "password": PASSWORD});
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match http.post(&login).json(&body).send().await {
                    Ok(r) if r.status().is_success() => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    // Let the login queue fill before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = tokio::task::spawn_blocking(move || wrk::run(&url, load, &header, None))
        .await
        .context("wrk task")?;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    Ok(FloodResult {
        logins_in_flight: logins,
        baseline,
        during: during?,
        logins_ok: ok.load(Ordering::Relaxed),
        logins_failed: failed.load(Ordering::Relaxed),
        hwm_before_kib,
        hwm_after_kib: server.memory_kib()?.1,
    })
}
