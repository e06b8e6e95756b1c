//! The store conformance suite: every behaviour of [`Store`] that the
//! services rely on, written once and run against every backend.
//!
//! Each scenario is a `pub async fn` that takes a fresh, empty store (as
//! `&dyn Store`, or `Arc<dyn Store>` where it needs concurrency) and panics
//! when the store misbehaves. [`store_conformance_tests!`](crate::store_conformance_tests)
//! stamps one `#[tokio::test]` per scenario, named after it, so a test run
//! shows every scenario for every backend:
//!
//! ```ignore
//! // tests/memory_store.rs of a crate with `chatcore = { features = ["testing"] }`
//! // and `tokio` (features `macros`, `rt-multi-thread`) as dev-dependencies.
//! chatcore::store_conformance_tests!(|| async { chatcore::MemoryStore::new() });
//! ```
//!
//! The factory is called once per test and returns anything that implements
//! [`IntoTestStore`]: a [`Store`], a [`TestStore`] (a store plus a guard kept
//! alive for the test, e.g. a temporary directory), or an `Option` of either,
//! where `None` skips the test (the factory prints why).
//!
//! [`SCENARIOS`] lists every scenario; the generated
//! `conformance_suite_is_complete` test fails when the macro and the list
//! disagree, and a unit test of this crate fails when a scenario function is
//! missing from the list, so no scenario can be dropped silently.

// Test-support code: a failed expectation must panic with a clear message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::any::Any;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::clock;
use crate::domain::{
    ChatMessage, ChatSession, MessageStatus, MessageUpdate, NewUser, Role, SessionCursor, Usage,
    User,
};
use crate::ids::{MessageId, SessionId, UserId};
use crate::store::{ConflictKind, Store, StoreError};

/// Every scenario of the suite, by function name, in the order the macro stamps them.
pub const SCENARIOS: &[&str] = &[
    "ping_succeeds",
    "create_and_get_user",
    "email_conflict_is_case_insensitive",
    "username_conflict_is_case_insensitive",
    "duplicate_ids_are_conflicts",
    "find_user_by_email_is_case_insensitive",
    "username_exists_is_case_insensitive",
    "create_and_get_session",
    "create_session_for_unknown_user_is_not_found",
    "foreign_session_is_invisible",
    "soft_delete_hides_session_but_keeps_rows",
    "list_sessions_newest_first_ties_by_id_desc",
    "list_sessions_pages_with_cursor",
    "appending_message_moves_session_to_top",
    "rename_sets_explicit_title_and_updated_at",
    "derived_title_only_when_not_explicit",
    "messages_ordered_by_timestamp_then_id",
    "messages_ordered_at_microsecond_precision",
    "concurrent_appends_are_all_stored",
    "update_message_streaming_then_final",
    "update_unknown_message_is_not_found",
    "interrupt_streaming_marks_only_streaming",
    "append_to_unknown_session_is_not_found",
    "unicode_content_round_trips",
    "timestamps_round_trip_with_microsecond_precision",
    "append_messages_stores_a_turn_atomically",
    "recent_messages_are_the_latest_in_order",
];

/// Stamps one `#[tokio::test]` per conformance scenario for one backend.
///
/// The argument is a factory: a closure taking no argument and returning a
/// future whose output implements [`IntoTestStore`](crate::testing::IntoTestStore)
/// (a `Store`, a `TestStore`, or an `Option` of either; `None` skips). It is
/// called once per test, so every scenario gets its own empty store. The
/// tests are named after the scenarios (use a `mod` per backend when one file
/// runs several), plus `conformance_suite_is_complete`, which checks that the
/// macro covers exactly [`SCENARIOS`](crate::testing::SCENARIOS).
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread`
/// features (the tests run on a multi-threaded runtime so concurrency is real).
///
/// ```ignore
/// mod memory {
///     chatcore::store_conformance_tests!(|| async { chatcore::MemoryStore::new() });
/// }
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr $(,)?) => {
        $crate::__store_conformance_tests!(
            @stamp $factory;
            plain ping_succeeds,
            plain create_and_get_user,
            plain email_conflict_is_case_insensitive,
            plain username_conflict_is_case_insensitive,
            plain duplicate_ids_are_conflicts,
            plain find_user_by_email_is_case_insensitive,
            plain username_exists_is_case_insensitive,
            plain create_and_get_session,
            plain create_session_for_unknown_user_is_not_found,
            plain foreign_session_is_invisible,
            plain soft_delete_hides_session_but_keeps_rows,
            plain list_sessions_newest_first_ties_by_id_desc,
            plain list_sessions_pages_with_cursor,
            plain appending_message_moves_session_to_top,
            plain rename_sets_explicit_title_and_updated_at,
            plain derived_title_only_when_not_explicit,
            plain messages_ordered_by_timestamp_then_id,
            plain messages_ordered_at_microsecond_precision,
            shared concurrent_appends_are_all_stored,
            plain update_message_streaming_then_final,
            plain update_unknown_message_is_not_found,
            plain interrupt_streaming_marks_only_streaming,
            plain append_to_unknown_session_is_not_found,
            plain unicode_content_round_trips,
            plain timestamps_round_trip_with_microsecond_precision,
            plain append_messages_stores_a_turn_atomically,
            plain recent_messages_are_the_latest_in_order,
        );
    };
}

/// Implementation detail of [`store_conformance_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_tests {
    (@stamp $factory:expr; $($kind:ident $name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let factory = $factory;
                let Some(fixture) =
                    $crate::testing::IntoTestStore::into_test_store(factory().await)
                else {
                    ::std::eprintln!(
                        "note: store conformance scenario `{}` skipped (no store)",
                        ::std::stringify!($name)
                    );
                    return;
                };
                $crate::__store_conformance_tests!(@call $kind $name fixture);
            }
        )*

        #[test]
        fn conformance_suite_is_complete() {
            $crate::testing::assert_covers_all_scenarios(&[$(::std::stringify!($name)),*]);
        }
    };
    (@call plain $name:ident $fixture:ident) => {
        $crate::testing::$name(&*$fixture.store()).await
    };
    (@call shared $name:ident $fixture:ident) => {
        $crate::testing::$name($fixture.store()).await
    };
}

/// Panics unless `stamped` names exactly the scenarios of [`SCENARIOS`], once each.
pub fn assert_covers_all_scenarios(stamped: &[&str]) {
    let stamped_set: HashSet<&str> = stamped.iter().copied().collect();
    let expected: HashSet<&str> = SCENARIOS.iter().copied().collect();
    assert_eq!(
        stamped_set.len(),
        stamped.len(),
        "a scenario is stamped twice: {stamped:?}"
    );
    let missing: Vec<&str> = SCENARIOS
        .iter()
        .copied()
        .filter(|s| !stamped_set.contains(s))
        .collect();
    let unknown: Vec<&str> = stamped
        .iter()
        .copied()
        .filter(|s| !expected.contains(s))
        .collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "store conformance suite incomplete: not stamped {missing:?}, not in SCENARIOS {unknown:?}"
    );
}

/// A store under test plus whatever must live as long as the test.
pub struct TestStore {
    store: Arc<dyn Store>,
    guard: Option<Box<dyn Any + Send + Sync>>,
}

impl TestStore {
    /// Wraps a store.
    pub fn new(store: impl Store) -> Self {
        Self {
            store: Arc::new(store),
            guard: None,
        }
    }

    /// Keeps `guard` (a temporary directory, a database handle…) alive until
    /// the test ends.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// The store, shared.
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }
}

impl fmt::Debug for TestStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestStore")
            .field("has_guard", &self.guard.is_some())
            .finish_non_exhaustive()
    }
}

/// What a conformance factory may return: a store, a [`TestStore`], or an
/// `Option` of either (`None` skips the test).
pub trait IntoTestStore {
    /// The store to test, or `None` to skip.
    fn into_test_store(self) -> Option<TestStore>;
}

impl IntoTestStore for TestStore {
    fn into_test_store(self) -> Option<TestStore> {
        Some(self)
    }
}

impl<S: Store> IntoTestStore for S {
    fn into_test_store(self) -> Option<TestStore> {
        Some(TestStore::new(self))
    }
}

impl<T: IntoTestStore> IntoTestStore for Option<T> {
    fn into_test_store(self) -> Option<TestStore> {
        self.and_then(IntoTestStore::into_test_store)
    }
}

// ---------------------------------------------------------------- helpers

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn new_user(email: &str, username: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: email.to_owned(),
        username: username.to_owned(),
        display_name: username.to_owned(),
        password_hash: HASH.to_owned(),
        created_at: clock::now(),
    }
}

pub(super) async fn user(store: &dyn Store, name: &str) -> User {
    store
        .create_user(new_user(&format!("{name}@example.com"), name))
        .await
        .expect("create_user")
}

fn session_at(user_id: UserId, title: &str, explicit: bool, at: DateTime<Utc>) -> ChatSession {
    ChatSession {
        id: SessionId::new(),
        user_id,
        title: title.to_owned(),
        title_explicit: explicit,
        created_at: at,
        updated_at: at,
    }
}

pub(super) async fn session(store: &dyn Store, user_id: UserId, title: &str) -> ChatSession {
    store
        .create_session(session_at(user_id, title, false, clock::now()))
        .await
        .expect("create_session")
}

pub(super) fn message_at(
    session_id: SessionId,
    role: Role,
    content: &str,
    status: MessageStatus,
    timestamp: DateTime<Utc>,
) -> ChatMessage {
    ChatMessage {
        id: MessageId::new(),
        session_id,
        role,
        content: content.to_owned(),
        status,
        provider: None,
        model: None,
        usage: None,
        timestamp,
    }
}

pub(super) async fn append(
    store: &dyn Store,
    session_id: SessionId,
    role: Role,
    content: &str,
) -> ChatMessage {
    store
        .append_message(message_at(
            session_id,
            role,
            content,
            MessageStatus::Complete,
            clock::now(),
        ))
        .await
        .expect("append_message")
}

pub(super) async fn list_all(store: &dyn Store, user_id: UserId) -> Vec<ChatSession> {
    store
        .list_sessions(user_id, 1000, None)
        .await
        .expect("list_sessions")
}

fn ids(sessions: &[ChatSession]) -> Vec<SessionId> {
    sessions.iter().map(|s| s.id).collect()
}

fn assert_conflict(result: Result<impl fmt::Debug, StoreError>, kind: ConflictKind, what: &str) {
    match result {
        Err(StoreError::Conflict(found)) => {
            assert_eq!(found, kind, "{what}: wrong conflict kind")
        }
        other => panic!("{what}: expected Conflict({kind:?}), got {other:?}"),
    }
}

pub(super) fn assert_not_found(result: Result<impl fmt::Debug, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

pub(super) fn micros(value: i64) -> DateTime<Utc> {
    clock::from_micros(value)
}

// -------------------------------------------------------------- scenarios

/// `ping` answers on a fresh store.
pub async fn ping_succeeds(store: &dyn Store) {
    store.ping().await.expect("ping");
}

/// A created user is returned as stored and read back by id; an unknown id is `None`.
pub async fn create_and_get_user(store: &dyn Store) {
    let new = new_user("alice@example.com", "alice");
    let created = store.create_user(new.clone()).await.expect("create_user");
    assert_eq!(created.id, new.id);
    assert_eq!(created.email, "alice@example.com");
    assert_eq!(created.username, "alice");
    assert_eq!(created.created_at, new.created_at);
    assert_eq!(created.updated_at, new.created_at);

    let read = store.get_user(new.id).await.expect("get_user");
    assert_eq!(read, Some(created));
    assert_eq!(store.get_user(UserId::new()).await.expect("get_user"), None);
}

/// A second account whose email differs only in case is `Conflict(Email)`.
pub async fn email_conflict_is_case_insensitive(store: &dyn Store) {
    store
        .create_user(new_user("bob@x.com", "bob"))
        .await
        .expect("create_user");
    assert_conflict(
        store.create_user(new_user("Bob@X.com", "robert")).await,
        ConflictKind::Email,
        "email differing in case",
    );
    assert_conflict(
        store.create_user(new_user("bob@x.com", "bobby")).await,
        ConflictKind::Email,
        "same email",
    );
    // The failed attempts stored nothing.
    assert!(!store.username_exists("robert").await.expect("exists"));
    assert!(!store.username_exists("bobby").await.expect("exists"));
}

/// A second account whose username differs only in case is `Conflict(Username)`.
pub async fn username_conflict_is_case_insensitive(store: &dyn Store) {
    store
        .create_user(new_user("alice@example.com", "Alice"))
        .await
        .expect("create_user");
    assert_conflict(
        store
            .create_user(new_user("other@example.com", "alice"))
            .await,
        ConflictKind::Username,
        "username differing in case",
    );
    assert_conflict(
        store
            .create_user(new_user("third@example.com", "Alice"))
            .await,
        ConflictKind::Username,
        "same username",
    );
    assert!(store
        .find_user_by_email("other@example.com")
        .await
        .expect("find")
        .is_none());
}

/// Re-using a user, session or message id is `Conflict(Id)`.
pub async fn duplicate_ids_are_conflicts(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let mut again = new_user("someone@example.com", "someone");
    again.id = alice.id;
    assert_conflict(
        store.create_user(again).await,
        ConflictKind::Id,
        "duplicate user id",
    );

    let s = session(store, alice.id, "New chat").await;
    let mut dup = session_at(alice.id, "Other", false, clock::now());
    dup.id = s.id;
    assert_conflict(
        store.create_session(dup).await,
        ConflictKind::Id,
        "duplicate session id",
    );

    let m = append(store, s.id, Role::User, "hello").await;
    let mut dup = message_at(
        s.id,
        Role::User,
        "again",
        MessageStatus::Complete,
        clock::now(),
    );
    dup.id = m.id;
    assert_conflict(
        store.append_message(dup).await,
        ConflictKind::Id,
        "duplicate message id",
    );
    let messages = store.list_messages(s.id).await.expect("list_messages");
    assert_eq!(messages, vec![m]);
}

/// `find_user_by_email` ignores case and returns the password hash.
pub async fn find_user_by_email_is_case_insensitive(store: &dyn Store) {
    let created = user(store, "alice").await;
    for probe in [
        "alice@example.com",
        "ALICE@Example.COM",
        "Alice@example.com",
    ] {
        let found = store
            .find_user_by_email(probe)
            .await
            .expect("find_user_by_email")
            .unwrap_or_else(|| panic!("{probe} not found"));
        assert_eq!(found.user, created);
        assert_eq!(found.password_hash, HASH);
    }
    assert!(store
        .find_user_by_email("nobody@example.com")
        .await
        .expect("find_user_by_email")
        .is_none());
}

/// `username_exists` ignores case.
pub async fn username_exists_is_case_insensitive(store: &dyn Store) {
    store
        .create_user(new_user("alice@example.com", "Alice"))
        .await
        .expect("create_user");
    for probe in ["Alice", "alice", "ALICE"] {
        assert!(
            store.username_exists(probe).await.expect("exists"),
            "{probe}"
        );
    }
    assert!(!store.username_exists("alicia").await.expect("exists"));
    assert!(!store.username_exists("").await.expect("exists"));
}

/// A created session is returned as stored and read back by its owner.
pub async fn create_and_get_session(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let new = session_at(alice.id, "New chat", false, clock::now());
    let created = store.create_session(new.clone()).await.expect("create");
    assert_eq!(created, new);
    let read = store.get_session(alice.id, new.id).await.expect("get");
    assert_eq!(read, Some(new.clone()));
    assert_eq!(
        store
            .get_session(alice.id, SessionId::new())
            .await
            .expect("get"),
        None
    );
    assert_eq!(list_all(store, alice.id).await, vec![new]);

    let explicit = session_at(alice.id, "Holiday plans", true, clock::now());
    let created = store
        .create_session(explicit.clone())
        .await
        .expect("create");
    assert!(created.title_explicit);
    let read = store.get_session(alice.id, explicit.id).await.expect("get");
    assert_eq!(read, Some(explicit));
}

/// A session cannot be created for a user that does not exist.
pub async fn create_session_for_unknown_user_is_not_found(store: &dyn Store) {
    let orphan = session_at(UserId::new(), "New chat", false, clock::now());
    assert_not_found(store.create_session(orphan).await, "unknown owner");
}

/// Another user's session is invisible: `None` on get, `NotFound` on rename and delete.
pub async fn foreign_session_is_invisible(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let s = session(store, alice.id, "Alice's").await;

    assert_eq!(store.get_session(bob.id, s.id).await.expect("get"), None);
    assert_not_found(
        store
            .rename_session(bob.id, s.id, "Hijacked", clock::now())
            .await,
        "rename by another user",
    );
    assert_not_found(
        store.delete_session(bob.id, s.id).await,
        "delete by another user",
    );
    assert!(list_all(store, bob.id).await.is_empty());

    let read = store.get_session(alice.id, s.id).await.expect("get");
    assert_eq!(read, Some(s.clone()), "the owner's session is unchanged");
    assert_eq!(list_all(store, alice.id).await, vec![s]);
}

/// A soft-deleted session is gone for get, list, rename and delete, but its rows stay.
pub async fn soft_delete_hides_session_but_keeps_rows(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let kept = session(store, alice.id, "Kept").await;
    let doomed = session(store, alice.id, "Doomed").await;
    let m1 = append(store, doomed.id, Role::User, "question").await;
    let m2 = append(store, doomed.id, Role::Assistant, "answer").await;

    store
        .delete_session(alice.id, doomed.id)
        .await
        .expect("delete");

    assert_eq!(
        store.get_session(alice.id, doomed.id).await.expect("get"),
        None
    );
    assert_eq!(ids(&list_all(store, alice.id).await), vec![kept.id]);
    assert_not_found(
        store
            .rename_session(alice.id, doomed.id, "Back", clock::now())
            .await,
        "rename after delete",
    );
    assert_not_found(
        store.delete_session(alice.id, doomed.id).await,
        "delete twice",
    );
    assert_eq!(
        store
            .set_derived_title(doomed.id, "Derived")
            .await
            .expect("derive"),
        None
    );
    let messages = store.list_messages(doomed.id).await.expect("messages");
    assert_eq!(messages, vec![m1, m2], "rows of a deleted session are kept");
    assert!(store
        .get_session(alice.id, kept.id)
        .await
        .expect("get")
        .is_some());
}

/// Sessions list newest-updated first, ties by id descending, only the
/// owner's live ones, at most `limit`.
pub async fn list_sessions_newest_first_ties_by_id_desc(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let base = clock::now();
    let mut make = Vec::new();
    for (offset, title) in [(0, "oldest"), (2, "middle"), (1, "second oldest")] {
        make.push(session_at(
            alice.id,
            title,
            false,
            base + Duration::seconds(offset),
        ));
    }
    // Three sessions updated at the very same instant.
    let tie = base + Duration::seconds(5);
    for title in ["tie a", "tie b", "tie c"] {
        make.push(session_at(alice.id, title, false, tie));
    }
    for s in &make {
        store.create_session(s.clone()).await.expect("create");
    }
    let deleted = session_at(alice.id, "deleted", false, base + Duration::seconds(9));
    store.create_session(deleted.clone()).await.expect("create");
    store
        .delete_session(alice.id, deleted.id)
        .await
        .expect("delete");
    let foreign = session_at(bob.id, "bob's", false, base + Duration::seconds(9));
    store.create_session(foreign).await.expect("create");

    let mut expected = make.clone();
    expected.sort_by_key(|s| std::cmp::Reverse((s.updated_at, s.id)));
    let listed = list_all(store, alice.id).await;
    assert_eq!(listed, expected);
    // The three ties come first, by id descending.
    let mut tie_ids: Vec<SessionId> = make[3..].iter().map(|s| s.id).collect();
    tie_ids.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids(&listed[..3]), tie_ids);
    assert_eq!(listed[3].title, "middle");
    assert_eq!(listed[5].title, "oldest");

    let first_two = store.list_sessions(alice.id, 2, None).await.expect("list");
    assert_eq!(first_two, expected[..2].to_vec());
    let none = store.list_sessions(alice.id, 0, None).await.expect("list");
    assert!(none.is_empty(), "limit 0 lists nothing");
}

/// Cursor paging walks every session once, in order, across several pages,
/// including pages that split a group of equal `updated_at`.
pub async fn list_sessions_pages_with_cursor(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let base = clock::now();
    let mut all = Vec::new();
    for i in 0..17 {
        // Groups of three share an `updated_at`, so pages split ties.
        let s = session_at(
            alice.id,
            &format!("chat {i}"),
            false,
            base + Duration::milliseconds(i / 3),
        );
        store.create_session(s.clone()).await.expect("create");
        all.push(s);
    }
    all.sort_by_key(|s| std::cmp::Reverse((s.updated_at, s.id)));

    let mut seen: Vec<ChatSession> = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_sessions(alice.id, 4, cursor)
            .await
            .expect("list page");
        assert!(page.len() <= 4, "page longer than the limit");
        pages += 1;
        assert!(pages <= 10, "paging does not end");
        let Some(last) = page.last() else { break };
        cursor = Some(SessionCursor {
            updated_at: last.updated_at,
            id: last.id,
        });
        let full = page.len() == 4;
        seen.extend(page);
        if !full {
            break;
        }
    }
    let unique: HashSet<SessionId> = seen.iter().map(|s| s.id).collect();
    assert_eq!(unique.len(), seen.len(), "a session appeared on two pages");
    assert_eq!(
        ids(&seen),
        ids(&all),
        "paging skipped or reordered sessions"
    );
    assert_eq!(seen, all);

    // A cursor past the end gives an empty page.
    let last = all.last().expect("sessions");
    let after_last = store
        .list_sessions(
            alice.id,
            4,
            Some(SessionCursor {
                updated_at: last.updated_at,
                id: last.id,
            }),
        )
        .await
        .expect("list");
    assert!(after_last.is_empty());
}

/// Appending a message moves the session's `updated_at` to the message's
/// timestamp (never backwards) and so to the top of the list.
pub async fn appending_message_moves_session_to_top(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let older = session(store, alice.id, "older").await;
    let newer = session(store, alice.id, "newer").await;
    assert_eq!(
        ids(&list_all(store, alice.id).await),
        vec![newer.id, older.id]
    );

    let m = append(store, older.id, Role::User, "bump").await;
    let listed = list_all(store, alice.id).await;
    assert_eq!(ids(&listed), vec![older.id, newer.id]);
    assert_eq!(listed[0].updated_at, m.timestamp);
    assert_eq!(listed[0].created_at, older.created_at);

    // A message stamped earlier than the session's last change does not move it back.
    let early = message_at(
        older.id,
        Role::User,
        "late arrival",
        MessageStatus::Complete,
        older.created_at - Duration::hours(1),
    );
    store.append_message(early).await.expect("append");
    let read = store
        .get_session(alice.id, older.id)
        .await
        .expect("get")
        .expect("session");
    assert_eq!(read.updated_at, m.timestamp);
}

/// Renaming sets the title, marks it explicit and moves `updated_at`.
pub async fn rename_sets_explicit_title_and_updated_at(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let s = session(store, alice.id, "New chat").await;
    let other = session(store, alice.id, "Other").await;
    let at = clock::now();
    let renamed = store
        .rename_session(alice.id, s.id, "Trip plans", at)
        .await
        .expect("rename");
    assert_eq!(renamed.id, s.id);
    assert_eq!(renamed.title, "Trip plans");
    assert!(renamed.title_explicit);
    assert_eq!(renamed.updated_at, at);
    assert_eq!(renamed.created_at, s.created_at);
    let read = store.get_session(alice.id, s.id).await.expect("get");
    assert_eq!(read, Some(renamed.clone()));
    assert_eq!(ids(&list_all(store, alice.id).await), vec![s.id, other.id]);
    assert_not_found(
        store
            .rename_session(alice.id, SessionId::new(), "Ghost", clock::now())
            .await,
        "rename unknown session",
    );
}

/// A derived title replaces only a title that is not explicit, of a session
/// that is not deleted; a later derived title (a provider-generated one
/// after the first words) replaces an earlier one; after a rename none does.
pub async fn derived_title_only_when_not_explicit(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let implicit = session(store, alice.id, "New chat").await;
    let changed = store
        .set_derived_title(implicit.id, "First words")
        .await
        .expect("derive")
        .expect("an implicit title is replaced");
    assert_eq!(changed.title, "First words");
    let changed = store
        .set_derived_title(implicit.id, "Derived from the first message")
        .await
        .expect("derive")
        .expect("a derived title is replaced by a later one");
    assert_eq!(changed.title, "Derived from the first message");
    assert!(!changed.title_explicit);
    let read = store
        .get_session(alice.id, implicit.id)
        .await
        .expect("get")
        .expect("session");
    assert_eq!(read.title, "Derived from the first message");
    assert!(!read.title_explicit);

    let doomed = session(store, alice.id, "New chat").await;
    store
        .delete_session(alice.id, doomed.id)
        .await
        .expect("delete");
    assert_eq!(
        store
            .set_derived_title(doomed.id, "Too late")
            .await
            .expect("derive"),
        None,
        "a deleted session is not re-titled"
    );

    let explicit = store
        .create_session(session_at(alice.id, "Mine", true, clock::now()))
        .await
        .expect("create");
    assert_eq!(
        store
            .set_derived_title(explicit.id, "Derived")
            .await
            .expect("derive"),
        None
    );
    let read = store
        .get_session(alice.id, explicit.id)
        .await
        .expect("get")
        .expect("session");
    assert_eq!(read.title, "Mine");

    store
        .rename_session(alice.id, implicit.id, "Renamed", clock::now())
        .await
        .expect("rename");
    assert_eq!(
        store
            .set_derived_title(implicit.id, "Derived again")
            .await
            .expect("derive"),
        None
    );
    let read = store
        .get_session(alice.id, implicit.id)
        .await
        .expect("get")
        .expect("session");
    assert_eq!(read.title, "Renamed");
    assert!(read.title_explicit);

    assert_eq!(
        store
            .set_derived_title(SessionId::new(), "Nobody")
            .await
            .expect("derive"),
        None
    );
}

/// Messages sharing one timestamp come back ordered by id, whatever the
/// order they were written in.
pub async fn messages_ordered_by_timestamp_then_id(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let s = session(store, alice.id, "chat").await;
    let ts = clock::now();
    let ids: Vec<MessageId> = (0..5).map(|_| MessageId::new()).collect();
    let mut expected = Vec::new();
    let before = message_at(
        s.id,
        Role::User,
        "before",
        MessageStatus::Complete,
        ts - Duration::microseconds(1),
    );
    expected.push(before.clone());
    for (i, id) in ids.iter().enumerate() {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        let mut m = message_at(
            s.id,
            role,
            &format!("same {i}"),
            MessageStatus::Complete,
            ts,
        );
        m.id = *id;
        expected.push(m);
    }
    let after = message_at(
        s.id,
        Role::Assistant,
        "after",
        MessageStatus::Complete,
        ts + Duration::microseconds(1),
    );
    expected.push(after.clone());

    // Written out of order: after, the ties shuffled, before.
    store.append_message(after).await.expect("append");
    for i in [3, 0, 4, 1, 2] {
        store
            .append_message(expected[i + 1].clone())
            .await
            .expect("append");
    }
    store.append_message(before).await.expect("append");

    let listed = store.list_messages(s.id).await.expect("list");
    assert_eq!(listed, expected);
}

/// Timestamps in the same millisecond but different microseconds order
/// exactly, even against the id order.
pub async fn messages_ordered_at_microsecond_precision(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let s = session(store, alice.id, "chat").await;
    let base = 1_763_771_553_123_000_i64; // a whole millisecond
    let offsets = [999_i64, 500, 2, 1, 0];
    // Ids ascending while timestamps descend, so ordering by id would be wrong.
    let mut written = Vec::new();
    for (i, offset) in offsets.iter().enumerate() {
        let m = message_at(
            s.id,
            Role::User,
            &format!("offset {offset}"),
            MessageStatus::Complete,
            micros(base + offset),
        );
        assert!(written
            .last()
            .is_none_or(|prev: &ChatMessage| prev.id < m.id));
        store.append_message(m.clone()).await.expect("append");
        written.push(m);
        assert_eq!(written.len(), i + 1);
    }
    let mut expected = written.clone();
    expected.sort_by_key(|m| m.timestamp);
    let listed = store.list_messages(s.id).await.expect("list");
    assert_eq!(listed, expected);
    let stamps: Vec<i64> = listed
        .iter()
        .map(|m| m.timestamp.timestamp_micros())
        .collect();
    assert_eq!(
        stamps,
        vec![base, base + 1, base + 2, base + 500, base + 999]
    );
}

/// 50 concurrent appends to one session are all stored, in `(timestamp, id)` order.
pub async fn concurrent_appends_are_all_stored(store: Arc<dyn Store>) {
    let alice = user(&*store, "alice").await;
    let s = session(&*store, alice.id, "busy").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = Arc::clone(&store);
        let session_id = s.id;
        tasks.push(tokio::spawn(async move {
            let role = if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            store
                .append_message(message_at(
                    session_id,
                    role,
                    &format!("message {i}"),
                    MessageStatus::Complete,
                    clock::now(),
                ))
                .await
        }));
    }
    let mut written = Vec::new();
    for task in tasks {
        let stored = task
            .await
            .expect("task")
            .expect("concurrent append_message");
        written.push(stored);
    }
    let listed = store.list_messages(s.id).await.expect("list");
    assert_eq!(listed.len(), 50);
    let mut expected = written;
    expected.sort_by_key(|m| (m.timestamp, m.id));
    assert_eq!(listed, expected);
    let latest = expected.last().expect("messages").timestamp;
    let read = store
        .get_session(alice.id, s.id)
        .await
        .expect("get")
        .expect("session");
    assert_eq!(read.updated_at, latest, "updated_at is the newest message");
}

/// A streaming reply is flushed (content only), then finalised with usage,
/// provider and model; every update rewrites those fields.
pub async fn update_message_streaming_then_final(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let s = session(store, alice.id, "chat").await;
    let question = append(store, s.id, Role::User, "Say hello").await;
    let reply = store
        .append_message(message_at(
            s.id,
            Role::Assistant,
            "",
            MessageStatus::Streaming,
            clock::now(),
        ))
        .await
        .expect("append");

    let flushed = store
        .update_message(
            reply.id,
            MessageUpdate {
                content: "Hel".to_owned(),
                status: MessageStatus::Streaming,
                provider: None,
                model: None,
                usage: None,
            },
        )
        .await
        .expect("flush");
    assert_eq!(
        flushed,
        ChatMessage {
            content: "Hel".to_owned(),
            ..reply.clone()
        }
    );
    assert_eq!(
        store.list_messages(s.id).await.expect("list"),
        vec![question.clone(), flushed]
    );

    let final_usage = Usage {
        prompt_tokens: 12,
        completion_tokens: 34,
    };
    let done = store
        .update_message(
            reply.id,
            MessageUpdate {
                content: "Hello there!".to_owned(),
                status: MessageStatus::Complete,
                provider: Some("gemini".to_owned()),
                model: Some("gemini-flash".to_owned()),
                usage: Some(final_usage),
            },
        )
        .await
        .expect("final");
    let expected = ChatMessage {
        content: "Hello there!".to_owned(),
        status: MessageStatus::Complete,
        provider: Some("gemini".to_owned()),
        model: Some("gemini-flash".to_owned()),
        usage: Some(final_usage),
        ..reply.clone()
    };
    assert_eq!(done, expected);
    assert_eq!(
        store.list_messages(s.id).await.expect("list"),
        vec![question.clone(), expected]
    );

    // An update rewrites provider, model and usage too (here: cleared).
    let errored = store
        .update_message(
            reply.id,
            MessageUpdate {
                content: "Hello th".to_owned(),
                status: MessageStatus::Error,
                provider: None,
                model: None,
                usage: None,
            },
        )
        .await
        .expect("error update");
    assert_eq!(
        errored,
        ChatMessage {
            content: "Hello th".to_owned(),
            status: MessageStatus::Error,
            ..reply
        }
    );
    assert_eq!(
        store.list_messages(s.id).await.expect("list")[0],
        question,
        "the other message is untouched"
    );
}

/// Updating a message that does not exist is `NotFound`.
pub async fn update_unknown_message_is_not_found(store: &dyn Store) {
    assert_not_found(
        store
            .update_message(
                MessageId::new(),
                MessageUpdate {
                    content: "x".to_owned(),
                    status: MessageStatus::Complete,
                    provider: None,
                    model: None,
                    usage: None,
                },
            )
            .await,
        "update unknown message",
    );
}

/// `interrupt_streaming` turns every `streaming` message (of any session)
/// into `interrupted`, keeps its text, touches nothing else and returns the count.
pub async fn interrupt_streaming_marks_only_streaming(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let a = session(store, alice.id, "a").await;
    let b = session(store, bob.id, "b").await;
    let mut written = Vec::new();
    for (sid, role, content, status) in [
        (a.id, Role::User, "q", MessageStatus::Complete),
        (a.id, Role::Assistant, "partial a", MessageStatus::Streaming),
        (b.id, Role::Assistant, "partial b", MessageStatus::Streaming),
        (b.id, Role::Assistant, "stopped", MessageStatus::Stopped),
        (b.id, Role::Assistant, "failed", MessageStatus::Error),
        (b.id, Role::Assistant, "done", MessageStatus::Complete),
    ] {
        let m = message_at(sid, role, content, status, clock::now());
        written.push(store.append_message(m).await.expect("append"));
    }

    assert_eq!(store.interrupt_streaming().await.expect("interrupt"), 2);

    let mut after = store.list_messages(a.id).await.expect("list");
    after.extend(store.list_messages(b.id).await.expect("list"));
    let expected: Vec<ChatMessage> = written
        .into_iter()
        .map(|m| match m.status {
            MessageStatus::Streaming => ChatMessage {
                status: MessageStatus::Interrupted,
                ..m
            },
            _ => m,
        })
        .collect();
    assert_eq!(after, expected);
    assert_eq!(store.interrupt_streaming().await.expect("interrupt"), 0);
}

/// Appending to a session that does not exist is `NotFound` and stores nothing.
pub async fn append_to_unknown_session_is_not_found(store: &dyn Store) {
    let ghost = SessionId::new();
    assert_not_found(
        store
            .append_message(message_at(
                ghost,
                Role::User,
                "hello?",
                MessageStatus::Complete,
                clock::now(),
            ))
            .await,
        "append to unknown session",
    );
    assert!(store.list_messages(ghost).await.expect("list").is_empty());
}

/// Emoji, CJK, right-to-left text, combining marks, control-ish characters
/// and long content round-trip exactly, in titles and messages.
pub async fn unicode_content_round_trips(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let title = "旅行の計画 ✈️ — مرحبا";
    let s = store
        .create_session(session_at(alice.id, title, true, clock::now()))
        .await
        .expect("create");
    assert_eq!(s.title, title);
    let long = format!("{}🎉", "é".repeat(31_999));
    let contents = [
        "Hello 👋🏽 family: 👨\u{200d}👩\u{200d}👧\u{200d}👦 flag: 🇳🇱".to_owned(),
        "你好，世界。日本語のテキスト、한국어 텍스트".to_owned(),
        "مرحبا بالعالم — שלום עולם".to_owned(),
        "override \u{202e}desrever\u{202c} and zero\u{200b}width".to_owned(),
        "combining: e\u{301} a\u{308} n\u{303}".to_owned(),
        "quotes \"double\" 'single' `back` \\ backslash\n\ttab\r\nCRLF".to_owned(),
        "'); DROP TABLE chat_messages; --".to_owned(),
        "   leading and trailing spaces   ".to_owned(),
        long,
    ];
    let mut written = Vec::new();
    for content in &contents {
        written.push(append(store, s.id, Role::User, content).await);
    }
    let listed = store.list_messages(s.id).await.expect("list");
    let read: Vec<&str> = listed.iter().map(|m| m.content.as_str()).collect();
    let expected: Vec<&str> = contents.iter().map(String::as_str).collect();
    assert_eq!(read, expected);
    assert_eq!(listed, written);

    let renamed = store
        .rename_session(alice.id, s.id, "Ünïcødé 🚀 名前", clock::now())
        .await
        .expect("rename");
    assert_eq!(renamed.title, "Ünïcødé 🚀 名前");
    let updated = store
        .update_message(
            written[0].id,
            MessageUpdate {
                content: "更新された 🙂".to_owned(),
                status: MessageStatus::Complete,
                provider: Some("prövider".to_owned()),
                model: Some("模型".to_owned()),
                usage: None,
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.content, "更新された 🙂");
    let listed = store.list_messages(s.id).await.expect("list");
    assert_eq!(listed[0], updated);
    let read = store
        .get_session(alice.id, s.id)
        .await
        .expect("get")
        .expect("session");
    assert_eq!(read.title, "Ünïcødé 🚀 名前");
}

/// Stored times come back equal to the microsecond, for users, sessions and messages.
pub async fn timestamps_round_trip_with_microsecond_precision(store: &dyn Store) {
    let created = micros(1_763_771_553_123_457);
    let mut new = new_user("time@example.com", "time");
    new.created_at = created;
    let u = store.create_user(new.clone()).await.expect("create_user");
    assert_eq!(u.created_at, created);
    let read = store.get_user(new.id).await.expect("get").expect("user");
    assert_eq!(read.created_at, created);
    assert_eq!(read.updated_at, created);
    let creds = store
        .find_user_by_email("time@example.com")
        .await
        .expect("find")
        .expect("user");
    assert_eq!(creds.user.created_at, created);

    let session_created = micros(946_684_799_999_999); // 1999-12-31T23:59:59.999999Z
    let session_updated = micros(1_763_771_553_000_001);
    let s = ChatSession {
        updated_at: session_updated,
        ..session_at(u.id, "times", false, session_created)
    };
    store.create_session(s.clone()).await.expect("create");
    let read = store
        .get_session(u.id, s.id)
        .await
        .expect("get")
        .expect("session");
    assert_eq!(read.created_at, session_created);
    assert_eq!(read.updated_at, session_updated);

    let stamp = micros(1_763_771_553_000_002);
    let m = message_at(s.id, Role::User, "tick", MessageStatus::Complete, stamp);
    store.append_message(m).await.expect("append");
    let listed = store.list_messages(s.id).await.expect("list");
    assert_eq!(listed[0].timestamp, stamp);
    assert_eq!(listed[0].timestamp.timestamp_subsec_micros(), 2);
    let read = store
        .get_session(u.id, s.id)
        .await
        .expect("get")
        .expect("session");
    assert_eq!(read.updated_at, stamp);

    let renamed_at = micros(1_763_771_554_654_321);
    let renamed = store
        .rename_session(u.id, s.id, "renamed", renamed_at)
        .await
        .expect("rename");
    assert_eq!(renamed.updated_at, renamed_at);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `pub async fn` of the suite's files is listed in [`SCENARIOS`],
    /// and every listed name is such a function.
    #[test]
    fn scenarios_lists_every_scenario_function() {
        let source = [
            include_str!("conformance.rs"),
            include_str!("conformance_turns.rs"),
        ]
        .concat();
        let defined: Vec<&str> = source
            .lines()
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .filter_map(|rest| rest.split('(').next())
            .collect();
        assert_covers_all_scenarios(&defined);
        assert_eq!(defined, SCENARIOS, "SCENARIOS lists them in file order");
    }
}
