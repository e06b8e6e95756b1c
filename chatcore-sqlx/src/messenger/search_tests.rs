//! Every path of people search gives the memory store's answer (the
//! reference: a sort of every user), on SQLite and PostgreSQL: the threshold
//! between sorting and walking forced both ways, on names that sort all
//! over the key order (Latin, accented, Cyrillic, duplicates, wildcards).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chatcore::fold::fold;
use chatcore::{MemoryStore, MessengerStore, NewUser, Store, UserId};

use super::search::search_people_sorting_at_most;
use super::Backend;
use crate::SqliteStore;

const FIRST: &[&str] = &[
    "Élodie",
    "Anna",
    "Ольга",
    "Søren",
    "Zoë",
    "Straße",
    "Ada",
    "a_b%",
];
const LAST: &[&str] = &["Martin", "Петров", "Annan", "Lovelace", "Müller", ""];

const QUERIES: &[&str] = &[
    "a",
    "é",
    "о",
    "z",
    "%",
    "_",
    "an",
    "ÉL",
    "ов",
    "ss",
    "ß",
    "0",
    "1",
    "user",
    "user00",
    "ann",
    "anna",
    "martin",
    "петров",
    "ПЕТРОВ",
    "ольга петров",
    "STRASSE",
    "lovel",
    "a_b",
    "b%",
    "zzz",
    "n a",
    "sø",
    "user0012",
    "e m",
    "ada love",
];

/// The same users in `store` and in a memory store, and the caller.
async fn seed(store: &dyn Store, reference: &MemoryStore) -> UserId {
    let mut first = None;
    for i in 0..FIRST.len() * LAST.len() * 2 {
        let display_name = format!(
            "{} {}",
            FIRST[i % FIRST.len()],
            LAST[(i / FIRST.len()) % LAST.len()]
        );
        let user = NewUser {
            id: UserId::new(),
            email: format!("u{i}@example.com"),
            username: format!("user{i:04}"),
            display_name: display_name.trim().to_owned(),
            password_hash: "h".into(),
            created_at: chatcore::clock::now(),
        };
        store.create_user(user.clone()).await.unwrap();
        reference.create_user(user.clone()).await.unwrap();
        first.get_or_insert(user.id);
    }
    first.unwrap()
}

async fn every_path_agrees<B: Backend + MessengerStore + Store>(store: &B) {
    let reference = MemoryStore::new();
    let caller = seed(store, &reference).await;
    // A rename moves a user's grams: the old name no longer finds them.
    let renamed = reference
        .search_people(caller, &fold("zoë"), 1)
        .await
        .unwrap()[0]
        .id;
    for s in [store as &dyn MessengerStore, &reference] {
        s.set_display_name(renamed, "Quentin Xu", chatcore::clock::now())
            .await
            .unwrap();
    }
    for q in QUERIES.iter().chain(&["quentin", "xu", "q"]) {
        let q = fold(q);
        for limit in [1, 3, 20, 50] {
            let expected: Vec<UserId> = reference
                .search_people(caller, &q, limit)
                .await
                .unwrap()
                .iter()
                .map(|p| p.id)
                .collect();
            for sort_at_most in [0, 5, 1_000] {
                let got: Vec<UserId> =
                    search_people_sorting_at_most(store, caller, &q, limit, sort_at_most)
                        .await
                        .unwrap()
                        .iter()
                        .map(|p| p.id)
                        .collect();
                assert_eq!(
                    got, expected,
                    "{q:?} limit {limit} sort_at_most {sort_at_most}"
                );
            }
        }
    }
    let old = fold("zoë");
    let found = store.search_people(caller, &old, 50).await.unwrap();
    assert!(
        found.iter().all(|p| p.id != renamed),
        "found by the old name"
    );
}

#[tokio::test]
async fn sqlite_search_paths_agree_with_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("search.db").display());
    every_path_agrees(&SqliteStore::connect(&url).await.unwrap()).await;
}

#[tokio::test]
async fn pg_search_paths_agree_with_the_reference() {
    let Some(store) = crate::testing::pg_test_store().await else {
        return;
    };
    every_path_agrees(&store).await;
}
