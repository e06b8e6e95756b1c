//! MessengerService behaviour: the rules above the store, the events every
//! member receives, limits and uploads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use chatcore::messenger::{
    AppendedMessage, Conversation, ConversationCursor, ConversationKind, ConversationMessage,
    Media, MediaStores, MessageQuery, MessageRange, NewConversation, NewConversationMessage,
    Person, ReadMark, SendMessage,
};
use chatcore::{
    AuthService, EventBus, InMemoryMedia, JwtTokens, LocalEventBus, MemoryStore, MessengerConfig,
    MessengerService, NewUser, PasswordHasher, ServiceError, Store, UserEvent, UserEventStream,
    UserId,
};
use chatcore::{ConversationId, MediaId, MessengerStore, StoreError, User};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;

struct Fixture {
    store: Arc<MemoryStore>,
    bus: Arc<LocalEventBus>,
    avatars: Arc<InMemoryMedia>,
    images: Arc<InMemoryMedia>,
    messenger: MessengerService,
}

async fn fixture_with(config: MessengerConfig) -> Fixture {
    fixture_over(config, |store| store).await
}

/// A fixture whose service reads and writes through `wrap(store)`.
async fn fixture_over(
    config: MessengerConfig,
    wrap: impl FnOnce(Arc<MemoryStore>) -> Arc<dyn MessengerStore>,
) -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let bus = Arc::new(LocalEventBus::default());
    let tokens = Arc::new(JwtTokens::new(b"a test secret of enough length!!"));
    let auth = Arc::new(AuthService::new(
        store.clone(),
        tokens,
        PasswordHasher::insecure_fast_for_tests().unwrap(),
    ));
    let avatars = Arc::new(InMemoryMedia::new());
    let images = Arc::new(InMemoryMedia::new());
    let media = MediaStores {
        avatars: avatars.clone(),
        images: images.clone(),
    };
    let messenger =
        MessengerService::with_config(wrap(store.clone()), media, bus.clone(), auth, config);
    Fixture {
        store,
        bus,
        avatars,
        images,
        messenger,
    }
}

async fn fixture() -> Fixture {
    fixture_with(MessengerConfig::default()).await
}

impl Fixture {
    async fn user(&self, name: &str) -> UserId {
        self.store
            .create_user(NewUser {
                id: UserId::new(),
                email: format!("{name}@example.com"),
                username: name.to_owned(),
                display_name: name.to_owned(),
                password_hash: "x".to_owned(),
                created_at: chatcore::clock::now(),
            })
            .await
            .unwrap()
            .id
    }

    async fn events(&self, user: UserId) -> UserEventStream {
        self.bus.subscribe(user).await
    }
}

fn text(t: &str) -> SendMessage {
    SendMessage {
        text: Some(t.to_owned()),
        ..SendMessage::default()
    }
}

async fn next(events: &mut UserEventStream) -> UserEvent {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("no event within 5 s")
        .expect("event stream ended")
}

async fn nothing(events: &mut UserEventStream) {
    let got = tokio::time::timeout(Duration::from_millis(50), events.next()).await;
    assert!(got.is_err(), "unexpected event {got:?}");
}

fn field(error: ServiceError) -> String {
    match error {
        ServiceError::Validation { fields, .. } => fields.keys().next().cloned().unwrap(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

#[tokio::test]
async fn direct_and_group_rules() {
    let f = fixture().await;
    let (a, b, c) = (f.user("ada").await, f.user("bob").await, f.user("cy").await);
    let direct = f
        .messenger
        .create_conversation(a, &[b, b, a], None)
        .await
        .unwrap();
    assert!(direct.created);
    assert_eq!(direct.conversation.kind, ConversationKind::Direct);
    let again = f
        .messenger
        .create_conversation(b, &[a], None)
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.conversation.id, direct.conversation.id);
    let titled = f
        .messenger
        .create_conversation(a, &[b], Some("  Plans  "))
        .await
        .unwrap();
    assert_eq!(titled.conversation.kind, ConversationKind::Group);
    assert_eq!(titled.conversation.title.as_deref(), Some("Plans"));
    let id = direct.conversation.id;
    assert_eq!(
        field(
            f.messenger
                .rename_conversation(a, id, "x")
                .await
                .unwrap_err()
        ),
        "title"
    );
    assert_eq!(
        field(f.messenger.add_members(a, id, &[c]).await.unwrap_err()),
        "user_ids"
    );
    assert!(matches!(
        f.messenger.leave_conversation(a, id).await,
        Err(ServiceError::Validation { .. })
    ));
    assert!(matches!(
        f.messenger.conversation(c, id).await,
        Err(ServiceError::NotFound(_))
    ));
}

#[tokio::test]
async fn member_lists_are_checked() {
    let f = fixture_with(MessengerConfig::default()).await;
    let a = f.user("ada").await;
    assert_eq!(
        field(
            f.messenger
                .create_conversation(a, &[], None)
                .await
                .unwrap_err()
        ),
        "member_ids"
    );
    assert_eq!(
        field(
            f.messenger
                .create_conversation(a, &[a], None)
                .await
                .unwrap_err()
        ),
        "member_ids"
    );
    assert_eq!(
        field(
            f.messenger
                .create_conversation(a, &[UserId::new()], None)
                .await
                .unwrap_err()
        ),
        "member_ids"
    );
    let mut hundred = Vec::new();
    for i in 0..100 {
        hundred.push(f.user(&format!("user{i}")).await);
    }
    // 100 others + the caller = 101 members.
    assert_eq!(
        field(
            f.messenger
                .create_conversation(a, &hundred, None)
                .await
                .unwrap_err()
        ),
        "member_ids"
    );
    let group = f
        .messenger
        .create_conversation(a, &hundred[..99], None)
        .await
        .unwrap();
    assert_eq!(group.conversation.members.len(), 100);
    let extra = f.user("extra").await;
    assert_eq!(
        field(
            f.messenger
                .add_members(a, group.conversation.id, &[extra])
                .await
                .unwrap_err()
        ),
        "user_ids"
    );
}

#[tokio::test]
async fn messages_reach_every_member_in_seq_order_once() {
    let f = fixture().await;
    let (a, b, c) = (f.user("ada").await, f.user("bob").await, f.user("cy").await);
    let mut a_events = f.events(a).await;
    let mut b_events = f.events(b).await;
    let mut c_events = f.events(c).await;
    let group = f
        .messenger
        .create_conversation(a, &[b], Some("two"))
        .await
        .unwrap()
        .conversation;
    for events in [&mut a_events, &mut b_events] {
        assert_eq!(
            next(events).await,
            UserEvent::ConversationUpdated {
                conversation_id: group.id
            }
        );
    }
    let mut tasks = Vec::new();
    for i in 0..20 {
        let messenger = f.messenger.clone();
        let sender = if i % 2 == 0 { a } else { b };
        let id = group.id;
        tasks.push(tokio::spawn(async move {
            messenger
                .send_message(sender, id, text(&format!("m{i}")))
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().created);
    }
    for events in [&mut a_events, &mut b_events] {
        for expected in 1..=20u64 {
            match next(events).await {
                UserEvent::ConversationMessage { message } => assert_eq!(message.seq, expected),
                other => panic!("unexpected {other:?}"),
            }
        }
        nothing(events).await;
    }
    nothing(&mut c_events).await;
}

/// The memory store with appends that return after a random delay, so
/// that concurrent appends of one conversation return out of `seq` order.
struct Jittery(Arc<MemoryStore>);

macro_rules! forward_to_memory {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        #[async_trait::async_trait]
        impl MessengerStore for Jittery {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StoreError> {
                    self.0.$name($($arg),*).await
                }
            )*
            async fn append_conversation_message(
                &self,
                message: NewConversationMessage,
            ) -> Result<AppendedMessage, StoreError> {
                let delay = u64::from(message.id.as_uuid().as_bytes()[15] % 8);
                let appended = self.0.append_conversation_message(message).await;
                tokio::time::sleep(Duration::from_millis(delay)).await;
                appended
            }
        }
    };
}

forward_to_memory! {
    set_display_name(user_id: UserId, display_name: &str, at: DateTime<Utc>) -> User;
    set_avatar(user_id: UserId, avatar: Option<&str>, at: DateTime<Utc>) -> (User, Option<String>);
    people(ids: &[UserId]) -> Vec<Person>;
    search_people(caller: UserId, folded_query: &str, limit: u32) -> Vec<Person>;
    create_media(media: Media) -> Media;
    own_media(owner: UserId, id: MediaId) -> Option<Media>;
    visible_media(viewer: UserId, id: MediaId) -> Option<Media>;
    create_conversation(new: NewConversation) -> (Conversation, bool);
    get_conversation(viewer: UserId, id: ConversationId) -> Option<Conversation>;
    list_conversations(viewer: UserId, limit: u32, cursor: Option<ConversationCursor>) -> Vec<Conversation>;
    rename_conversation(viewer: UserId, id: ConversationId, title: Option<&str>, at: DateTime<Utc>) -> Conversation;
    add_members(viewer: UserId, id: ConversationId, user_ids: &[UserId], max_members: u32, at: DateTime<Utc>) -> Conversation;
    leave_conversation(user_id: UserId, id: ConversationId, at: DateTime<Utc>) -> Vec<UserId>;
    member_ids(id: ConversationId) -> Vec<UserId>;
    list_conversation_messages(viewer: UserId, id: ConversationId, range: MessageRange, limit: u32) -> Vec<ConversationMessage>;
    mark_read(viewer: UserId, id: ConversationId, seq: u64) -> ReadMark;
}

#[tokio::test]
async fn appends_that_return_out_of_order_are_published_in_order() {
    let f = fixture_over(MessengerConfig::default(), |store| Arc::new(Jittery(store))).await;
    let mut users = Vec::new();
    for name in ["ada", "bob", "cy", "dee"] {
        users.push(f.user(name).await);
    }
    let mut events = f.events(users[0]).await;
    let group = f
        .messenger
        .create_conversation(users[0], &users[1..], Some("four"))
        .await
        .unwrap()
        .conversation;
    assert!(matches!(
        next(&mut events).await,
        UserEvent::ConversationUpdated { .. }
    ));
    const SENDS: u64 = 60;
    let mut tasks = Vec::new();
    for i in 0..SENDS {
        let messenger = f.messenger.clone();
        let sender = users[(i % 4) as usize];
        let id = group.id;
        tasks.push(tokio::spawn(async move {
            messenger
                .send_message(sender, id, text(&format!("m{i}")))
                .await
                .unwrap()
                .message
                .seq
        }));
    }
    let mut returned = Vec::new();
    for task in tasks {
        returned.push(task.await.unwrap());
    }
    let mut received = Vec::new();
    for _ in 0..SENDS {
        match next(&mut events).await {
            UserEvent::ConversationMessage { message } => received.push(message.seq),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        received,
        (1..=SENDS).collect::<Vec<_>>(),
        "published in seq order, each once"
    );
    returned.sort_unstable();
    assert_eq!(returned, received);
    nothing(&mut events).await;
}

#[tokio::test]
async fn idempotent_send_pushes_nothing_and_costs_no_limit() {
    let f = fixture_with(MessengerConfig::default().with_messages_per_minute(2)).await;
    let (a, b) = (f.user("ada").await, f.user("bob").await);
    let id = f
        .messenger
        .create_conversation(a, &[b], None)
        .await
        .unwrap()
        .conversation
        .id;
    let mut b_events = f.events(b).await;
    let send = SendMessage {
        text: Some("hi".into()),
        client_id: Some("c-1".into()),
        ..SendMessage::default()
    };
    let first = f.messenger.send_message(a, id, send.clone()).await.unwrap();
    assert!(first.created);
    assert!(matches!(
        next(&mut b_events).await,
        UserEvent::ConversationMessage { .. }
    ));
    let again = f.messenger.send_message(a, id, send.clone()).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.message, first.message);
    nothing(&mut b_events).await;
    // The repeat did not count: one more message fits, then the limit.
    f.messenger.send_message(a, id, text("two")).await.unwrap();
    match f.messenger.send_message(a, id, text("three")).await {
        Err(ServiceError::RateLimited { retry_after }) => assert!(retry_after > Duration::ZERO),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    // A rejected send (not a member) does not count either.
    let stranger = f.user("eve").await;
    assert!(matches!(
        f.messenger.send_message(stranger, id, text("x")).await,
        Err(ServiceError::NotFound(_))
    ));
}

#[tokio::test]
async fn message_input_rules() {
    let f = fixture().await;
    let (a, b) = (f.user("ada").await, f.user("bob").await);
    let id = f
        .messenger
        .create_conversation(a, &[b], None)
        .await
        .unwrap()
        .conversation
        .id;
    let send = |s: SendMessage| f.messenger.send_message(a, id, s);
    assert_eq!(
        field(send(SendMessage::default()).await.unwrap_err()),
        "text"
    );
    assert_eq!(field(send(text("   ")).await.unwrap_err()), "text");
    assert_eq!(field(send(text("a\0b")).await.unwrap_err()), "text");
    let long = SendMessage {
        client_id: Some("x".repeat(65)),
        ..text("hi")
    };
    assert_eq!(field(send(long).await.unwrap_err()), "client_id");
    // Someone else's image.
    let theirs = f.messenger.upload_image(b, png(4, 4)).await.unwrap();
    let foreign = SendMessage {
        image_id: Some(theirs.id),
        ..SendMessage::default()
    };
    assert_eq!(field(send(foreign).await.unwrap_err()), "image_id");
    let mine = f.messenger.upload_image(a, png(4, 4)).await.unwrap();
    let image_only = SendMessage {
        image_id: Some(mine.id),
        ..SendMessage::default()
    };
    let sent = send(image_only).await.unwrap().message;
    assert_eq!(sent.text, "");
    assert_eq!(sent.image.as_ref().map(|m| m.id), Some(mine.id));
    // Now b (a member) may read the image; a stranger may not.
    let (media, bytes) = f.messenger.image(b, mine.id).await.unwrap();
    assert_eq!(media.content_type, "image/png");
    assert_eq!(bytes.content_type, "image/png");
    let eve = f.user("eve").await;
    assert!(matches!(
        f.messenger.image(eve, mine.id).await,
        Err(ServiceError::NotFound(_))
    ));
    let page = |after, before, limit| {
        f.messenger.messages(
            a,
            id,
            MessageQuery {
                after,
                before,
                limit,
            },
        )
    };
    assert_eq!(
        field(page(Some(-1), None, None).await.unwrap_err()),
        "after"
    );
    assert_eq!(field(page(None, None, Some(0)).await.unwrap_err()), "limit");
    assert_eq!(
        field(page(None, None, Some(201)).await.unwrap_err()),
        "limit"
    );
    assert_eq!(
        field(page(Some(1), Some(3), None).await.unwrap_err()),
        "before"
    );
    assert_eq!(page(Some(0), None, None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn reads_are_announced_once_and_typing_is_throttled() {
    let f = fixture().await;
    let (a, b) = (f.user("ada").await, f.user("bob").await);
    let id = f
        .messenger
        .create_conversation(a, &[b], None)
        .await
        .unwrap()
        .conversation
        .id;
    f.messenger
        .send_message(a, id, text("hello"))
        .await
        .unwrap();
    let mut a_events = f.events(a).await;
    let mut b_events = f.events(b).await;
    assert_eq!(f.messenger.mark_read(b, id, 10).await.unwrap(), 1);
    let read = UserEvent::Read {
        conversation_id: id,
        user_id: b,
        seq: 1,
    };
    assert_eq!(next(&mut a_events).await, read);
    assert_eq!(next(&mut b_events).await, read);
    assert_eq!(f.messenger.mark_read(b, id, 0).await.unwrap(), 1);
    nothing(&mut a_events).await;

    assert!(f.messenger.typing(a, id).await.unwrap());
    assert_eq!(
        next(&mut b_events).await,
        UserEvent::Typing {
            conversation_id: id,
            user_id: a
        }
    );
    nothing(&mut a_events).await;
    assert!(!f.messenger.typing(a, id).await.unwrap(), "throttled");
    nothing(&mut b_events).await;
    let eve = f.user("eve").await;
    assert!(matches!(
        f.messenger.typing(eve, id).await,
        Err(ServiceError::NotFound(_))
    ));
}

#[tokio::test]
async fn avatars_replace_and_remove_their_files() {
    let f = fixture().await;
    let a = f.user("ada").await;
    let user = f.messenger.set_avatar(a, png(600, 300)).await.unwrap();
    let first = user.avatar.clone().expect("an avatar key");
    let served = f.messenger.avatar(&first).await.unwrap();
    let decoded = image::load_from_memory(&served.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 256));
    let user = f.messenger.set_avatar(a, png(50, 80)).await.unwrap();
    let second = user.avatar.clone().unwrap();
    assert_ne!(first, second);
    assert_eq!(f.avatars.len(), 1, "the replaced avatar's file is gone");
    assert!(matches!(
        f.messenger.avatar(&first).await,
        Err(ServiceError::NotFound(_))
    ));
    let user = f.messenger.remove_avatar(a).await.unwrap();
    assert_eq!(user.avatar, None);
    assert!(f.avatars.is_empty());
    for name in ["../../etc/passwd", "", "x.png", &second] {
        assert!(matches!(
            f.messenger.avatar(name).await,
            Err(ServiceError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn rejected_uploads_leave_nothing_behind() {
    let f = fixture_with(MessengerConfig::default().with_media_max_bytes(64 * 1024)).await;
    let a = f.user("ada").await;
    let html = b"<!doctype html><script>alert(1)</script>".to_vec();
    assert!(matches!(
        f.messenger.upload_image(a, html.clone()).await,
        Err(ServiceError::UnsupportedMediaType(_))
    ));
    assert!(matches!(
        f.messenger.set_avatar(a, html).await,
        Err(ServiceError::UnsupportedMediaType(_))
    ));
    let mut truncated = png(64, 64);
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(
        f.messenger.upload_image(a, truncated).await,
        Err(ServiceError::Validation { .. })
    ));
    assert!(matches!(
        f.messenger.upload_image(a, vec![0u8; 64 * 1024 + 1]).await,
        Err(ServiceError::PayloadTooLarge(_))
    ));
    assert!(matches!(
        f.messenger
            .set_avatar(a, vec![0u8; 2 * 1024 * 1024 + 1])
            .await,
        Err(ServiceError::PayloadTooLarge(_))
    ));
    assert!(f.images.is_empty() && f.avatars.is_empty());
    let stored = f.messenger.upload_image(a, png(30, 20)).await.unwrap();
    assert_eq!((stored.width, stored.height), (30, 20));
    assert_eq!(f.images.len(), 1);
}

#[tokio::test]
async fn profiles_and_search() {
    let f = fixture().await;
    let a = f.user("ada").await;
    let b = f.user("elodie").await;
    let user = f
        .messenger
        .set_display_name(b, "  Élodie M. ")
        .await
        .unwrap();
    assert_eq!(user.display_name, "Élodie M.");
    assert_eq!(
        field(f.messenger.set_display_name(b, " ").await.unwrap_err()),
        "display_name"
    );
    let found = f
        .messenger
        .search_people(a, " ÉLODIE ", None)
        .await
        .unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![b]);
    assert!(f
        .messenger
        .search_people(b, "élodie", None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        field(f.messenger.search_people(a, "  ", None).await.unwrap_err()),
        "q"
    );
    assert_eq!(
        field(
            f.messenger
                .search_people(a, "x", Some(51))
                .await
                .unwrap_err()
        ),
        "limit"
    );
    assert_eq!(
        f.messenger.person(b).await.unwrap().display_name,
        "Élodie M."
    );
    assert!(matches!(
        f.messenger.person(UserId::new()).await,
        Err(ServiceError::NotFound(_))
    ));
}
