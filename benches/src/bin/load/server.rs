//! Starting and watching the processes under test (chatcore-server, bench-hello).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

/// A server process, killed when dropped.
#[derive(Debug)]
pub struct Server {
    pub name: String,
    pub base: String,
    child: Child,
    _dir: Option<tempfile::TempDir>,
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Environment of a chatcore-server for benchmarking: offline provider with
/// `delay_ms` per word, rate limits off.
pub fn chatcore_env(delay_ms: u64, database_url: Option<&str>) -> Vec<(String, String)> {
    let mut env = vec![
        ("CHATCORE_PROVIDERS".into(), "offline".into()),
        ("CHATCORE_OFFLINE_DELAY_MS".into(), delay_ms.to_string()),
        ("CHATCORE_MESSAGES_PER_MINUTE".into(), "0".into()),
        ("CHATCORE_LOGIN_LIMIT".into(), "0".into()),
        (
            "CHATCORE_CONVERSATION_MESSAGES_PER_MINUTE".into(),
            "0".into(),
        ),
        (
            "JWT_SECRET".into(),
            "load-benchmark-secret-0123456789abcdef".into(),
        ),
        ("RUST_LOG".into(), "error".into()),
    ];
    if let Some(url) = database_url {
        env.push(("DATABASE_URL".into(), url.into()));
    }
    env
}

impl Server {
    /// Starts `bin` on a free port with `env`; a fresh SQLite database in a
    /// temporary directory unless `env` sets `DATABASE_URL`. Waits until
    /// `ready_path` answers 200.
    pub async fn start(
        name: &str,
        bin: &Path,
        env: &[(String, String)],
        ready_path: &str,
    ) -> Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("chatcore-load-")
            .tempdir()
            .context("temporary directory")?;
        let port = free_port()?;
        let mut command = Command::new(bin);
        command
            .current_dir(dir.path())
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", "critical")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if !env.iter().any(|(k, _)| k == "DATABASE_URL") {
            let db: PathBuf = dir.path().join("load.db");
            command.env("DATABASE_URL", format!("sqlite://{}", db.display()));
        }
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let server = Server {
            name: name.to_owned(),
            base: format!("http://127.0.0.1:{port}"),
            child,
            _dir: Some(dir),
        };
        server.wait_ready(ready_path).await?;
        Ok(server)
    }

    async fn wait_ready(&self, path: &str) -> Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}{path}", self.base)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("{} did not answer {path} within 30 s", self.name)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmRSS` and `VmHWM` of the process, in KiB.
    pub fn memory_kib(&self) -> Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .context("reading /proc/<pid>/status")?;
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok((field("VmRSS:"), field("VmHWM:")))
    }

    /// CPU time (user + system) the process has used, in seconds.
    pub fn cpu_s(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.pid()))
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU seconds from a `/proc/<pid>/stat` file (0 when unreadable).
pub fn cpu_seconds(stat_path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(stat_path) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) end with `)`.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after `)`;
    // the kernel counts in USER_HZ, 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}
