//! The messenger's domain types: people, conversations, their messages and
//! uploaded images.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{MessageStatus, Role, UnknownVariant, User};
use crate::ids::{ConversationId, ConversationMessageId, MediaId, UserId};

/// What other people see of a user: never the email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The user's id.
    pub id: UserId,
    /// The handle.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// The avatar's media key, when there is one.
    pub avatar: Option<String>,
}

impl From<&User> for Person {
    fn from(user: &User) -> Self {
        Person {
            id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            avatar: user.avatar.clone(),
        }
    }
}

/// A direct conversation (two people, at most one per pair) or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    /// Exactly two people, created without a title; there is only ever one
    /// between the same two users.
    Direct,
    /// Any other set of people (up to the member limit), with an optional title.
    Group,
}

impl ConversationKind {
    /// The wire and storage name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
        }
    }
}

impl fmt::Display for ConversationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConversationKind {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "direct" => Ok(ConversationKind::Direct),
            "group" => Ok(ConversationKind::Group),
            other => Err(UnknownVariant(other.to_owned())),
        }
    }
}

/// A conversation as one member (the viewer) sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// Direct or group.
    pub kind: ConversationKind,
    /// The title of a group, when it has one (a direct conversation never does).
    pub title: Option<String>,
    /// The current members (the viewer included), ordered by when they
    /// joined, ties by id.
    pub members: Vec<Person>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed (a message, a rename, members); lists sort by it.
    pub updated_at: DateTime<Utc>,
    /// Its latest message.
    pub last_message: Option<ConversationMessage>,
    /// The viewer's unread messages: those after `last_read_seq` that
    /// someone else (a person or the assistant) wrote.
    pub unread_count: u64,
    /// The viewer's read pointer (0: nothing read).
    pub last_read_seq: u64,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationMessage {
    /// Its id.
    pub id: ConversationMessageId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its place: 1, 2, 3, … with no gap, in the order messages were stored.
    pub seq: u64,
    /// A person (`User`) or the assistant.
    pub author: Role,
    /// The person who sent it (`None` for the assistant).
    pub sender_id: Option<UserId>,
    /// The text, exactly as sent (may be empty when there is an image).
    pub text: String,
    /// The attached image.
    pub image: Option<Media>,
    /// `Complete` for a person's message; an assistant's reply goes through
    /// the statuses of a chat reply.
    pub status: MessageStatus,
    /// The provider of an assistant's reply.
    pub provider: Option<String>,
    /// The model of an assistant's reply.
    pub model: Option<String>,
    /// The sender's idempotency key, when given.
    pub client_id: Option<String>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// An uploaded image, re-encoded by chatcore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Its id.
    pub id: MediaId,
    /// Who uploaded it (only they may attach it to a message).
    pub owner_id: UserId,
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub content_type: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the stored bytes.
    pub bytes: u64,
    /// The media key of the stored bytes (a random file name).
    pub key: String,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
}

/// A conversation to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewConversation {
    /// The id to give it.
    pub id: ConversationId,
    /// Direct or group.
    pub kind: ConversationKind,
    /// A group's title.
    pub title: Option<String>,
    /// Who creates it; the viewer of the conversation returned.
    pub creator: UserId,
    /// Every member, the creator included, without duplicates.
    pub member_ids: Vec<UserId>,
    /// Creation time (also `updated_at` and every member's join time).
    pub created_at: DateTime<Utc>,
}

impl NewConversation {
    /// The key that makes a direct conversation unique per pair of users:
    /// the two ids in ascending order. `None` for a group, or when the
    /// members are not exactly two.
    pub fn direct_key(&self) -> Option<String> {
        match (self.kind, self.member_ids.as_slice()) {
            (ConversationKind::Direct, [a, b]) => {
                let (low, high) = if a <= b { (a, b) } else { (b, a) };
                Some(format!("{low}:{high}"))
            }
            _ => None,
        }
    }
}

/// A message to store; the store gives it its `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewConversationMessage {
    /// The id to give it.
    pub id: ConversationMessageId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// A person or the assistant.
    pub author: Role,
    /// The person sending it; they must be a current member. `None` for the
    /// assistant.
    pub sender_id: Option<UserId>,
    /// The text.
    pub text: String,
    /// The attached image (already checked to be the sender's).
    pub image: Option<MediaId>,
    /// The initial status.
    pub status: MessageStatus,
    /// The provider of an assistant's reply.
    pub provider: Option<String>,
    /// The model of an assistant's reply.
    pub model: Option<String>,
    /// The sender's idempotency key.
    pub client_id: Option<String>,
    /// When it is stored; also the conversation's new `updated_at`.
    pub created_at: DateTime<Utc>,
}

/// What an append did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendedMessage {
    /// The stored message: the new one, or the one stored earlier with the
    /// same sender and `client_id`.
    pub message: ConversationMessage,
    /// False when the `client_id` was already used: nothing was stored.
    pub created: bool,
    /// The conversation's members at the time of the write (whom to tell);
    /// empty when nothing was stored.
    pub member_ids: Vec<UserId>,
}

/// Which messages of a conversation to read, in ascending `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRange {
    /// The last ones.
    Latest,
    /// The first ones after this `seq`.
    After(u64),
    /// The last ones before this `seq`.
    Before(u64),
}

/// Where a page of the conversation list starts: after this `(updated_at, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationCursor {
    /// `updated_at` of the last conversation of the previous page.
    pub updated_at: DateTime<Utc>,
    /// Its id.
    pub id: ConversationId,
}

/// A member's read pointer after [`mark_read`](super::MessengerStore::mark_read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadMark {
    /// The pointer now.
    pub last_read_seq: u64,
    /// Whether it moved forward.
    pub moved: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_key_is_the_same_from_both_sides() {
        let (a, b) = (UserId::new(), UserId::new());
        let new = |members: Vec<UserId>, kind| NewConversation {
            id: ConversationId::new(),
            kind,
            title: None,
            creator: members[0],
            member_ids: members,
            created_at: crate::clock::now(),
        };
        let ab = new(vec![a, b], ConversationKind::Direct).direct_key();
        assert!(ab.is_some());
        assert_eq!(ab, new(vec![b, a], ConversationKind::Direct).direct_key());
        assert_eq!(new(vec![a, b], ConversationKind::Group).direct_key(), None);
        let c = UserId::new();
        assert_eq!(
            new(vec![a, b, c], ConversationKind::Direct).direct_key(),
            None
        );
    }
}
