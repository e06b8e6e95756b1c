//! The messenger: people talking to people (API.md Part 2).
//!
//! [`MessengerService`] holds every rule — profiles, people search,
//! conversations and their members, messages with a gapless
//! per-conversation `seq`, read pointers and unread counts, idempotent
//! sends, typing, the per-user message limit, uploads — over three traits:
//! [`MessengerStore`] (rows), [`MediaStore`]
//! (bytes of avatars and images) and [`EventBus`] (pushes
//! to every member's sockets). Nothing here knows HTTP.
//!
//! # Delivery order
//!
//! A message is stored first (the store gives it its `seq` inside the
//! write), then published to every member with
//! [`UserEvent::ConversationMessage`](crate::UserEvent::ConversationMessage).
//! The appends of one conversation run concurrently (the store numbers
//! them one at a time inside its write, and the round trips around that
//! overlap), but they are published in ascending `seq`: a sequencer holds
//! a result back while an append that might get a lower `seq` is still in
//! flight, and releases are published under a lock per conversation
//! (striped). So every subscriber of a user receives one conversation's
//! messages in ascending `seq`. A stored message is published even when
//! the caller goes away (the append and its publishing run in a task of
//! their own). A client that lost its connection asks for the messages
//! after the last `seq` it holds and misses nothing: a message is readable
//! before any later one is.

mod conversations;
mod domain;
mod messages;
mod people;
mod sequencer;
mod store;
mod uploads;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use conversations::{ConversationPage, CreatedConversation};
pub use domain::{
    AppendedMessage, Conversation, ConversationCursor, ConversationKind, ConversationMessage,
    Media, MessageRange, NewConversation, NewConversationMessage, Person, ReadMark,
};
pub use messages::{MessageQuery, SendMessage, SentMessage};
pub use messages::{DEFAULT_MESSAGES_PAGE, MAX_MESSAGES_PAGE};
pub use people::{DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT};
pub use store::MessengerStore;
pub use uploads::StoredBytes;

use crate::auth_service::AuthService;
use crate::events::EventBus;
use crate::ids::{ConversationId, UserId};
use crate::media::MediaStore;
use crate::rate_limit::SlidingWindow;

/// Most members of a conversation, by default.
pub const DEFAULT_MAX_MEMBERS: u32 = 100;
/// Messages a user may send per minute, by default.
pub const DEFAULT_MESSAGES_PER_MINUTE: u32 = 120;
/// Largest image upload, by default (5 MiB).
pub const DEFAULT_MEDIA_MAX_BYTES: usize = 5 * 1024 * 1024;
/// Largest avatar upload (2 MiB).
pub const AVATAR_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Shortest time between two relayed typing notices of one user in one
/// conversation.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// Settings of the [`MessengerService`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessengerConfig {
    /// Messages per user per minute, all conversations together; 0 turns
    /// the limit off. Default 120.
    pub messages_per_minute: u32,
    /// Most members of a conversation. Default 100.
    pub max_members: u32,
    /// Largest image upload in bytes. Default 5 MiB.
    pub media_max_bytes: usize,
    /// Largest avatar upload in bytes. Default 2 MiB.
    pub avatar_max_bytes: usize,
    /// Shortest time between two relayed typing notices. Default 2 s.
    pub typing_interval: Duration,
}

impl Default for MessengerConfig {
    fn default() -> Self {
        MessengerConfig {
            messages_per_minute: DEFAULT_MESSAGES_PER_MINUTE,
            max_members: DEFAULT_MAX_MEMBERS,
            media_max_bytes: DEFAULT_MEDIA_MAX_BYTES,
            avatar_max_bytes: AVATAR_MAX_BYTES,
            typing_interval: TYPING_INTERVAL,
        }
    }
}

impl MessengerConfig {
    /// Sets the per-user message limit (0: off).
    pub fn with_messages_per_minute(mut self, messages: u32) -> Self {
        self.messages_per_minute = messages;
        self
    }

    /// Sets the largest image upload.
    pub fn with_media_max_bytes(mut self, bytes: usize) -> Self {
        self.media_max_bytes = bytes;
        self
    }
}

/// Where the bytes of uploads live: avatars (public by name) and images
/// (members only) are kept apart, so that knowing an image's file name
/// never makes it public.
#[derive(Clone)]
pub struct MediaStores {
    /// Avatars, served to anyone by name.
    pub avatars: Arc<dyn MediaStore>,
    /// Images attached to messages.
    pub images: Arc<dyn MediaStore>,
}

impl std::fmt::Debug for MediaStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStores").finish_non_exhaustive()
    }
}

/// The messenger's rules. Cheap to clone (shared state).
#[derive(Clone)]
pub struct MessengerService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn MessengerStore>,
    media: MediaStores,
    bus: Arc<dyn EventBus>,
    auth: Arc<AuthService>,
    config: MessengerConfig,
    sends: SlidingWindow<UserId>,
    typing: Mutex<HashMap<(UserId, ConversationId), tokio::time::Instant>>,
    sequencer: sequencer::Sequencer,
    order: Vec<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for MessengerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessengerService")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Locks that keep one conversation's publishing in order.
const ORDER_STRIPES: usize = 256;

impl MessengerService {
    /// A service over its store, the bytes of uploads, the event bus and
    /// the auth service (whose cache of users it refreshes when a profile
    /// changes), with [`MessengerConfig::default`].
    pub fn new(
        store: Arc<dyn MessengerStore>,
        media: MediaStores,
        bus: Arc<dyn EventBus>,
        auth: Arc<AuthService>,
    ) -> Self {
        Self::with_config(store, media, bus, auth, MessengerConfig::default())
    }

    /// A service with explicit settings.
    pub fn with_config(
        store: Arc<dyn MessengerStore>,
        media: MediaStores,
        bus: Arc<dyn EventBus>,
        auth: Arc<AuthService>,
        config: MessengerConfig,
    ) -> Self {
        let sends = SlidingWindow::new(config.messages_per_minute, Duration::from_secs(60));
        MessengerService {
            inner: Arc::new(Inner {
                store,
                media,
                bus,
                auth,
                sends,
                typing: Mutex::new(HashMap::new()),
                sequencer: sequencer::Sequencer::default(),
                order: (0..ORDER_STRIPES)
                    .map(|_| tokio::sync::Mutex::new(()))
                    .collect(),
                config,
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &MessengerConfig {
        &self.inner.config
    }

    /// The store (for applications that read it directly).
    pub fn store(&self) -> &Arc<dyn MessengerStore> {
        &self.inner.store
    }

    fn typing_times(
        &self,
    ) -> MutexGuard<'_, HashMap<(UserId, ConversationId), tokio::time::Instant>> {
        match self.inner.typing.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The lock under which `id`'s messages are released and published.
    fn order_lock(&self, id: ConversationId) -> &tokio::sync::Mutex<()> {
        let stripe = (id.as_uuid().as_u128() % ORDER_STRIPES as u128) as usize;
        &self.inner.order[stripe]
    }
}
