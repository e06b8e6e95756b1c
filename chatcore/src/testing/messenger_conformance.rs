//! The messenger conformance suite: every behaviour of [`MessengerStore`]
//! that [`MessengerService`](crate::MessengerService) relies on, written
//! once and run against every backend.
//!
//! Like the [store suite](crate::store_conformance_tests), each scenario is
//! a `pub async fn` taking a fresh [`MessengerTestStore`], and
//! [`messenger_conformance_tests!`](crate::messenger_conformance_tests)
//! stamps one `#[tokio::test]` per scenario plus a completeness check:
//!
//! ```ignore
//! chatcore::messenger_conformance_tests!(|| async { chatcore::MemoryStore::new() });
//! ```
//!
//! The factory returns anything that implements [`IntoMessengerTestStore`]:
//! a type implementing both [`Store`] and [`MessengerStore`], a
//! [`MessengerTestStore`], or an `Option` of either (`None` skips).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::any::Any;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock;
use crate::domain::{MessageStatus, NewUser, Role, User};
use crate::fold::fold;
use crate::ids::{ConversationId, ConversationMessageId, MediaId, UserId};
use crate::messenger::{
    Conversation, ConversationKind, ConversationMessage, Media, MessengerStore, NewConversation,
    NewConversationMessage,
};
use crate::store::{ConflictKind, Store, StoreError};

/// Every scenario of the messenger suite, in the order the macro stamps them.
pub const MESSENGER_SCENARIOS: &[&str] = &[
    "profile_display_name_and_avatar",
    "people_returns_existing_users_only",
    "search_folds_unicode_and_excludes_the_caller",
    "search_ranks_exact_then_prefix_then_contains",
    "search_matches_wildcards_literally_and_honours_limit",
    "direct_conversation_is_unique_per_pair",
    "concurrent_direct_creation_gives_one_conversation",
    "group_is_created_with_its_members",
    "unknown_member_stores_nothing",
    "non_members_get_not_found_everywhere",
    "a_member_who_left_gets_not_found",
    "add_members_respects_the_limit_and_rejoins",
    "rename_moves_updated_at",
    "conversations_list_by_activity_with_cursor",
    "media_is_visible_to_its_owner_and_members_only",
    "seq_is_gapless_and_ordered",
    "concurrent_senders_get_gapless_seq",
    "client_id_makes_sends_idempotent",
    "concurrent_same_client_id_stores_one",
    "message_ranges_after_before_latest",
    "read_pointer_clamps_and_never_moves_back",
    "concurrent_reads_never_lower_the_pointer",
    "unread_counts_exclude_own_messages",
    "last_message_and_unicode_round_trip",
];

/// Stamps one `#[tokio::test]` per messenger conformance scenario.
///
/// The argument is a factory returning a future whose output implements
/// [`IntoMessengerTestStore`](crate::testing::IntoMessengerTestStore); it
/// is called once per test. The calling crate needs `tokio` with `macros`
/// and `rt-multi-thread`.
#[macro_export]
macro_rules! messenger_conformance_tests {
    ($factory:expr $(,)?) => {
        $crate::__messenger_conformance_tests!(
            $factory;
            profile_display_name_and_avatar,
            people_returns_existing_users_only,
            search_folds_unicode_and_excludes_the_caller,
            search_ranks_exact_then_prefix_then_contains,
            search_matches_wildcards_literally_and_honours_limit,
            direct_conversation_is_unique_per_pair,
            concurrent_direct_creation_gives_one_conversation,
            group_is_created_with_its_members,
            unknown_member_stores_nothing,
            non_members_get_not_found_everywhere,
            a_member_who_left_gets_not_found,
            add_members_respects_the_limit_and_rejoins,
            rename_moves_updated_at,
            conversations_list_by_activity_with_cursor,
            media_is_visible_to_its_owner_and_members_only,
            seq_is_gapless_and_ordered,
            concurrent_senders_get_gapless_seq,
            client_id_makes_sends_idempotent,
            concurrent_same_client_id_stores_one,
            message_ranges_after_before_latest,
            read_pointer_clamps_and_never_moves_back,
            concurrent_reads_never_lower_the_pointer,
            unread_counts_exclude_own_messages,
            last_message_and_unicode_round_trip,
        );
    };
}

/// Implementation detail of [`messenger_conformance_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __messenger_conformance_tests {
    ($factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let factory = $factory;
                let Some(fixture) = $crate::testing::IntoMessengerTestStore::into_messenger_test_store(
                    factory().await,
                ) else {
                    ::std::eprintln!(
                        "note: messenger conformance scenario `{}` skipped (no store)",
                        ::std::stringify!($name)
                    );
                    return;
                };
                $crate::testing::$name(&fixture).await
            }
        )*

        #[test]
        fn messenger_conformance_suite_is_complete() {
            $crate::testing::assert_covers_all_messenger_scenarios(&[$(::std::stringify!($name)),*]);
        }
    };
}

/// Panics unless `stamped` names exactly [`MESSENGER_SCENARIOS`], once each.
pub fn assert_covers_all_messenger_scenarios(stamped: &[&str]) {
    let set: HashSet<&str> = stamped.iter().copied().collect();
    assert_eq!(set.len(), stamped.len(), "a scenario is stamped twice");
    let expected: HashSet<&str> = MESSENGER_SCENARIOS.iter().copied().collect();
    assert_eq!(set, expected, "messenger conformance suite incomplete");
}

/// A messenger store under test (both of its traits) plus whatever must
/// live as long as the test.
pub struct MessengerTestStore {
    store: Arc<dyn Store>,
    messenger: Arc<dyn MessengerStore>,
    _guard: Option<Box<dyn Any + Send + Sync>>,
}

impl MessengerTestStore {
    /// Wraps a store that implements both traits.
    pub fn new<S: Store + MessengerStore>(store: S) -> Self {
        let store = Arc::new(store);
        MessengerTestStore {
            store: Arc::clone(&store) as Arc<dyn Store>,
            messenger: store,
            _guard: None,
        }
    }

    /// Keeps `guard` alive until the test ends.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self._guard = Some(Box::new(guard));
        self
    }

    /// The chat store (users).
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The messenger store.
    pub fn messenger(&self) -> &dyn MessengerStore {
        &*self.messenger
    }

    /// The messenger store, shared (for concurrent scenarios).
    pub fn shared(&self) -> Arc<dyn MessengerStore> {
        Arc::clone(&self.messenger)
    }
}

impl fmt::Debug for MessengerTestStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessengerTestStore").finish_non_exhaustive()
    }
}

/// What a messenger conformance factory may return.
pub trait IntoMessengerTestStore {
    /// The store to test, or `None` to skip.
    fn into_messenger_test_store(self) -> Option<MessengerTestStore>;
}

impl IntoMessengerTestStore for MessengerTestStore {
    fn into_messenger_test_store(self) -> Option<MessengerTestStore> {
        Some(self)
    }
}

impl<S: Store + MessengerStore> IntoMessengerTestStore for S {
    fn into_messenger_test_store(self) -> Option<MessengerTestStore> {
        Some(MessengerTestStore::new(self))
    }
}

impl<T: IntoMessengerTestStore> IntoMessengerTestStore for Option<T> {
    fn into_messenger_test_store(self) -> Option<MessengerTestStore> {
        self.and_then(IntoMessengerTestStore::into_messenger_test_store)
    }
}

// ---------------------------------------------------------------- helpers

pub(super) async fn person(s: &MessengerTestStore, username: &str, display_name: &str) -> User {
    s.store()
        .create_user(NewUser {
            id: UserId::new(),
            email: format!("{}@example.com", username.to_lowercase()),
            username: username.to_owned(),
            display_name: display_name.to_owned(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
            created_at: clock::now(),
        })
        .await
        .expect("create_user")
}

pub(super) async fn people(s: &MessengerTestStore, n: usize) -> Vec<User> {
    let mut users = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("user{i:03}x{}", &UserId::new().to_string()[..6]);
        users.push(person(s, &name, &name).await);
    }
    users
}

pub(super) fn conversation_of(
    kind: ConversationKind,
    title: Option<&str>,
    members: &[UserId],
    at: DateTime<Utc>,
) -> NewConversation {
    NewConversation {
        id: ConversationId::new(),
        kind,
        title: title.map(str::to_owned),
        creator: members[0],
        member_ids: members.to_vec(),
        created_at: at,
    }
}

pub(super) async fn group(s: &MessengerTestStore, members: &[UserId]) -> Conversation {
    let (conversation, created) = s
        .messenger()
        .create_conversation(conversation_of(
            ConversationKind::Group,
            Some("team"),
            members,
            clock::now(),
        ))
        .await
        .expect("create_conversation");
    assert!(created);
    conversation
}

pub(super) fn text_message(
    conversation_id: ConversationId,
    sender: UserId,
    text: &str,
    client_id: Option<&str>,
) -> NewConversationMessage {
    NewConversationMessage {
        id: ConversationMessageId::new(),
        conversation_id,
        author: Role::User,
        sender_id: Some(sender),
        text: text.to_owned(),
        image: None,
        status: MessageStatus::Complete,
        provider: None,
        model: None,
        client_id: client_id.map(str::to_owned),
        created_at: clock::now(),
    }
}

pub(super) async fn send(
    s: &MessengerTestStore,
    conversation_id: ConversationId,
    sender: UserId,
    text: &str,
) -> ConversationMessage {
    let appended = s
        .messenger()
        .append_conversation_message(text_message(conversation_id, sender, text, None))
        .await
        .expect("append_conversation_message");
    assert!(appended.created);
    appended.message
}

pub(super) fn image_of(owner: UserId) -> Media {
    Media {
        id: MediaId::new(),
        owner_id: owner,
        content_type: "image/png".to_owned(),
        width: 4,
        height: 3,
        bytes: 120,
        key: format!("{:032x}.png", rand::random::<u128>()),
        created_at: clock::now(),
    }
}

pub(super) fn expect_not_found<T: fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

fn ids(people: &[crate::messenger::Person]) -> Vec<UserId> {
    people.iter().map(|p| p.id).collect()
}

// -------------------------------------------------------------- scenarios

/// Display names and avatars are stored; `set_avatar` returns the key it replaced.
pub async fn profile_display_name_and_avatar(s: &MessengerTestStore) {
    let ada = person(s, "ada", "Ada").await;
    assert_eq!(ada.display_name, "Ada");
    assert_eq!(ada.avatar, None);
    let later = clock::now();
    let renamed = s
        .messenger()
        .set_display_name(ada.id, "Ada Lovelace", later)
        .await
        .unwrap();
    assert_eq!(renamed.display_name, "Ada Lovelace");
    assert_eq!(renamed.updated_at, later);
    let (user, previous) = s
        .messenger()
        .set_avatar(ada.id, Some("a.png"), clock::now())
        .await
        .unwrap();
    assert_eq!((user.avatar.as_deref(), previous), (Some("a.png"), None));
    let (user, previous) = s
        .messenger()
        .set_avatar(ada.id, Some("b.png"), clock::now())
        .await
        .unwrap();
    assert_eq!(user.avatar.as_deref(), Some("b.png"));
    assert_eq!(previous.as_deref(), Some("a.png"));
    let (user, previous) = s
        .messenger()
        .set_avatar(ada.id, None, clock::now())
        .await
        .unwrap();
    assert_eq!((user.avatar, previous.as_deref()), (None, Some("b.png")));
    let stored = s.store().get_user(ada.id).await.unwrap().unwrap();
    assert_eq!(stored.display_name, "Ada Lovelace");
    expect_not_found(
        s.messenger()
            .set_display_name(UserId::new(), "x", clock::now())
            .await,
        "set_display_name of an unknown user",
    );
    expect_not_found(
        s.messenger()
            .set_avatar(UserId::new(), None, clock::now())
            .await,
        "set_avatar of an unknown user",
    );
}

/// `people` returns the users that exist, as persons.
pub async fn people_returns_existing_users_only(s: &MessengerTestStore) {
    let ada = person(s, "ada", "Ada").await;
    let found = s
        .messenger()
        .people(&[ada.id, UserId::new()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, ada.id);
    assert_eq!(found[0].username, "ada");
    assert_eq!(found[0].display_name, "Ada");
    assert!(s.messenger().people(&[]).await.unwrap().is_empty());
}

/// Search compares folded names (all of Unicode) and never returns the caller.
pub async fn search_folds_unicode_and_excludes_the_caller(s: &MessengerTestStore) {
    let caller = person(s, "elodie_caller", "Élodie Caller").await;
    let elodie = person(s, "elodie", "élodie").await;
    let strasse = person(s, "hans", "Hans Straße").await;
    let ivan = person(s, "ivan", "Иван Петров").await;
    let search = |q: &str| {
        let q = fold(q);
        async move {
            ids(&s
                .messenger()
                .search_people(caller.id, &q, 20)
                .await
                .unwrap())
        }
    };
    assert_eq!(search("ÉLODIE").await, vec![elodie.id]);
    assert_eq!(search("STRASSE").await, vec![strasse.id]);
    assert_eq!(search("straße").await, vec![strasse.id]);
    assert_eq!(search("ПЕТРОВ").await, vec![ivan.id]);
    assert_eq!(
        search("HANS").await,
        vec![strasse.id],
        "usernames are searched"
    );
    assert!(
        search("example.com").await.is_empty(),
        "emails are not searched"
    );
    assert!(search("zzz").await.is_empty());
}

/// Exact matches first, then prefix matches, then the rest, each by display name.
pub async fn search_ranks_exact_then_prefix_then_contains(s: &MessengerTestStore) {
    let caller = person(s, "caller", "Caller").await;
    let joanna = person(s, "joanna", "Joanna").await;
    let anna = person(s, "anna_k", "Anna").await;
    let ann = person(s, "ann", "Zed").await; // exact by username
    let annabel = person(s, "bel", "annabel").await;
    let hannah = person(s, "hannah", "Hannah").await;
    person(s, "bob", "Bob").await;
    let found = s
        .messenger()
        .search_people(caller.id, &fold("Ann"), 20)
        .await
        .unwrap();
    assert_eq!(
        ids(&found),
        vec![ann.id, anna.id, annabel.id, hannah.id, joanna.id],
        "got {:?}",
        found.iter().map(|p| &p.display_name).collect::<Vec<_>>()
    );
}

/// `%` and `_` match themselves only; `limit` caps the result.
pub async fn search_matches_wildcards_literally_and_honours_limit(s: &MessengerTestStore) {
    let caller = person(s, "caller", "Caller").await;
    let percent = person(s, "percent", "100% real").await;
    let underscore = person(s, "under", "a_b").await;
    person(s, "plain", "aXb 100 real").await;
    let search = |q: &'static str, limit| async move {
        ids(&s
            .messenger()
            .search_people(caller.id, q, limit)
            .await
            .unwrap())
    };
    assert_eq!(search("%", 20).await, vec![percent.id]);
    assert_eq!(search("0% r", 20).await, vec![percent.id]);
    assert_eq!(search("a_b", 20).await, vec![underscore.id]);
    assert_eq!(search("\\", 20).await, Vec::<UserId>::new());
    let many = people(s, 7).await;
    let found = search("user", 5).await;
    assert_eq!(found.len(), 5);
    let many: HashSet<UserId> = many.iter().map(|u| u.id).collect();
    assert!(found.iter().all(|id| many.contains(id)));
}

/// Asking again for a direct conversation, from either side, returns the first.
pub async fn direct_conversation_is_unique_per_pair(s: &MessengerTestStore) {
    let ada = person(s, "ada", "Ada").await;
    let bob = person(s, "bob", "Bob").await;
    let new =
        |members: &[UserId]| conversation_of(ConversationKind::Direct, None, members, clock::now());
    let (first, created) = s
        .messenger()
        .create_conversation(new(&[ada.id, bob.id]))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(first.kind, ConversationKind::Direct);
    assert_eq!(first.title, None);
    let (again, created) = s
        .messenger()
        .create_conversation(new(&[bob.id, ada.id]))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    let members: HashSet<UserId> = again.members.iter().map(|m| m.id).collect();
    assert_eq!(members, HashSet::from([ada.id, bob.id]));
    // A group of the same two people is another conversation.
    let (group, created) = s
        .messenger()
        .create_conversation(conversation_of(
            ConversationKind::Group,
            Some("us"),
            &[ada.id, bob.id],
            clock::now(),
        ))
        .await
        .unwrap();
    assert!(created);
    assert_ne!(group.id, first.id);
}

/// Two people creating their direct conversation at the same moment get one.
pub async fn concurrent_direct_creation_gives_one_conversation(s: &MessengerTestStore) {
    let ada = person(s, "ada", "Ada").await;
    let bob = person(s, "bob", "Bob").await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = s.shared();
        let members = if i % 2 == 0 {
            [ada.id, bob.id]
        } else {
            [bob.id, ada.id]
        };
        tasks.push(tokio::spawn(async move {
            store
                .create_conversation(conversation_of(
                    ConversationKind::Direct,
                    None,
                    &members,
                    clock::now(),
                ))
                .await
        }));
    }
    let mut ids = HashSet::new();
    let mut created = 0;
    for task in tasks {
        let (conversation, new) = task.await.unwrap().expect("create_conversation");
        ids.insert(conversation.id);
        created += usize::from(new);
    }
    assert_eq!(ids.len(), 1, "more than one direct conversation");
    assert_eq!(created, 1);
    let listed = s
        .messenger()
        .list_conversations(ada.id, 10, None)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}

/// A group has its title and members in join order, nothing read, no message.
pub async fn group_is_created_with_its_members(s: &MessengerTestStore) {
    let users = people(s, 3).await;
    let member_ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let at = clock::now();
    let (conversation, created) = s
        .messenger()
        .create_conversation(conversation_of(
            ConversationKind::Group,
            Some("Trip ✈"),
            &member_ids,
            at,
        ))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(conversation.kind, ConversationKind::Group);
    assert_eq!(conversation.title.as_deref(), Some("Trip ✈"));
    assert_eq!(conversation.created_at, at);
    assert_eq!(conversation.updated_at, at);
    assert_eq!(conversation.unread_count, 0);
    assert_eq!(conversation.last_read_seq, 0);
    assert_eq!(conversation.last_message, None);
    let mut expected = member_ids.clone();
    expected.sort();
    assert_eq!(
        ids(&conversation.members),
        expected,
        "same join time: by id"
    );
    assert_eq!(conversation.members[0].display_name, {
        let first = users.iter().find(|u| u.id == expected[0]).unwrap();
        first.display_name.clone()
    });
    for user in &users {
        let seen = s
            .messenger()
            .get_conversation(user.id, conversation.id)
            .await
            .unwrap()
            .expect("every member sees it");
        assert_eq!(seen.id, conversation.id);
    }
    let mut members = s.messenger().member_ids(conversation.id).await.unwrap();
    members.sort();
    assert_eq!(members, expected);
}

/// A conversation naming a user that does not exist is not stored.
pub async fn unknown_member_stores_nothing(s: &MessengerTestStore) {
    let ada = person(s, "ada", "Ada").await;
    let new = conversation_of(
        ConversationKind::Group,
        None,
        &[ada.id, UserId::new()],
        clock::now(),
    );
    let id = new.id;
    expect_not_found(
        s.messenger().create_conversation(new).await,
        "create with an unknown member",
    );
    assert!(s
        .messenger()
        .get_conversation(ada.id, id)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .messenger()
        .list_conversations(ada.id, 10, None)
        .await
        .unwrap()
        .is_empty());
}

/// Someone who is not a member gets NotFound (or nothing) from every read and write.
pub async fn non_members_get_not_found_everywhere(s: &MessengerTestStore) {
    let users = people(s, 3).await;
    let (a, b, stranger) = (users[0].id, users[1].id, users[2].id);
    let conversation = group(s, &[a, b]).await;
    send(s, conversation.id, a, "hello").await;
    super::messenger_conformance_messages::assert_outsider(s, stranger, conversation.id).await;
    // An unknown conversation is the same.
    super::messenger_conformance_messages::assert_outsider(s, a, ConversationId::new()).await;
}

/// A member who left is an outsider from then on; the history stays for the others.
pub async fn a_member_who_left_gets_not_found(s: &MessengerTestStore) {
    let users = people(s, 3).await;
    let (a, b, c) = (users[0].id, users[1].id, users[2].id);
    let conversation = group(s, &[a, b, c]).await;
    send(s, conversation.id, c, "bye").await;
    let mut remaining = s
        .messenger()
        .leave_conversation(c, conversation.id, clock::now())
        .await
        .unwrap();
    remaining.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(remaining, expected);
    super::messenger_conformance_messages::assert_outsider(s, c, conversation.id).await;
    let seen = s
        .messenger()
        .get_conversation(a, conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.members.len(), 2);
    let history = s
        .messenger()
        .list_conversation_messages(
            a,
            conversation.id,
            crate::messenger::MessageRange::Latest,
            10,
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].sender_id, Some(c));
    expect_not_found(
        s.messenger()
            .leave_conversation(c, conversation.id, clock::now())
            .await,
        "leaving twice",
    );
}

/// Adding members stops at the limit (nothing changes), skips current
/// members, and lets someone who left come back.
pub async fn add_members_respects_the_limit_and_rejoins(s: &MessengerTestStore) {
    let users = people(s, 5).await;
    let u: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let conversation = group(s, &[u[0], u[1]]).await;
    let over = s
        .messenger()
        .add_members(u[0], conversation.id, &[u[2], u[3]], 3, clock::now())
        .await;
    match over {
        Err(StoreError::Conflict(ConflictKind::MemberLimit)) => {}
        other => panic!("expected Conflict(MemberLimit), got {other:?}"),
    }
    assert_eq!(
        s.messenger()
            .member_ids(conversation.id)
            .await
            .unwrap()
            .len(),
        2
    );
    let grown = s
        .messenger()
        .add_members(u[0], conversation.id, &[u[1], u[2]], 3, clock::now())
        .await
        .unwrap();
    assert_eq!(grown.members.len(), 3, "u1 was a member already");
    expect_not_found(
        s.messenger()
            .add_members(u[4], conversation.id, &[u[3]], 100, clock::now())
            .await,
        "adding as a non-member",
    );
    expect_not_found(
        s.messenger()
            .add_members(u[0], conversation.id, &[UserId::new()], 100, clock::now())
            .await,
        "adding an unknown user",
    );
    assert_eq!(
        s.messenger()
            .member_ids(conversation.id)
            .await
            .unwrap()
            .len(),
        3
    );
    // u2 reads, leaves and comes back with the same read pointer.
    send(s, conversation.id, u[0], "one").await;
    s.messenger()
        .mark_read(u[2], conversation.id, 1)
        .await
        .unwrap();
    s.messenger()
        .leave_conversation(u[2], conversation.id, clock::now())
        .await
        .unwrap();
    s.messenger()
        .add_members(u[0], conversation.id, &[u[2]], 100, clock::now())
        .await
        .unwrap();
    let back = s
        .messenger()
        .get_conversation(u[2], conversation.id)
        .await
        .unwrap()
        .expect("a member again");
    assert_eq!(back.last_read_seq, 1);
}

/// A rename sets the title and moves `updated_at`.
pub async fn rename_moves_updated_at(s: &MessengerTestStore) {
    let users = people(s, 2).await;
    let conversation = group(s, &[users[0].id, users[1].id]).await;
    let later = clock::now();
    let renamed = s
        .messenger()
        .rename_conversation(users[1].id, conversation.id, Some("Renamed"), later)
        .await
        .unwrap();
    assert_eq!(renamed.title.as_deref(), Some("Renamed"));
    assert_eq!(renamed.updated_at, later);
    let cleared = s
        .messenger()
        .rename_conversation(users[1].id, conversation.id, None, clock::now())
        .await
        .unwrap();
    assert_eq!(cleared.title, None);
}

/// The list is most recently active first (a message moves a conversation
/// up), ties by id descending, paged by cursor without gaps or repeats.
pub async fn conversations_list_by_activity_with_cursor(s: &MessengerTestStore) {
    let users = people(s, 2).await;
    let (a, b) = (users[0].id, users[1].id);
    let same_time = clock::now();
    let mut created = Vec::new();
    for i in 0..5 {
        let at = if i < 3 { same_time } else { clock::now() };
        let (conversation, _) = s
            .messenger()
            .create_conversation(conversation_of(
                ConversationKind::Group,
                Some(&format!("g{i}")),
                &[a, b],
                at,
            ))
            .await
            .unwrap();
        created.push(conversation);
    }
    // The oldest becomes the most recent.
    send(s, created[0].id, b, "bump").await;
    let all = s
        .messenger()
        .list_conversations(a, 100, None)
        .await
        .unwrap();
    let mut tied: Vec<ConversationId> = vec![created[1].id, created[2].id];
    tied.sort();
    tied.reverse();
    let expected = vec![
        created[0].id,
        created[4].id,
        created[3].id,
        tied[0],
        tied[1],
    ];
    assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), expected);
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = s
            .messenger()
            .list_conversations(a, 2, cursor)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        cursor = page.last().map(|c| crate::messenger::ConversationCursor {
            updated_at: c.updated_at,
            id: c.id,
        });
        paged.extend(page.into_iter().map(|c| c.id));
    }
    assert_eq!(paged, expected);
}

/// An image is visible to its uploader and to members of a conversation
/// with a message carrying it, to no one else; only the owner "owns" it.
pub async fn media_is_visible_to_its_owner_and_members_only(s: &MessengerTestStore) {
    let users = people(s, 3).await;
    let (a, b, stranger) = (users[0].id, users[1].id, users[2].id);
    let media = s.messenger().create_media(image_of(a)).await.unwrap();
    assert_eq!(
        s.messenger().own_media(a, media.id).await.unwrap(),
        Some(media.clone())
    );
    assert_eq!(s.messenger().own_media(b, media.id).await.unwrap(), None);
    assert_eq!(
        s.messenger().visible_media(a, media.id).await.unwrap(),
        Some(media.clone())
    );
    assert_eq!(
        s.messenger().visible_media(b, media.id).await.unwrap(),
        None
    );
    let conversation = group(s, &[a, b]).await;
    let mut message = text_message(conversation.id, a, "", None);
    message.image = Some(media.id);
    let stored = s
        .messenger()
        .append_conversation_message(message)
        .await
        .unwrap()
        .message;
    assert_eq!(stored.image, Some(media.clone()));
    assert_eq!(
        s.messenger().visible_media(b, media.id).await.unwrap(),
        Some(media.clone())
    );
    assert_eq!(
        s.messenger()
            .visible_media(stranger, media.id)
            .await
            .unwrap(),
        None
    );
    s.messenger()
        .leave_conversation(b, conversation.id, clock::now())
        .await
        .unwrap();
    assert_eq!(
        s.messenger().visible_media(b, media.id).await.unwrap(),
        None
    );
    assert_eq!(
        s.messenger()
            .visible_media(a, MediaId::new())
            .await
            .unwrap(),
        None
    );
    match s.messenger().create_media(media.clone()).await {
        Err(StoreError::Conflict(ConflictKind::Id)) => {}
        other => panic!("expected Conflict(Id), got {other:?}"),
    }
    expect_not_found(
        s.messenger().create_media(image_of(UserId::new())).await,
        "media of an unknown owner",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `pub async fn` of the suite's files is listed in
    /// [`MESSENGER_SCENARIOS`], and every listed name is such a function.
    #[test]
    fn messenger_scenarios_list_every_scenario_function() {
        let source = [
            include_str!("messenger_conformance.rs"),
            include_str!("messenger_conformance_messages.rs"),
        ]
        .concat();
        let defined: Vec<&str> = source
            .lines()
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .filter_map(|rest| rest.split('(').next())
            .collect();
        assert_covers_all_messenger_scenarios(&defined);
        assert_eq!(defined, MESSENGER_SCENARIOS, "listed in file order");
    }
}
