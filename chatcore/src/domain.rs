//! Domain types: users, chat sessions and chat messages.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{MessageId, SessionId, UserId};

/// A user account as the rest of the system sees it (no password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// Normalised (trimmed, lower-cased) email address, unique.
    pub email: String,
    /// The handle, unique case-insensitively.
    pub username: String,
    /// The name shown to other people (the messenger); the username unless
    /// the user chose one.
    pub display_name: String,
    /// The avatar's media key (its file name under the upload directory),
    /// when the user has one.
    pub avatar: Option<String>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}

/// A user together with the stored argon2id PHC string, for login.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCredentials {
    /// The user.
    pub user: User,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("user", &self.user)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// A chat session (one conversation) of one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSession {
    /// The session's id.
    pub id: SessionId,
    /// The owner.
    pub user_id: UserId,
    /// The title shown in the sidebar.
    pub title: String,
    /// True when the title was given by the user (at creation or by renaming);
    /// a derived title never replaces an explicit one.
    pub title_explicit: bool,
    /// When the session was created.
    pub created_at: DateTime<Utc>,
    /// When the session last changed (a message, a rename); lists sort by it.
    pub updated_at: DateTime<Utc>,
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The human.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The wire and storage name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "assistant" => Ok(Role::Assistant),
            other => Err(UnknownVariant(other.to_owned())),
        }
    }
}

/// Where a message is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Finished normally (every user message is complete).
    Complete,
    /// A reply that is still being generated; its content is the text so far.
    Streaming,
    /// The user stopped the reply; the content is what had arrived.
    Stopped,
    /// The server stopped while the reply was running (set at start-up or shutdown).
    Interrupted,
    /// The provider failed; the content is what had arrived (possibly empty).
    Error,
}

impl MessageStatus {
    /// The wire and storage name.
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Streaming => "streaming",
            MessageStatus::Stopped => "stopped",
            MessageStatus::Interrupted => "interrupted",
            MessageStatus::Error => "error",
        }
    }

    /// True for every status but `streaming`.
    pub fn is_final(&self) -> bool {
        !matches!(self, MessageStatus::Streaming)
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MessageStatus {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "complete" => Ok(MessageStatus::Complete),
            "streaming" => Ok(MessageStatus::Streaming),
            "stopped" => Ok(MessageStatus::Stopped),
            "interrupted" => Ok(MessageStatus::Interrupted),
            "error" => Ok(MessageStatus::Error),
            other => Err(UnknownVariant(other.to_owned())),
        }
    }
}

/// A stored string that names no known variant (a corrupt or newer row).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown variant `{0}`")]
pub struct UnknownVariant(pub String);

/// Token counts reported by a provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompt (history and instructions).
    pub prompt_tokens: u32,
    /// Tokens of the reply.
    pub completion_tokens: u32,
}

/// One message of a chat session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The message's id (UUID v7; breaks timestamp ties).
    pub id: MessageId,
    /// The session it belongs to.
    pub session_id: SessionId,
    /// Who wrote it.
    pub role: Role,
    /// The text, exactly as sent or generated so far.
    pub content: String,
    /// Its status; user messages are always `complete`.
    pub status: MessageStatus,
    /// The provider that answered (assistant messages).
    pub provider: Option<String>,
    /// The model that answered (assistant messages).
    pub model: Option<String>,
    /// Token usage, when the provider reported it.
    pub usage: Option<Usage>,
    /// When it was written; messages sort by `(timestamp, id)`.
    pub timestamp: DateTime<Utc>,
}

/// The changes written to an existing message: streaming flushes and the final state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageUpdate {
    /// The full text so far (replaces the stored text).
    pub content: String,
    /// The new status.
    pub status: MessageStatus,
    /// The provider that answered, if known.
    pub provider: Option<String>,
    /// The model that answered, if known.
    pub model: Option<String>,
    /// Token usage, if known.
    pub usage: Option<Usage>,
}

/// A new account to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The id to give it.
    pub id: UserId,
    /// Normalised email.
    pub email: String,
    /// Username.
    pub username: String,
    /// Display name (already validated; the username when none was given).
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Creation time (also the first `updated_at`).
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// Where a page of the session list starts: after this `(updated_at, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCursor {
    /// `updated_at` of the last session of the previous page.
    pub updated_at: DateTime<Utc>,
    /// Id of the last session of the previous page.
    pub id: SessionId,
}
