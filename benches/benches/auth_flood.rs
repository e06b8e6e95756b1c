//! `GET /auth/me` latency while 50 logins run concurrently with the real
//! argon2id parameters (m = 19 MiB, t = 2). Argon2 runs on the blocking pool
//! behind a semaphore, so token checks on the async workers must stay fast.
//!
//! `cargo bench -p chatcore-benches --bench auth_flood` (release build).
//! Prints p50 / p90 / p99 / max of `/auth/me` alone and under the flood;
//! the target is p99 < 20 ms under the flood. `AUTH_FLOOD_SECS` (default 10)
//! sets the measuring time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chatcore::testing::ScriptedProvider;
use chatcore::{AuthService, ChatService, JwtTokens, LocalEventBus, MemoryStore, PasswordHasher};
use chatcore_rocket::{ApiState, Chatcore};
use rocket::config::{LogLevel, Shutdown};
use rocket::fairing::AdHoc;
use serde_json::{json, Value};

const LOGINS: usize = 50;

async fn launch() -> (String, rocket::Shutdown) {
    let store = Arc::new(MemoryStore::new());
    let tokens = Arc::new(JwtTokens::new(b"auth-flood-bench-secret-auth-flood-bench"));
    let auth =
        AuthService::new(store.clone(), tokens, PasswordHasher::new().unwrap()).with_login_limit(0);
    let chat = ChatService::new(
        store,
        ScriptedProvider::new("bench").shared(),
        Arc::new(LocalEventBus::new(64)),
    );
    let config = rocket::Config {
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        log_level: LogLevel::Off,
        shutdown: Shutdown {
            ctrlc: false,
            signals: HashSet::new(),
            ..Shutdown::default()
        },
        ..rocket::Config::release_default()
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let rocket = rocket::custom(config).attach(AdHoc::on_liftoff("port", move |r| {
        Box::pin(async move {
            let _ = tx.send(r.config().port);
        })
    }));
    let rocket = Chatcore::new(ApiState::new(Arc::new(auth), chat))
        .request_log(false)
        .attach(rocket, "/");
    let ignited = rocket.ignite().await.unwrap();
    let shutdown = ignited.shutdown();
    tokio::spawn(ignited.launch());
    let port = rx.await.unwrap();
    (format!("http://127.0.0.1:{port}"), shutdown)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = percentile(&samples, 0.99);
    println!(
        "{label}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms",
        samples.len(),
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.90)),
        ms(p99),
        ms(*samples.last().unwrap()),
    );
    p99
}

async fn measure_me(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    until: Instant,
) -> Vec<Duration> {
    let mut samples = Vec::new();
    while Instant::now() < until {
        let start = Instant::now();
        let response = http
            .get(format!("{url}/auth/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.bytes().await.unwrap();
        samples.push(start.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    samples
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // run a one-second smoke version.
    let full = std::env::args().any(|a| a == "--bench");
    let secs: u64 = std::env::var("AUTH_FLOOD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 10 } else { 1 });
    let idle_secs = secs.min(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (url, shutdown) = launch().await;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        let body =
            json!({ "email": "flood@example.com", "password": "correct horse battery staple" });
        let registered: Value = http
            .post(format!("{url}/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = registered["access_token"].as_str().unwrap().to_owned();

        let idle = measure_me(
            &http,
            &url,
            &token,
            Instant::now() + Duration::from_secs(idle_secs),
        )
        .await;
        report("GET /auth/me, idle server", idle);

        let stop = Arc::new(AtomicBool::new(false));
        let logins = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..LOGINS {
            let (http, url, body, stop, logins) = (
                http.clone(),
                url.clone(),
                body.clone(),
                stop.clone(),
                logins.clone(),
            );
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let response = http
                        .post(format!("{url}/auth/login"))
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 200);
                    response.bytes().await.unwrap();
                    logins.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        let flooded = measure_me(
            &http,
            &url,
            &token,
            Instant::now() + Duration::from_secs(secs),
        )
        .await;
        let elapsed = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        let p99 = report(
            &format!("GET /auth/me with {LOGINS} concurrent logins"),
            flooded,
        );
        let done = logins.load(Ordering::Relaxed);
        println!(
            "logins completed: {done} ({:.1}/s)",
            done as f64 / elapsed.as_secs_f64()
        );
        println!(
            "target p99 < 20 ms: {}",
            if p99 < Duration::from_millis(20) {
                "met"
            } else {
                "MISSED"
            }
        );
        for task in tasks {
            let _ = task.await;
        }
        shutdown.notify();
    });
}
