//! The storage trait every backend implements.

use std::error::Error as StdError;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    ChatMessage, ChatSession, MessageUpdate, NewUser, SessionCursor, User, UserCredentials,
};
use crate::ids::{MessageId, SessionId, UserId};

/// Which uniqueness rule a write broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictKind {
    /// The email is taken (case-insensitively).
    Email,
    /// The username is taken (case-insensitively).
    Username,
    /// An id is taken.
    Id,
    /// A conversation would have more members than allowed.
    MemberLimit,
}

/// What a [`Store`] can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken.
    #[error("conflict: {0:?} already exists")]
    Conflict(ConflictKind),
    /// The database could not be reached or failed; the source is kept for logs.
    #[error("storage backend error: {0}")]
    Backend(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

impl StoreError {
    /// Wraps any error as [`StoreError::Backend`].
    pub fn backend(error: impl StdError + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(error))
    }
}

/// Persistent storage of users, chat sessions and messages.
///
/// Implementations speak domain types only. Ownership and soft-delete rules are
/// enforced in the queries themselves: every session read or write takes the
/// owner's id and ignores deleted sessions, so a foreign or deleted session is
/// [`StoreError::NotFound`] (or `None`). Emails and usernames are unique
/// case-insensitively. Messages are returned ordered by `(timestamp, id)`.
/// `chatcore::store_conformance_tests!` (feature `testing`) checks all of it.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new user. Email or username taken: `Conflict(Email | Username)`.
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;

    /// A user by id.
    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// A user and password hash by email, compared case-insensitively.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>, StoreError>;

    /// Whether a username is taken, compared case-insensitively.
    async fn username_exists(&self, username: &str) -> Result<bool, StoreError>;

    /// Stores a new session (not deleted).
    async fn create_session(&self, session: ChatSession) -> Result<ChatSession, StoreError>;

    /// The user's sessions that are not deleted, most recently updated first
    /// (ties by id, descending), starting after `cursor`, at most `limit`.
    async fn list_sessions(
        &self,
        user_id: UserId,
        limit: u32,
        cursor: Option<SessionCursor>,
    ) -> Result<Vec<ChatSession>, StoreError>;

    /// A session owned by `user_id` and not deleted.
    async fn get_session(
        &self,
        user_id: UserId,
        id: SessionId,
    ) -> Result<Option<ChatSession>, StoreError>;

    /// Sets the title of an owned, live session and marks it explicit; returns
    /// the updated session. Foreign or deleted: `NotFound`.
    async fn rename_session(
        &self,
        user_id: UserId,
        id: SessionId,
        title: &str,
        at: DateTime<Utc>,
    ) -> Result<ChatSession, StoreError>;

    /// Sets a derived title, only when the title is not explicit. Returns the
    /// session when it changed, `None` when the title was explicit or the
    /// session is gone.
    async fn set_derived_title(
        &self,
        id: SessionId,
        title: &str,
    ) -> Result<Option<ChatSession>, StoreError>;

    /// Soft-deletes an owned session (the rows stay). Foreign or already
    /// deleted: `NotFound`.
    async fn delete_session(&self, user_id: UserId, id: SessionId) -> Result<(), StoreError>;

    /// Appends a message and moves the session's `updated_at` to the
    /// message's timestamp, atomically. Unknown session: `NotFound`.
    async fn append_message(&self, message: ChatMessage) -> Result<ChatMessage, StoreError>;

    /// Appends several messages of one session (a user message and the
    /// assistant's `streaming` placeholder that answers it) and moves the
    /// session's `updated_at` to the latest timestamp among them. Unknown
    /// session: `NotFound`.
    ///
    /// The default appends them one by one with
    /// [`append_message`](Store::append_message); the SQL stores override it
    /// to write all of them atomically (one statement on SQLite, one
    /// transaction on PostgreSQL), so that one turn costs one commit and
    /// either every message is stored or none is. Meant for the few messages
    /// of one turn.
    async fn append_messages(
        &self,
        messages: Vec<ChatMessage>,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let mut stored = Vec::with_capacity(messages.len());
        for message in messages {
            stored.push(self.append_message(message).await?);
        }
        Ok(stored)
    }

    /// Rewrites the content, status, provider, model and usage of a message.
    /// Unknown message: `NotFound`.
    async fn update_message(
        &self,
        id: MessageId,
        update: MessageUpdate,
    ) -> Result<ChatMessage, StoreError>;

    /// All messages of a session ordered by `(timestamp, id)`. The caller
    /// checks ownership first.
    async fn list_messages(&self, session_id: SessionId) -> Result<Vec<ChatMessage>, StoreError>;

    /// The last `limit` messages of a session, ordered by `(timestamp, id)`
    /// like [`list_messages`](Store::list_messages): the history a reply is
    /// generated from, read without loading a long session whole.
    ///
    /// The default reads every message and keeps the last `limit`; the SQL
    /// stores override it with a bounded query.
    async fn recent_messages(
        &self,
        session_id: SessionId,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let mut messages = self.list_messages(session_id).await?;
        let skip = messages.len().saturating_sub(limit as usize);
        messages.drain(..skip);
        Ok(messages)
    }

    /// Marks every message still `streaming` as `interrupted` (start-up
    /// recovery after a crash); returns how many changed.
    async fn interrupt_streaming(&self) -> Result<u64, StoreError>;
}

#[async_trait]
impl<T: Store + ?Sized> Store for Arc<T> {
    async fn ping(&self) -> Result<(), StoreError> {
        (**self).ping().await
    }
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        (**self).create_user(user).await
    }
    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        (**self).get_user(id).await
    }
    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>, StoreError> {
        (**self).find_user_by_email(email).await
    }
    async fn username_exists(&self, username: &str) -> Result<bool, StoreError> {
        (**self).username_exists(username).await
    }
    async fn create_session(&self, session: ChatSession) -> Result<ChatSession, StoreError> {
        (**self).create_session(session).await
    }
    async fn list_sessions(
        &self,
        user_id: UserId,
        limit: u32,
        cursor: Option<SessionCursor>,
    ) -> Result<Vec<ChatSession>, StoreError> {
        (**self).list_sessions(user_id, limit, cursor).await
    }
    async fn get_session(
        &self,
        user_id: UserId,
        id: SessionId,
    ) -> Result<Option<ChatSession>, StoreError> {
        (**self).get_session(user_id, id).await
    }
    async fn rename_session(
        &self,
        user_id: UserId,
        id: SessionId,
        title: &str,
        at: DateTime<Utc>,
    ) -> Result<ChatSession, StoreError> {
        (**self).rename_session(user_id, id, title, at).await
    }
    async fn set_derived_title(
        &self,
        id: SessionId,
        title: &str,
    ) -> Result<Option<ChatSession>, StoreError> {
        (**self).set_derived_title(id, title).await
    }
    async fn delete_session(&self, user_id: UserId, id: SessionId) -> Result<(), StoreError> {
        (**self).delete_session(user_id, id).await
    }
    async fn append_message(&self, message: ChatMessage) -> Result<ChatMessage, StoreError> {
        (**self).append_message(message).await
    }
    async fn update_message(
        &self,
        id: MessageId,
        update: MessageUpdate,
    ) -> Result<ChatMessage, StoreError> {
        (**self).update_message(id, update).await
    }
    async fn list_messages(&self, session_id: SessionId) -> Result<Vec<ChatMessage>, StoreError> {
        (**self).list_messages(session_id).await
    }
    async fn append_messages(
        &self,
        messages: Vec<ChatMessage>,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        (**self).append_messages(messages).await
    }
    async fn recent_messages(
        &self,
        session_id: SessionId,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        (**self).recent_messages(session_id, limit).await
    }
    async fn interrupt_streaming(&self) -> Result<u64, StoreError> {
        (**self).interrupt_streaming().await
    }
}
