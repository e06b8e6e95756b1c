//! The messenger's storage trait, beside [`Store`](crate::Store).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::domain::{
    AppendedMessage, Conversation, ConversationCursor, ConversationMessage, Media, MessageRange,
    NewConversation, NewConversationMessage, Person, ReadMark,
};
use crate::domain::User;
use crate::ids::{ConversationId, MediaId, UserId};
use crate::store::StoreError;

/// Persistent storage of profiles, images, conversations and their messages.
///
/// It shares the users of the [`Store`](crate::Store) it sits beside (the
/// SQL stores and [`MemoryStore`](crate::MemoryStore) implement both). The
/// rules it must enforce in its own writes, because only the write can:
///
/// - **Members only.** Every read and write that takes a `viewer` (or a
///   sender) answers [`StoreError::NotFound`] (or `None`) when that user is
///   not a current member: never a member, or left.
/// - **Gapless `seq`.** [`append_conversation_message`] gives a message the
///   next `seq` of its conversation inside its own write, serialised per
///   conversation until commit (a counter on the conversation row), so the
///   messages are numbered 1, 2, 3, … with no gap and no duplicate, and a
///   message with `seq` n is readable before n + 1 is.
/// - **One direct conversation per pair**, even when both people create it
///   at the same moment (a unique key, [`NewConversation::direct_key`]).
/// - **Idempotent sends.** The same sender and `client_id` in one
///   conversation store one message, even concurrently.
/// - **Read pointers never move back**, and are clamped to the latest `seq`.
/// - **People search** compares [`fold`](crate::fold::fold)ed names, keeps
///   the folded display name and username beside the names when it writes
///   them, and uses an index rather than a scan of every user.
///
/// `chatcore::messenger_conformance_tests!` (feature `testing`) checks all
/// of it.
///
/// [`append_conversation_message`]: MessengerStore::append_conversation_message
#[async_trait]
pub trait MessengerStore: Send + Sync + 'static {
    /// Sets a user's display name (already validated) and `updated_at`.
    /// Unknown user: `NotFound`.
    async fn set_display_name(
        &self,
        user_id: UserId,
        display_name: &str,
        at: DateTime<Utc>,
    ) -> Result<User, StoreError>;

    /// Sets or clears a user's avatar key; returns the user and the key it
    /// replaced (whose file the caller deletes). Unknown user: `NotFound`.
    async fn set_avatar(
        &self,
        user_id: UserId,
        avatar: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(User, Option<String>), StoreError>;

    /// The people among `ids` that exist, in no particular order.
    async fn people(&self, ids: &[UserId]) -> Result<Vec<Person>, StoreError>;

    /// People whose folded display name or folded username contains
    /// `folded_query` (already [`fold`](crate::fold::fold)ed, not empty),
    /// `caller` excluded: first those where either equals the query, then
    /// those where either starts with it, then the rest; within each group
    /// by folded display name, then id. At most `limit`.
    async fn search_people(
        &self,
        caller: UserId,
        folded_query: &str,
        limit: u32,
    ) -> Result<Vec<Person>, StoreError>;

    /// Stores the record of an uploaded image. Duplicate id: `Conflict(Id)`;
    /// unknown owner: `NotFound`.
    async fn create_media(&self, media: Media) -> Result<Media, StoreError>;

    /// An image uploaded by `owner`.
    async fn own_media(&self, owner: UserId, id: MediaId) -> Result<Option<Media>, StoreError>;

    /// An image `viewer` may see: they uploaded it, or they are a current
    /// member of a conversation that has a message with it.
    async fn visible_media(&self, viewer: UserId, id: MediaId)
        -> Result<Option<Media>, StoreError>;

    /// Creates a conversation with its members, or, for a direct one whose
    /// pair already has one, returns that one. The conversation is as the
    /// creator sees it; the flag is true when it was created now. A member
    /// that does not exist: `NotFound`, nothing stored.
    async fn create_conversation(
        &self,
        new: NewConversation,
    ) -> Result<(Conversation, bool), StoreError>;

    /// A conversation of which `viewer` is a current member.
    async fn get_conversation(
        &self,
        viewer: UserId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError>;

    /// The conversations of which `viewer` is a current member, most
    /// recently updated first (ties by id, descending), starting after
    /// `cursor`, at most `limit`.
    async fn list_conversations(
        &self,
        viewer: UserId,
        limit: u32,
        cursor: Option<ConversationCursor>,
    ) -> Result<Vec<Conversation>, StoreError>;

    /// Sets the title (`None` clears it) and `updated_at`. Not a member:
    /// `NotFound`. The caller checks the kind.
    async fn rename_conversation(
        &self,
        viewer: UserId,
        id: ConversationId,
        title: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Conversation, StoreError>;

    /// Adds `user_ids` (existing users; current members are skipped, people
    /// who left join again with their old read pointer) and moves
    /// `updated_at`. Not a member: `NotFound`; an unknown user: `NotFound`;
    /// more than `max_members` current members afterwards:
    /// `Conflict(MemberLimit)`; in both cases nothing changes.
    async fn add_members(
        &self,
        viewer: UserId,
        id: ConversationId,
        user_ids: &[UserId],
        max_members: u32,
        at: DateTime<Utc>,
    ) -> Result<Conversation, StoreError>;

    /// `user_id` leaves the conversation (their messages stay) and
    /// `updated_at` moves; returns the members that remain. Not a member:
    /// `NotFound`.
    async fn leave_conversation(
        &self,
        user_id: UserId,
        id: ConversationId,
        at: DateTime<Utc>,
    ) -> Result<Vec<UserId>, StoreError>;

    /// The current members of a conversation (empty when it does not exist).
    async fn member_ids(&self, id: ConversationId) -> Result<Vec<UserId>, StoreError>;

    /// Stores a message with the conversation's next `seq` and moves its
    /// `updated_at`, or returns the message stored earlier with the same
    /// sender and `client_id` (then nothing is written). A sender that is
    /// not a current member, or an unknown conversation: `NotFound`.
    async fn append_conversation_message(
        &self,
        message: NewConversationMessage,
    ) -> Result<AppendedMessage, StoreError>;

    /// Messages of a conversation in ascending `seq`, at most `limit`: the
    /// last ones, the first ones after a `seq`, or the last ones before a
    /// `seq`. Not a member: `NotFound`.
    async fn list_conversation_messages(
        &self,
        viewer: UserId,
        id: ConversationId,
        range: MessageRange,
        limit: u32,
    ) -> Result<Vec<ConversationMessage>, StoreError>;

    /// Moves `viewer`'s read pointer to `seq`, clamped to the latest `seq`
    /// of the conversation; never back. Not a member: `NotFound`.
    async fn mark_read(
        &self,
        viewer: UserId,
        id: ConversationId,
        seq: u64,
    ) -> Result<ReadMark, StoreError>;
}

macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        #[async_trait]
        impl<T: MessengerStore + ?Sized> MessengerStore for Arc<T> {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StoreError> {
                    (**self).$name($($arg),*).await
                }
            )*
        }
    };
}

forward! {
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
    append_conversation_message(message: NewConversationMessage) -> AppendedMessage;
    list_conversation_messages(viewer: UserId, id: ConversationId, range: MessageRange, limit: u32) -> Vec<ConversationMessage>;
    mark_read(viewer: UserId, id: ConversationId, seq: u64) -> ReadMark;
}
