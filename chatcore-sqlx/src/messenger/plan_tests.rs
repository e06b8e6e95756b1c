//! People search runs on indexes, for queries of every length: the plans
//! of its statement on both backends (EXPLAIN), on tables with enough rows
//! for PostgreSQL's planner to care.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chatcore::{NewUser, Store, UserId};

use super::search::{successor, TRIGRAM};
use super::{sql, Backend};
use crate::{PostgresStore, SqliteStore};

/// The plan lines of the "contains" group (from `start` to `end`, or the
/// end of the plan).
fn rest_of<'a>(plan: &'a [String], start: &str, end: Option<&str>) -> &'a [String] {
    let from = plan.iter().position(|l| l.contains(start)).unwrap();
    let to = end
        .and_then(|end| plan[from..].iter().position(|l| l.contains(end)))
        .map_or(plan.len(), |n| from + n);
    &plan[from..to]
}

async fn sqlite_plan(store: &SqliteStore, q: &str) -> Vec<String> {
    let short = q.chars().count() < TRIGRAM;
    let text = format!(
        "EXPLAIN QUERY PLAN {}",
        sql::search(SqliteStore::contains_condition(short))
    );
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&text)
        .bind(q)
        .bind(UserId::new().0)
        .bind(20_i64)
        .bind(successor(q))
        .bind(SqliteStore::contains_arg(q, short))
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.into_iter().map(|r| r.3).collect()
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
    for q in ["u", "us", "use", "user 1"] {
        let plan = sqlite_plan(&store, q).await;
        let all = plan.join("\n");
        assert!(
            !plan.iter().any(|l| l == "SCAN users"),
            "{q}: a table scan\n{all}"
        );
        for index in ["users_display_name_key_idx", "users_username_key_idx"] {
            assert!(
                all.contains(&format!(
                    "SEARCH users USING INDEX {index} (display_name_key=?)"
                )) || all.contains(&format!(
                    "SEARCH users USING INDEX {index} (username_key=?)"
                )),
                "{q}: exact group on {index}\n{all}"
            );
        }
        let rest = rest_of(&plan, "CO-ROUTINE rest", Some("SCAN rest")).join("\n");
        if q.chars().count() < TRIGRAM {
            // The walk in display-name order, stopping at the limit: no sort.
            assert!(
                rest.contains("SCAN users USING INDEX users_display_name_key_idx"),
                "{q}\n{all}"
            );
            assert!(!rest.contains("TEMP B-TREE"), "{q}: the walk sorts\n{all}");
        } else {
            assert!(
                rest.contains("SCAN users_search VIRTUAL TABLE"),
                "{q}\n{all}"
            );
            assert!(
                rest.contains("USING INDEX users_search_rowid_key"),
                "{q}\n{all}"
            );
        }
    }
}

async fn pg_plan(store: &PostgresStore, q: &str) -> Vec<String> {
    let short = q.chars().count() < TRIGRAM;
    let text = format!(
        "EXPLAIN {}",
        sql::search(PostgresStore::contains_condition(short))
    );
    sqlx::query_scalar(&text)
        .bind(q)
        .bind(UserId::new().0)
        .bind(20_i64)
        .bind(successor(q))
        .bind(PostgresStore::contains_arg(q, short))
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn pg_search_uses_indexes() {
    let Some(store) = crate::testing::pg_test_store().await else {
        return;
    };
    // 20,000 users (keys in SQL: these names are ASCII, folded = lower).
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
    sqlx::query("ANALYZE users")
        .execute(store.pool())
        .await
        .unwrap();
    for q in ["7", "7a", "zzzz", "7a3f", "name 1"] {
        let plan = pg_plan(&store, q).await;
        let all = plan.join("\n");
        assert!(
            !all.contains("Seq Scan on users"),
            "{q}: a table scan\n{all}"
        );
        let rest = rest_of(&plan, "Subquery Scan on rest", None).join("\n");
        if q.chars().count() < TRIGRAM {
            assert!(
                rest.contains("Index Scan using users_display_name_key_idx"),
                "{q}: the walk in display-name order\n{all}"
            );
            assert!(!rest.contains("Sort"), "{q}: the walk sorts\n{all}");
        } else if q != "name 1" {
            // Rare trigrams: the GIN indexes. ("name 1" is common: the
            // planner may walk the B-tree in order instead, also fine.)
            for index in [
                "users_display_name_key_trgm_idx",
                "users_username_key_trgm_idx",
            ] {
                assert!(rest.contains(index), "{q}: {index}\n{all}");
            }
        }
    }
}
