//! The load benchmark: starts the release `chatcore-server` (and a bare
//! Rocket `bench-hello` as the machine's ceiling), seeds it over HTTP, drives
//! it with `wrk` over loopback, runs SSE and WebSocket clients itself, prints
//! one table and writes it as JSON. Run it through `benches/load.sh`.
//!
//! `load [--smoke] [--out FILE] [--bin-dir DIR] [--skip-pg] [--only hello,sqlite,pg,sse,ws,flood,fanout]`
//!
//! Exit status: 0 when every check passed (every GET answered 2xx, no socket
//! errors, every SSE delta delivered, every WebSocket held, no server died);
//! 1 otherwise. Performance targets are reported, not enforced.

mod fanout;
mod flood;
mod report;
mod seed;
mod server;
mod sse;
mod stats;
mod wrk;
mod ws;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::report::{Report, Row};
use crate::seed::Api;
use crate::server::{chatcore_env, Server};
use crate::wrk::Load;

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Mode {
    smoke: bool,
    wrk: Load,
    send_sessions: usize,
    sse_streams: usize,
    ws_sockets: usize,
    logins: usize,
    flood_seconds: u32,
    /// Messenger fan-out: members (each with a socket), messages a second, seconds.
    fanout: (usize, u32, u32),
}

const FULL: Mode = Mode {
    smoke: false,
    wrk: Load {
        threads: 2,
        connections: 64,
        seconds: 10,
    },
    send_sessions: 1024,
    sse_streams: 1000,
    ws_sockets: 10_000,
    logins: 50,
    flood_seconds: 10,
    fanout: (50, 500, 10),
};

const SMOKE: Mode = Mode {
    smoke: true,
    wrk: Load {
        threads: 2,
        connections: 16,
        seconds: 2,
    },
    send_sessions: 512,
    sse_streams: 20,
    ws_sockets: 200,
    logins: 50,
    flood_seconds: 2,
    fanout: (10, 100, 1),
};

#[derive(Debug)]
struct Args {
    mode: Mode,
    out: PathBuf,
    bin_dir: PathBuf,
    skip_pg: bool,
    /// Phases to run (all when empty): hello, sqlite, pg, sse, ws, flood, fanout.
    only: Vec<String>,
}

impl Args {
    fn runs(&self, phase: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == phase)
    }
}

fn args() -> Result<Args> {
    let mut smoke = false;
    let mut out = None;
    let mut bin_dir = None;
    let mut skip_pg = false;
    let mut only = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--smoke" => smoke = true,
            "--skip-pg" => skip_pg = true,
            "--only" => {
                only = it
                    .next()
                    .context("--only PHASE,…")?
                    .split(',')
                    .map(str::to_owned)
                    .collect();
            }
            "--out" => out = Some(PathBuf::from(it.next().context("--out FILE")?)),
            "--bin-dir" => bin_dir = Some(PathBuf::from(it.next().context("--bin-dir DIR")?)),
            other => anyhow::bail!("unknown argument {other}; usage: load [--smoke] [--out FILE] [--bin-dir DIR] [--skip-pg] [--only hello,sqlite,pg,sse,ws,flood]"),
        }
    }
    let bin_dir = match bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()?
            .parent()
            .context("executable without a directory")?
            .to_path_buf(),
    };
    let mode = if smoke { SMOKE } else { FULL };
    let out = out.unwrap_or_else(|| {
        PathBuf::from(if smoke {
            "bench-results/load-smoke.json"
        } else {
            "bench-results/load.json"
        })
    });
    Ok(Args {
        mode,
        out,
        bin_dir,
        skip_pg,
        only,
    })
}

fn http_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?)
}

/// Seeds a server and drives the four HTTP routes; rows are named `label route`.
async fn http_routes(report: &mut Report, label: &str, server: &Server, mode: Mode) -> Result<()> {
    let http = http_client()?;
    let reader = Api::register(&http, &server.base, "reader@load.test").await?;
    let sessions = reader.create_sessions(20, 8).await?;
    let detail = sessions.first().context("no session")?.clone();
    for i in 0..25 {
        reader
            .send(
                &detail,
                &format!("message number {i} of the seeded history"),
            )
            .await?;
    }
    let messages = reader.get(&format!("/chat/sessions/{detail}")).await?["messages"]
        .as_array()
        .map_or(0, Vec::len);
    anyhow::ensure!(
        messages == 50,
        "seeded session has {messages} messages, expected 50"
    );
    let listed = reader
        .get("/chat/sessions")
        .await?
        .as_array()
        .map_or(0, Vec::len);
    anyhow::ensure!(
        listed == 20,
        "session list has {listed} sessions, expected 20"
    );

    let sender = Api::register(&http, &server.base, "sender@load.test").await?;
    let send_sessions = sender.create_sessions(mode.send_sessions, 16).await?;

    let auth = vec![format!("Authorization: {}", reader.auth())];
    for (route, path) in [
        ("GET /auth/me", "/auth/me".to_owned()),
        ("GET /chat/sessions", "/chat/sessions".to_owned()),
        (
            "GET /chat/sessions/{id}",
            format!("/chat/sessions/{detail}"),
        ),
    ] {
        let url = format!("{}{path}", server.base);
        let (load, h) = (mode.wrk, auth.clone());
        let cpu = server.cpu_s();
        let r = tokio::task::spawn_blocking(move || wrk::run(&url, load, &h, None)).await??;
        let cpu = server.cpu_s() - cpu;
        report.http(Row::new(label, route, r, true).with_server_cpu(cpu));
    }
    let script_dir = tempfile::tempdir()?;
    let script = script_dir.path().join("send.lua");
    std::fs::write(
        &script,
        wrk::send_script(&sender.token, &send_sessions, mode.wrk.threads),
    )?;
    let url = server.base.clone();
    let load = mode.wrk;
    let cpu = server.cpu_s();
    let r = tokio::task::spawn_blocking(move || wrk::run(&url, load, &[], Some(&script))).await??;
    let cpu = server.cpu_s() - cpu;
    report.http(Row::new(label, "POST /chat/send", r, false).with_server_cpu(cpu));
    Ok(())
}

async fn run(args: &Args, report: &mut Report) -> Result<()> {
    let mode = args.mode;
    let server_bin = args.bin_dir.join("chatcore-server");
    let hello_bin = args.bin_dir.join("bench-hello");

    if args.runs("hello") {
        eprintln!("== bare Rocket ceiling");
        let hello = Server::start("bench-hello", &hello_bin, &[], "/hello").await?;
        let url = format!("{}/hello", hello.base);
        let load = mode.wrk;
        let cpu = hello.cpu_s();
        let r = tokio::task::spawn_blocking(move || wrk::run(&url, load, &[], None)).await??;
        let cpu = hello.cpu_s() - cpu;
        report.http(Row::new("", "GET /hello (bare Rocket)", r, true).with_server_cpu(cpu));
    }

    if args.runs("sqlite") {
        eprintln!("== HTTP routes, SQLite");
        let mut server = Server::start(
            "chatcore-server",
            &server_bin,
            &chatcore_env(0, None),
            "/health",
        )
        .await?;
        http_routes(report, "sqlite", &server, mode).await?;
        report.check(
            server.alive(),
            "the SQLite server exited during the HTTP runs",
        );
    }

    if args.runs("pg") && args.skip_pg {
        report.note("postgres: skipped (--skip-pg)");
    } else if args.runs("pg") {
        eprintln!("== HTTP routes, PostgreSQL");
        match tokio::task::spawn_blocking(chatcore_sqlx::testing::PgCluster::start).await? {
            Err(e) => report.note(&format!(
                "postgres: skipped, the cluster did not start: {e}"
            )),
            Ok(cluster) => {
                let env = chatcore_env(0, Some(cluster.url()));
                let mut server =
                    Server::start("chatcore-server (pg)", &server_bin, &env, "/health").await?;
                http_routes(report, "postgres", &server, mode).await?;
                report.check(
                    server.alive(),
                    "the PostgreSQL server exited during the HTTP runs",
                );
                drop(server);
                tokio::task::spawn_blocking(move || drop(cluster)).await?;
            }
        }
    }

    if args.runs("sse") {
        eprintln!(
            "== SSE: {} concurrent replies at 20 ms/word",
            mode.sse_streams
        );
        let mut server = Server::start(
            "chatcore-server (sse)",
            &server_bin,
            &chatcore_env(20, None),
            "/health",
        )
        .await?;
        let api = Api::register(&http_client()?, &server.base, "sse@load.test").await?;
        let sessions = api.create_sessions(mode.sse_streams, 16).await?;
        // Long enough replies (~4 s at full size) that a steady state follows
        // the start-up burst of 1,000 streams.
        let words = if mode.smoke { 10 } else { 175 };
        let (server_cpu, client_cpu) = (server.cpu_s(), server::cpu_seconds("/proc/self/stat"));
        let mut r = sse::run(
            &api,
            &sessions,
            Duration::from_millis(20),
            &sse::prompt(words),
        )
        .await;
        r.server_cpu_s = server.cpu_s() - server_cpu;
        r.client_cpu_s = server::cpu_seconds("/proc/self/stat") - client_cpu;
        report.check(
            r.failures.is_empty(),
            &format!(
                "SSE: {} of {} streams failed: {:?}",
                r.failures.len(),
                r.streams,
                r.failures.first()
            ),
        );
        report.check(server.alive(), "the SSE server exited");
        report.sse = Some(r);
    }

    if args.runs("ws") {
        eprintln!("== WebSocket: {} idle connections", mode.ws_sockets);
        let mut server = Server::start(
            "chatcore-server (ws)",
            &server_bin,
            &chatcore_env(0, None),
            "/health",
        )
        .await?;
        let api = Api::register(&http_client()?, &server.base, "ws@load.test").await?;
        let hold = Duration::from_secs(if mode.smoke { 1 } else { 5 });
        let r = ws::run(&server, &api.token, mode.ws_sockets, 200, hold).await?;
        report.check(
            r.held == r.target && r.still_open_after_hold == r.held,
            &format!(
                "WebSocket: held {} of {} ({} still open after the hold): {:?}",
                r.held,
                r.target,
                r.still_open_after_hold,
                r.failures.first()
            ),
        );
        report.check(server.alive(), "the WebSocket server exited");
        report.ws = Some(r);
    }

    if args.runs("fanout") {
        fanout_phase(args, report, &server_bin).await?;
    }

    if args.runs("flood") {
        eprintln!("== /auth/me during {} concurrent logins", mode.logins);
        let mut server = Server::start(
            "chatcore-server (login flood)",
            &server_bin,
            &chatcore_env(0, None),
            "/health",
        )
        .await?;
        let email = "flood@load.test";
        let api = Api::register(&http_client()?, &server.base, email).await?;
        let r = flood::run(&server, &api, email, mode.logins, mode.flood_seconds).await?;
        report.check(
            r.during.non_2xx == 0 && r.during.socket_errors == 0 && r.logins_failed == 0,
            &format!(
                "login flood: {} non-2xx /auth/me, {} socket errors, {} failed logins",
                r.during.non_2xx, r.during.socket_errors, r.logins_failed
            ),
        );
        report.check(server.alive(), "the login-flood server exited");
        report.flood = Some(r);
    }
    Ok(())
}

/// The messenger fan-out on SQLite, then PostgreSQL.
async fn fanout_phase(
    args: &Args,
    report: &mut Report,
    server_bin: &std::path::Path,
) -> Result<()> {
    let (members, rate, seconds) = args.mode.fanout;
    eprintln!(
        "== messenger fan-out: {members} members with sockets, {rate} messages/s for {seconds} s"
    );
    let mut runs = vec![("sqlite", None)];
    let cluster = if args.skip_pg {
        report.note("fan-out on postgres: skipped (--skip-pg)");
        None
    } else {
        match tokio::task::spawn_blocking(chatcore_sqlx::testing::PgCluster::start).await? {
            Ok(cluster) => Some(cluster),
            Err(e) => {
                report.note(&format!(
                    "fan-out on postgres: skipped, the cluster did not start: {e}"
                ));
                None
            }
        }
    };
    if let Some(cluster) = &cluster {
        runs.push(("postgres", Some(cluster.url().to_owned())));
    }
    for (label, url) in runs {
        let mut server = Server::start(
            &format!("chatcore-server (fan-out, {label})"),
            server_bin,
            &chatcore_env(0, url.as_deref()),
            "/health",
        )
        .await?;
        let r = fanout::run(label, &http_client()?, &server, members, rate, seconds).await?;
        report.check(
            r.failures.is_empty(),
            &format!(
                "fan-out ({label}): {} failures: {:?}",
                r.failures.len(),
                r.failures.first()
            ),
        );
        report.check(
            server.alive(),
            &format!("the fan-out server ({label}) exited"),
        );
        report.fanout.push(r);
    }
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || drop(cluster)).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    let mut report = Report::new(args.mode.smoke);
    if let Err(e) = run(&args, &mut report).await {
        report.check(false, &format!("aborted: {e:#}"));
    }
    print!("{}", report.table());
    let json = report.to_json();
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&json)?)?;
    eprintln!("wrote {}", args.out.display());
    if report.failures.is_empty() {
        Ok(())
    } else {
        eprintln!("FAILED:");
        for f in &report.failures {
            eprintln!("  - {f}");
        }
        std::process::exit(1)
    }
}
