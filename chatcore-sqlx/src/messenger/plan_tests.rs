//! People search runs on indexes, for queries of every length: the plans
//! of each of its statements on both backends (EXPLAIN), on tables with
//! enough rows for PostgreSQL's planner to care.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chatcore::{NewUser, Store, UserId};

use super::search::{Query, Read};
use super::{sql, Backend, Columns, Conn, Stmt};
use crate::{PostgresStore, SqliteStore};

/// Every statement a search may run, by name, for the query `q`.
fn statements<B: Backend>(q: &str) -> Vec<(&'static str, Stmt)> {
    let query = Query::new(q, UserId::new());
    let walk = |test| Read::Walk {
        gram: q.chars().take(2).collect(),
        test,
    };
    let trigrams = format!(
        "{} AND {}",
        B::trigram_candidates("$5"),
        sql::search_contains(B::FIND)
    );
    let stmt = |group, condition: &str, read: &Read| {
        query.statement::<B>(group, condition.to_owned(), read, 20)
    };
    vec![
        ("exact name", stmt("exact", sql::NAME_IS, &Read::Ordered)),
        (
            "exact username",
            stmt("exact", sql::USERNAME_IS, &Read::Ordered),
        ),
        (
            "prefix name",
            stmt("prefix", sql::NAME_STARTS, &Read::Ordered),
        ),
        (
            "prefix username sorted",
            stmt("prefix", sql::USERNAME_STARTS, &Read::Sorted),
        ),
        (
            "prefix username count",
            query.count_statement::<B>(sql::USERNAME_STARTS, 1_000),
        ),
        ("walk", stmt("rest", "", &walk(false))),
        ("walk testing", stmt("rest", "", &walk(true))),
        ("sorted", stmt("rest", &trigrams, &Read::Sorted)),
        (
            "count",
            query.count_statement::<B>(&B::trigram_candidates("$5"), 1_000),
        ),
    ]
}

/// The plan of `stmt`, one line per node.
async fn plan<C: Conn>(conn: &mut C, explain: &str, column: &str, stmt: &Stmt) -> Vec<String> {
    let explained = stmt.with_sql(format!("{explain} {}", stmt.sql()));
    conn.all(&explained)
        .await
        .unwrap()
        .iter()
        .map(|row| row.text(column).unwrap())
        .collect()
}

#[tokio::test]
async fn sqlite_search_uses_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("plans.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    for i in 0..50 {
        store
            .create_user(NewUser {
                id: UserId::new(),
                email: format!("u{i}@example.com"),
                username: format!("user{i}"),
                display_name: format!("User {i}"),
                password_hash: "h".into(),
                created_at: chatcore::clock::now(),
            })
            .await
            .unwrap();
    }
    let mut conn = store.pool().acquire().await.unwrap();
    for (name, stmt) in statements::<SqliteStore>("user 1") {
        let lines = plan(&mut *conn, "EXPLAIN QUERY PLAN", "detail", &stmt).await;
        let all = lines.join("\n");
        assert!(
            !lines.iter().any(|l| l == "SCAN u" || l == "SCAN g"),
            "{name}: a table scan\n{all}"
        );
        let expected: &[&str] = match name {
            "exact name" | "prefix name" => &["SEARCH u USING INDEX users_display_name_key_idx"],
            "exact username" | "prefix username sorted" | "prefix username count" => {
                &["SEARCH u USING INDEX users_username_key_idx"]
            }
            "walk" | "walk testing" => &["SEARCH g USING PRIMARY KEY (gram=?)"],
            _ => &["SCAN users_search VIRTUAL TABLE"],
        };
        for line in expected {
            assert!(all.contains(line), "{name}: {line}\n{all}");
        }
        if name.starts_with("walk") || name == "exact name" || name == "prefix name" {
            assert!(!all.contains("TEMP B-TREE"), "{name}: sorts\n{all}");
        }
    }
}

#[tokio::test]
async fn pg_search_uses_indexes() {
    let Some(store) = crate::testing::pg_test_store().await else {
        return;
    };
    // 20,000 users (keys in SQL: these names are ASCII, folded = lower; the
    // trigger writes their grams).
    sqlx::query(
        "INSERT INTO users (id, email, username, password_hash, created_at, updated_at, \
         display_name, display_name_key, username_key) \
         SELECT gen_random_uuid(), 'u' || i || '@example.com', h, 'h', now(), now(), \
         'Name ' || i, 'name ' || i, h \
         FROM (SELECT i, 'p' || substr(md5(i::text), 1, 12) AS h \
               FROM generate_series(1, 20000) i) s",
    )
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE users, user_search_grams")
        .execute(store.pool())
        .await
        .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    for q in ["7", "7a", "zzzz", "7a3f", "name 1"] {
        for (name, stmt) in statements::<PostgresStore>(q) {
            if q.chars().count() < 3 && matches!(name, "walk testing" | "sorted" | "count") {
                continue;
            }
            let lines = plan(&mut *conn, "EXPLAIN", "QUERY PLAN", &stmt).await;
            let all = lines.join("\n");
            assert!(!all.contains("Seq Scan"), "{q} {name}: a table scan\n{all}");
            let expected = match name {
                "exact name" | "prefix name" => "users_display_name_key_idx",
                "exact username" | "prefix username sorted" | "prefix username count" => {
                    "users_username_key_idx"
                }
                "walk" | "walk testing" => "Scan using user_search_grams_pkey",
                _ => "users_search_trigrams_idx",
            };
            assert!(all.contains(expected), "{q} {name}: {expected}\n{all}");
            if name.starts_with("walk") || name == "exact name" || name == "prefix name" {
                assert!(!all.contains("Sort"), "{q} {name}: sorts\n{all}");
            }
        }
    }
}
