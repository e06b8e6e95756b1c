//! [`MemoryStore`]: a complete [`Store`] in process memory, for tests,
//! demos and embedding without a database. Nothing survives a restart.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    ChatMessage, ChatSession, MessageStatus, MessageUpdate, NewUser, SessionCursor, User,
    UserCredentials,
};
use crate::ids::{MessageId, SessionId, UserId};
use crate::store::{ConflictKind, Store, StoreError};

mod messenger;

#[derive(Debug, Default)]
struct Tables {
    users: HashMap<UserId, UserCredentials>,
    sessions: HashMap<SessionId, (ChatSession, bool)>,
    messages: HashMap<SessionId, Vec<ChatMessage>>,
    messenger: messenger::Tables,
}

/// A [`Store`] kept in memory behind one lock.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        match self.tables.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

fn live_session(tables: &mut Tables, user_id: UserId, id: SessionId) -> Option<&mut ChatSession> {
    match tables.sessions.get_mut(&id) {
        Some((session, false)) if session.user_id == user_id => Some(session),
        _ => None,
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        let mut tables = self.tables();
        for existing in tables.users.values() {
            if existing.user.id == user.id {
                return Err(StoreError::Conflict(ConflictKind::Id));
            }
            if existing.user.email.to_lowercase() == user.email.to_lowercase() {
                return Err(StoreError::Conflict(ConflictKind::Email));
            }
            if existing.user.username.to_lowercase() == user.username.to_lowercase() {
                return Err(StoreError::Conflict(ConflictKind::Username));
            }
        }
        let stored = User {
            id: user.id,
            email: user.email,
            username: user.username,
            display_name: user.display_name,
            avatar: None,
            created_at: user.created_at,
            updated_at: user.created_at,
        };
        tables.users.insert(
            user.id,
            UserCredentials {
                user: stored.clone(),
                password_hash: user.password_hash,
            },
        );
        Ok(stored)
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.tables().users.get(&id).map(|c| c.user.clone()))
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>, StoreError> {
        let email = email.to_lowercase();
        Ok(self
            .tables()
            .users
            .values()
            .find(|c| c.user.email.to_lowercase() == email)
            .cloned())
    }

    async fn username_exists(&self, username: &str) -> Result<bool, StoreError> {
        let username = username.to_lowercase();
        Ok(self
            .tables()
            .users
            .values()
            .any(|c| c.user.username.to_lowercase() == username))
    }

    async fn create_session(&self, session: ChatSession) -> Result<ChatSession, StoreError> {
        let mut tables = self.tables();
        if tables.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict(ConflictKind::Id));
        }
        if !tables.users.contains_key(&session.user_id) {
            return Err(StoreError::NotFound);
        }
        tables.sessions.insert(session.id, (session.clone(), false));
        Ok(session)
    }

    async fn list_sessions(
        &self,
        user_id: UserId,
        limit: u32,
        cursor: Option<SessionCursor>,
    ) -> Result<Vec<ChatSession>, StoreError> {
        let tables = self.tables();
        let mut sessions: Vec<ChatSession> = tables
            .sessions
            .values()
            .filter(|(s, deleted)| !deleted && s.user_id == user_id)
            .map(|(s, _)| s.clone())
            .filter(|s| match cursor {
                Some(c) => (s.updated_at, s.id) < (c.updated_at, c.id),
                None => true,
            })
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse((s.updated_at, s.id)));
        sessions.truncate(limit as usize);
        Ok(sessions)
    }

    async fn get_session(
        &self,
        user_id: UserId,
        id: SessionId,
    ) -> Result<Option<ChatSession>, StoreError> {
        Ok(live_session(&mut self.tables(), user_id, id).map(|s| s.clone()))
    }

    async fn rename_session(
        &self,
        user_id: UserId,
        id: SessionId,
        title: &str,
        at: DateTime<Utc>,
    ) -> Result<ChatSession, StoreError> {
        let mut tables = self.tables();
        let session = live_session(&mut tables, user_id, id).ok_or(StoreError::NotFound)?;
        session.title = title.to_owned();
        session.title_explicit = true;
        session.updated_at = session.updated_at.max(at);
        Ok(session.clone())
    }

    async fn set_derived_title(
        &self,
        id: SessionId,
        title: &str,
    ) -> Result<Option<ChatSession>, StoreError> {
        let mut tables = self.tables();
        match tables.sessions.get_mut(&id) {
            Some((session, false)) if !session.title_explicit => {
                session.title = title.to_owned();
                Ok(Some(session.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn delete_session(&self, user_id: UserId, id: SessionId) -> Result<(), StoreError> {
        let mut tables = self.tables();
        match tables.sessions.get_mut(&id) {
            Some((session, deleted)) if !*deleted && session.user_id == user_id => {
                *deleted = true;
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    async fn append_message(&self, message: ChatMessage) -> Result<ChatMessage, StoreError> {
        let mut tables = self.tables();
        let Some((session, _)) = tables.sessions.get_mut(&message.session_id) else {
            return Err(StoreError::NotFound);
        };
        session.updated_at = session.updated_at.max(message.timestamp);
        let list = tables.messages.entry(message.session_id).or_default();
        if list.iter().any(|m| m.id == message.id) {
            return Err(StoreError::Conflict(ConflictKind::Id));
        }
        list.push(message.clone());
        Ok(message)
    }

    async fn update_message(
        &self,
        id: MessageId,
        update: MessageUpdate,
    ) -> Result<ChatMessage, StoreError> {
        let mut tables = self.tables();
        let message = tables
            .messages
            .values_mut()
            .flat_map(|list| list.iter_mut())
            .find(|m| m.id == id)
            .ok_or(StoreError::NotFound)?;
        message.content = update.content;
        message.status = update.status;
        message.provider = update.provider;
        message.model = update.model;
        message.usage = update.usage;
        Ok(message.clone())
    }

    async fn list_messages(&self, session_id: SessionId) -> Result<Vec<ChatMessage>, StoreError> {
        let mut list = self
            .tables()
            .messages
            .get(&session_id)
            .cloned()
            .unwrap_or_default();
        list.sort_by_key(|m| (m.timestamp, m.id));
        Ok(list)
    }

    async fn interrupt_streaming(&self) -> Result<u64, StoreError> {
        let mut count = 0;
        for message in self.tables().messages.values_mut().flatten() {
            if message.status == MessageStatus::Streaming {
                message.status = MessageStatus::Interrupted;
                count += 1;
            }
        }
        Ok(count)
    }
}
