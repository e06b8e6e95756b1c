//! `PostgresStore` on a real PostgreSQL: the whole store conformance suite
//! (a fresh database per scenario on one throwaway cluster), plus
//! PostgreSQL-specific checks and the cluster's clean-up guarantees.
//!
//! See `chatcore_sqlx::testing` for where the server comes from
//! (`CHATCORE_TEST_PG_URL`, or `initdb` + `postgres` started here) and when a
//! missing server fails or skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chatcore::{NewUser, Store, UserId};
use chatcore_sqlx::testing::{self, PgCluster};
use chatcore_sqlx::PostgresStore;

chatcore::store_conformance_tests!(|| async { testing::pg_test_store().await });

fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: format!("{name}@example.com"),
        username: name.to_owned(),
        display_name: name.to_owned(),
        password_hash: "hash".to_owned(),
        created_at: chatcore::clock::now(),
    }
}

#[tokio::test]
async fn migrations_rerun_idempotently_on_reconnect() {
    let Some(db) = testing::pg_test_database().await else {
        return;
    };
    let first = PostgresStore::connect(db.url()).await.unwrap();
    let user = first.create_user(new_user("alice")).await.unwrap();
    first.pool().close().await;

    let second = PostgresStore::connect(db.url()).await.unwrap();
    second.migrate().await.unwrap();
    assert_eq!(second.get_user(user.id).await.unwrap(), Some(user));
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(second.pool())
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(applied, i64::try_from(files).unwrap());
}

#[tokio::test]
async fn concurrent_first_connects_migrate_once() {
    let Some(db) = testing::pg_test_database().await else {
        return;
    };
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let url = db.url().to_owned();
        tasks.push(tokio::spawn(
            async move { PostgresStore::connect(&url).await },
        ));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn connect_dispatches_postgres_urls() {
    let Some(db) = testing::pg_test_database().await else {
        return;
    };
    let store = chatcore_sqlx::connect(db.url()).await.unwrap();
    store.ping().await.unwrap();
    let other_spelling = db.url().replacen("postgres://", "postgresql://", 1);
    let store = chatcore_sqlx::connect(&other_spelling).await.unwrap();
    store.create_user(new_user("bob")).await.unwrap();
}

#[tokio::test]
async fn schema_uses_native_types_and_indexes() {
    let Some(store) = testing::pg_test_store().await else {
        return;
    };
    let types: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_name = 'chat_messages' AND column_name IN ('id', 'timestamp') \
         ORDER BY column_name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        types,
        vec![
            ("id".to_owned(), "uuid".to_owned()),
            (
                "timestamp".to_owned(),
                "timestamp with time zone".to_owned()
            ),
        ]
    );
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for expected in [
        "chat_messages_session_order_idx",
        "chat_sessions_user_list_idx",
        "users_email_lower_key",
        "users_username_lower_key",
    ] {
        assert!(
            indexes.iter().any(|i| i == expected),
            "{expected}: {indexes:?}"
        );
    }
}

#[tokio::test]
async fn test_databases_are_isolated() {
    let (Some(a), Some(b)) = (
        testing::pg_test_store().await,
        testing::pg_test_store().await,
    ) else {
        return;
    };
    let user = a.create_user(new_user("alice")).await.unwrap();
    assert_eq!(b.get_user(user.id).await.unwrap(), None);
    b.create_user(new_user("alice")).await.unwrap();
}

/// Whether a process is still running (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A private cluster, or `None` when a server is given by URL (nothing to
/// start) or PostgreSQL is missing and skipping is allowed.
fn own_cluster() -> Option<PgCluster> {
    if std::env::var_os(testing::PG_URL_ENV).is_some() {
        eprintln!(
            "note: cluster lifecycle test skipped: {} is set",
            testing::PG_URL_ENV
        );
        return None;
    }
    // Fails or skips with the same policy as every PostgreSQL test.
    testing::admin_url()?;
    Some(PgCluster::start().unwrap())
}

#[test]
fn dropping_a_cluster_stops_the_server_and_removes_its_directory() {
    let Some(cluster) = own_cluster() else {
        return;
    };
    let pid = cluster.server_pid();
    let dir = cluster.dir().to_owned();
    assert!(alive(pid));
    assert!(dir.exists());
    drop(cluster);
    assert!(!alive(pid), "postgres {pid} still running after drop");
    assert!(!dir.exists(), "{} not removed", dir.display());
}

const CHILD_ENV: &str = "CHATCORE_PG_CLUSTER_CHILD";

/// Runs in a child process (see the next test): starts a cluster, reports it,
/// then waits to be killed.
#[test]
fn cluster_child_process() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let cluster = PgCluster::start().unwrap();
    println!(
        "CLUSTER {} {}",
        cluster.server_pid(),
        cluster.dir().display()
    );
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn a_killed_test_process_leaves_no_server_behind() {
    if own_cluster().is_none() {
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "cluster_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (pid, dir) = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            // libtest may print "test name ... " on the same line first.
            let rest = line.split_once("CLUSTER ")?.1.to_owned();
            let (pid, dir) = rest.split_once(' ')?;
            Some((pid.parse::<u32>().ok()?, PathBuf::from(dir)))
        })
        .expect("the child reported its cluster");
    assert!(alive(pid));
    // SIGKILL: no destructor, no atexit — only the watcher can clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until("the orphaned postgres is stopped", || !alive(pid));
    wait_until("the cluster directory is removed", || !dir.exists());
}
