//! Test support (feature `testing`): a throwaway PostgreSQL cluster, a fresh
//! database per test, and a temporary SQLite store.
//!
//! Tests call [`pg_test_store`] (or [`pg_test_database`] for a URL). The first
//! call in a test process decides where PostgreSQL comes from:
//!
//! 1. `CHATCORE_TEST_PG_URL` set: that server (a role allowed to
//!    `CREATE DATABASE`; the test databases are left behind, named
//!    `chatcore_test_…`).
//! 2. Otherwise a private cluster ([`PgCluster`]): `initdb` and `postgres`
//!    from `CHATCORE_PG_BIN`, `PATH` or `/usr/lib/postgresql/*/bin`, a temporary directory, a free
//!    port on 127.0.0.1, `fsync=off`; as root, the server runs as the
//!    `postgres` system user (postgres refuses to run as root). One cluster
//!    serves the whole test process; every test gets its own database, so
//!    tests are isolated and run in parallel.
//! 3. When PostgreSQL cannot be had, the test fails with a message saying
//!    why — always under `CI=true`; elsewhere `CHATCORE_SKIP_PG=1` turns the
//!    failure into a skip (the functions return `None` and print a note).
//!
//! ## No leaked servers
//!
//! A `static` is never dropped, so the shared cluster cannot be stopped by a
//! destructor. Instead every cluster has a *watcher*: a small `sh` process
//! started next to the server whose standard input is a pipe held only by the
//! test process. When the test process ends — normally, by a panic, by
//! `SIGKILL` — the kernel closes the pipe, the watcher reads end-of-file,
//! stops the server (SIGINT, a fast shutdown), waits for it and removes the
//! directory. Dropping a [`PgCluster`] closes the pipe the same way and waits
//! for the cleanup. The server and the watcher run in their own process
//! groups, so a Ctrl-C on the test run does not kill the watcher before it has
//! cleaned up.

// Test-support code: failing to provide a database must fail the test loudly.
#![allow(clippy::panic, clippy::expect_used)]

use std::fs::{self, File};
use std::io::{self, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use std::{env, fmt};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor};

use crate::{PoolConfig, PostgresStore};

/// Environment variable: the URL of an existing PostgreSQL server to use
/// instead of starting one.
pub const PG_URL_ENV: &str = "CHATCORE_TEST_PG_URL";
/// Environment variable: the directory of `initdb` and `postgres`, to use
/// instead of searching `PATH` and `/usr/lib/postgresql/*/bin`.
pub const PG_BIN_ENV: &str = "CHATCORE_PG_BIN";
/// Environment variable: `1` skips PostgreSQL tests that cannot get a server
/// (ignored when `CI=true`).
pub const SKIP_PG_ENV: &str = "CHATCORE_SKIP_PG";

/// Why a cluster could not be started.
#[derive(Debug)]
pub struct ClusterError(String);

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClusterError {}

fn fail(context: &str, error: impl fmt::Display) -> ClusterError {
    ClusterError(format!("{context}: {error}"))
}

/// A running throwaway PostgreSQL cluster (superuser `postgres`, trust
/// authentication, 127.0.0.1 only). Stopped and deleted when dropped or when
/// the process ends, whichever comes first.
pub struct PgCluster {
    url: String,
    port: u16,
    dir: PathBuf,
    server: Child,
    watcher: Child,
    watcher_pipe: Option<ChildStdin>,
}

impl fmt::Debug for PgCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgCluster")
            .field("url", &self.url)
            .field("dir", &self.dir)
            .field("server_pid", &self.server.id())
            .finish_non_exhaustive()
    }
}

impl PgCluster {
    /// Runs `initdb` and starts `postgres` on a free port; blocks until it
    /// accepts connections (about a second).
    pub fn start() -> Result<Self, ClusterError> {
        let bin = find_bin_dir()?;
        let mut last = None;
        // A free port can be taken by someone else before postgres binds it.
        for _ in 0..3 {
            match Self::start_in(&bin) {
                Ok(cluster) => return Ok(cluster),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| ClusterError("PostgreSQL did not start".into())))
    }

    fn start_in(bin: &Path) -> Result<Self, ClusterError> {
        let dir = tempfile::Builder::new()
            .prefix("chatcore-pg-")
            .tempdir()
            .map_err(|e| fail("creating a temporary directory", e))?
            .keep();
        let owner = match postgres_user_if_root(&dir) {
            Ok(owner) => owner,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let data = dir.join("data");
        let as_owner = |program: PathBuf| {
            let mut command = Command::new(program);
            command.current_dir(&dir);
            if let Some((uid, gid)) = owner {
                command.uid(uid).gid(gid);
            }
            command
        };

        let initdb = as_owner(bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "-N",
            ])
            .stdin(Stdio::null())
            .output();
        match initdb {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(ClusterError(format!(
                    "initdb failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(fail("running initdb", e));
            }
        }

        let port = free_port().inspect_err(|_| {
            let _ = fs::remove_dir_all(&dir);
        })?;
        let log_path = dir.join("postgres.log");
        let log = File::create(&log_path).map_err(|e| fail("creating the server log", e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| fail("creating the server log", e))?;
        let server = as_owner(bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(port.to_string())
            .arg("-c")
            .arg("listen_addresses=127.0.0.1")
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.display()))
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=300"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0)
            .spawn();
        let server = match server {
            Ok(server) => server,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(fail("starting postgres", e));
            }
        };
        let mut watcher = match spawn_watcher(server.id(), &dir) {
            Ok(watcher) => watcher,
            Err(e) => {
                let mut server = server;
                let _ = server.kill();
                let _ = server.wait();
                let _ = fs::remove_dir_all(&dir);
                return Err(fail("starting the cleanup watcher", e));
            }
        };
        let watcher_pipe = watcher.stdin.take();
        let mut cluster = PgCluster {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            port,
            dir,
            server,
            watcher,
            watcher_pipe,
        };
        // On failure `cluster` drops here, which stops and removes everything.
        cluster.wait_ready(&log_path)?;
        Ok(cluster)
    }

    fn wait_ready(&mut self, log_path: &Path) -> Result<(), ClusterError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let pid_file = self.dir.join("data").join("postmaster.pid");
        loop {
            if let Ok(Some(status)) = self.server.try_wait() {
                let log = fs::read_to_string(log_path).unwrap_or_default();
                return Err(ClusterError(format!(
                    "postgres exited during start-up ({status}): {}",
                    log.trim()
                )));
            }
            // postmaster.pid's 8th line becomes "ready" once it accepts connections.
            let ready = fs::read_to_string(&pid_file)
                .map(|pid| pid.lines().nth(7).map(str::trim) == Some("ready"))
                .unwrap_or(false);
            if ready && TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = fs::read_to_string(log_path).unwrap_or_default();
                return Err(ClusterError(format!(
                    "postgres did not become ready within 30 s: {}",
                    log.trim()
                )));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The superuser URL of the `postgres` database,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary directory holding the cluster (removed at the end).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The process id of the postmaster.
    pub fn server_pid(&self) -> u32 {
        self.server.id()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Closing the pipe tells the watcher to stop the server and clean up.
        drop(self.watcher_pipe.take());
        // Reap the server (our child) so the watcher sees it gone — killing
        // it if it has not stopped in time — then wait for the directory to
        // be removed.
        let deadline = Instant::now() + Duration::from_secs(15);
        while matches!(self.server.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if matches!(self.server.try_wait(), Ok(None)) {
            let _ = self.server.kill();
        }
        let _ = self.server.wait();
        let _ = self.watcher.wait();
    }
}

/// The shell script of the watcher: `$1` = server pid, `$2` = directory.
const WATCHER_SCRIPT: &str = r#"
trap '' INT HUP TERM QUIT
read -r _ignored || true
kill -INT "$1" 2>/dev/null
i=0
while [ -e "$2/data/postmaster.pid" ] && kill -0 "$1" 2>/dev/null && [ "$i" -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -KILL "$1" 2>/dev/null
rm -rf "$2"
"#;

fn spawn_watcher(server_pid: u32, dir: &Path) -> io::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(WATCHER_SCRIPT)
        .arg("chatcore-pg-watcher")
        .arg(server_pid.to_string())
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
}

/// The directory holding `initdb` and `postgres`: `CHATCORE_PG_BIN` when
/// set (and then only there), else `PATH`, then the newest
/// `/usr/lib/postgresql/*/bin`.
fn find_bin_dir() -> Result<PathBuf, ClusterError> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = env::var_os(PG_BIN_ENV) {
        let dir = PathBuf::from(dir);
        return if has_both(&dir) {
            Ok(dir)
        } else {
            Err(ClusterError(format!(
                "{PG_BIN_ENV}={} holds no initdb and postgres",
                dir.display()
            )))
        };
    }
    if let Some(path) = env::var_os("PATH") {
        for dir in env::split_paths(&path) {
            if has_both(&dir) {
                return Ok(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_both(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        ClusterError(
            "initdb and postgres not found on PATH or under /usr/lib/postgresql/*/bin \
             (install PostgreSQL, e.g. `apt-get install postgresql`)"
                .into(),
        )
    })
}

/// When this process runs as root, the uid and gid of the `postgres` system
/// user, with `dir` handed over to it (postgres refuses to run as root).
fn postgres_user_if_root(dir: &Path) -> Result<Option<(u32, u32)>, ClusterError> {
    let meta = fs::metadata(dir).map_err(|e| fail("reading the temporary directory", e))?;
    if meta.uid() != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").map_err(|e| fail("reading /etc/passwd", e))?;
    let (uid, gid) = passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&"postgres"))
        .and_then(|fields| {
            let uid = fields.get(2)?.parse().ok()?;
            let gid = fields.get(3)?.parse().ok()?;
            Some((uid, gid))
        })
        .ok_or_else(|| {
            ClusterError(
                "running as root, and PostgreSQL will not run as root, but there is no \
                 `postgres` system user to run it as"
                    .into(),
            )
        })?;
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))
        .map_err(|e| fail("handing the temporary directory to the postgres user", e))?;
    Ok(Some((uid, gid)))
}

fn free_port() -> Result<u16, ClusterError> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| fail("finding a free port", e))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| fail("finding a free port", e))
}

fn env_is(name: &str, values: &[&str]) -> bool {
    env::var(name).is_ok_and(|v| values.iter().any(|value| v.eq_ignore_ascii_case(value)))
}

/// Applies the policy for a missing PostgreSQL: panic under CI, skip with a
/// note when `CHATCORE_SKIP_PG=1`, panic loudly otherwise.
fn unavailable<T>(reason: &str) -> Option<T> {
    if env_is("CI", &["true", "1"]) {
        panic!(
            "PostgreSQL is required for these tests and CI is set, but it is not available: \
             {reason}"
        );
    }
    if env_is(SKIP_PG_ENV, &["1", "true"]) {
        // Written to the real stderr (not the test harness's capture), once.
        static NOTED: std::sync::Once = std::sync::Once::new();
        NOTED.call_once(|| {
            let _ = writeln!(
                io::stderr(),
                "note: PostgreSQL tests are skipped ({SKIP_PG_ENV}=1): {reason}"
            );
        });
        return None;
    }
    panic!(
        "\n\n==================== PostgreSQL NOT AVAILABLE ====================\n\
         {reason}\n\
         Install PostgreSQL (initdb and postgres on PATH or under /usr/lib/postgresql/*/bin),\n\
         or point {PG_URL_ENV} at a server (a role that may CREATE DATABASE),\n\
         or set {SKIP_PG_ENV}=1 to skip the PostgreSQL tests (not honoured when CI=true).\n\
         ==================================================================\n"
    );
}

static SHARED: OnceLock<Result<PgCluster, ClusterError>> = OnceLock::new();

/// The admin URL of the test server for this process: `CHATCORE_TEST_PG_URL`,
/// or the shared throwaway cluster (started on first use). `None` means skip
/// (see the module docs); a missing server panics otherwise.
pub fn admin_url() -> Option<String> {
    if let Some(url) = env::var(PG_URL_ENV)
        .ok()
        .filter(|url| !url.trim().is_empty())
    {
        return Some(url);
    }
    match SHARED.get_or_init(PgCluster::start) {
        Ok(cluster) => Some(cluster.url().to_owned()),
        Err(e) => unavailable(&e.0),
    }
}

/// A database created for one test on the test server.
#[derive(Clone, Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    options: PgConnectOptions,
}

impl TestDatabase {
    /// Its name (`chatcore_test_<uuid>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL that connects to it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Driver options that connect to it.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options.clone()
    }
}

/// Creates an empty database for one test (no migrations applied). `None`
/// means skip (see the module docs).
pub async fn pg_test_database() -> Option<TestDatabase> {
    let admin = tokio::task::spawn_blocking(admin_url)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
    let admin_options = PgConnectOptions::from_str(&admin)
        .unwrap_or_else(|e| panic!("{PG_URL_ENV} / cluster URL is not a valid URL: {e}"));
    let mut conn = PgConnection::connect_with(&admin_options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server: {e}"));
    let name = format!("chatcore_test_{}", uuid::Uuid::new_v4().simple());
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
    let _ = conn.close().await;
    Some(TestDatabase {
        url: with_database(&admin, &name),
        options: admin_options.database(&name),
        name,
    })
}

/// A migrated [`PostgresStore`] on a fresh database (a pool of 5). `None`
/// means skip (see the module docs).
pub async fn pg_test_store() -> Option<PostgresStore> {
    let database = pg_test_database().await?;
    let store = PostgresStore::connect_with_options(
        database.connect_options(),
        PoolConfig::default().with_max_connections(5),
    )
    .await
    .unwrap_or_else(|e| panic!("connecting to test database {}: {e}", database.name()));
    Some(store)
}

/// A migrated [`SqliteStore`](crate::SqliteStore) on a new file in a
/// temporary directory that is removed when the returned value drops.
#[cfg(feature = "sqlite")]
pub async fn sqlite_test_store() -> chatcore::testing::TestStore {
    let dir = tempfile::tempdir().expect("temporary directory for a SQLite test database");
    let url = format!("sqlite://{}", dir.path().join("chatcore.db").display());
    let store = crate::SqliteStore::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    chatcore::testing::TestStore::new(store).with_guard(dir)
}

/// Like [`sqlite_test_store`], for the messenger conformance suite (both
/// traits of the store).
#[cfg(feature = "sqlite")]
pub async fn sqlite_messenger_test_store() -> chatcore::testing::MessengerTestStore {
    let dir = tempfile::tempdir().expect("temporary directory for a SQLite test database");
    let url = format!("sqlite://{}", dir.path().join("chatcore.db").display());
    let store = crate::SqliteStore::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    chatcore::testing::MessengerTestStore::new(store).with_guard(dir)
}

/// `url` with its database (path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    let mut out = String::with_capacity(url.len() + name.len());
    out.push_str(root);
    out.push('/');
    out.push_str(name);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "x"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            with_database("postgresql://h/db?sslmode=disable", "x"),
            "postgresql://h/x?sslmode=disable"
        );
    }
}
