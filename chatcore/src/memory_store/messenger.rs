//! [`MessengerStore`] for [`MemoryStore`]: the messenger's tables in memory,
//! behind the same lock as the rest (so every write is atomic and one
//! conversation's `seq` is gapless by construction).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, Tables as AllTables};
use crate::domain::User;
use crate::fold::fold;
use crate::ids::{ConversationId, MediaId, UserId};
use crate::messenger::{
    AppendedMessage, Conversation, ConversationCursor, ConversationKind, ConversationMessage,
    Media, MessageRange, MessengerStore, NewConversation, NewConversationMessage, Person, ReadMark,
};
use crate::store::{ConflictKind, StoreError};

#[derive(Debug, Default)]
pub(super) struct Tables {
    conversations: HashMap<ConversationId, Row>,
    direct: HashMap<String, ConversationId>,
    media: HashMap<MediaId, Media>,
}

#[derive(Debug)]
struct Row {
    kind: ConversationKind,
    title: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    members: Vec<Member>,
    /// `messages[i].seq == i + 1`.
    messages: Vec<Stored>,
}

#[derive(Debug)]
struct Member {
    user_id: UserId,
    last_read_seq: u64,
    joined_at: DateTime<Utc>,
    left: bool,
}

#[derive(Debug)]
struct Stored {
    message: ConversationMessage,
    image: Option<MediaId>,
}

impl Row {
    fn is_member(&self, user: UserId) -> bool {
        self.members.iter().any(|m| m.user_id == user && !m.left)
    }

    fn current(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| !m.left)
    }
}

fn person(user: &User) -> Person {
    Person::from(user)
}

impl AllTables {
    fn user_mut(&mut self, id: UserId) -> Result<&mut User, StoreError> {
        self.users
            .get_mut(&id)
            .map(|c| &mut c.user)
            .ok_or(StoreError::NotFound)
    }

    fn message(&self, stored: &Stored) -> ConversationMessage {
        let mut message = stored.message.clone();
        message.image = stored
            .image
            .and_then(|id| self.messenger.media.get(&id).cloned());
        message
    }

    fn view(&self, viewer: UserId, id: ConversationId) -> Option<Conversation> {
        let row = self.messenger.conversations.get(&id)?;
        let me = row.current().find(|m| m.user_id == viewer)?;
        let mut current: Vec<&Member> = row.current().collect();
        current.sort_by_key(|m| (m.joined_at, m.user_id));
        let members = current
            .iter()
            .filter_map(|m| self.users.get(&m.user_id).map(|c| person(&c.user)))
            .collect();
        let unread_count = row
            .messages
            .iter()
            .skip(me.last_read_seq as usize)
            .filter(|s| s.message.sender_id != Some(viewer))
            .count() as u64;
        Some(Conversation {
            id,
            kind: row.kind,
            title: row.title.clone(),
            members,
            created_at: row.created_at,
            updated_at: row.updated_at,
            last_message: row.messages.last().map(|s| self.message(s)),
            unread_count,
            last_read_seq: me.last_read_seq,
        })
    }

    fn member_row(&mut self, viewer: UserId, id: ConversationId) -> Result<&mut Row, StoreError> {
        match self.messenger.conversations.get_mut(&id) {
            Some(row) if row.is_member(viewer) => Ok(row),
            _ => Err(StoreError::NotFound),
        }
    }
}

/// 0: equal, 1: starts with, 2: contains, `None`: no match.
fn rank(folded: &str, query: &str) -> Option<u8> {
    if folded == query {
        Some(0)
    } else if folded.starts_with(query) {
        Some(1)
    } else if folded.contains(query) {
        Some(2)
    } else {
        None
    }
}

#[async_trait]
impl MessengerStore for MemoryStore {
    async fn set_display_name(
        &self,
        user_id: UserId,
        display_name: &str,
        at: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let mut tables = self.tables();
        let user = tables.user_mut(user_id)?;
        user.display_name = display_name.to_owned();
        user.updated_at = at;
        Ok(user.clone())
    }

    async fn set_avatar(
        &self,
        user_id: UserId,
        avatar: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(User, Option<String>), StoreError> {
        let mut tables = self.tables();
        let user = tables.user_mut(user_id)?;
        let previous = std::mem::replace(&mut user.avatar, avatar.map(str::to_owned));
        user.updated_at = at;
        Ok((user.clone(), previous))
    }

    async fn people(&self, ids: &[UserId]) -> Result<Vec<Person>, StoreError> {
        let tables = self.tables();
        Ok(ids
            .iter()
            .filter_map(|id| tables.users.get(id).map(|c| person(&c.user)))
            .collect())
    }

    async fn search_people(
        &self,
        caller: UserId,
        folded_query: &str,
        limit: u32,
    ) -> Result<Vec<Person>, StoreError> {
        let tables = self.tables();
        let mut found: Vec<(u8, String, UserId, Person)> = tables
            .users
            .values()
            .filter(|c| c.user.id != caller)
            .filter_map(|c| {
                let name = fold(&c.user.display_name);
                let handle = fold(&c.user.username);
                let best = [rank(&name, folded_query), rank(&handle, folded_query)]
                    .into_iter()
                    .flatten()
                    .min()?;
                Some((best, name, c.user.id, person(&c.user)))
            })
            .collect();
        found.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
        Ok(found
            .into_iter()
            .take(limit as usize)
            .map(|(_, _, _, p)| p)
            .collect())
    }

    async fn create_media(&self, media: Media) -> Result<Media, StoreError> {
        let mut tables = self.tables();
        if !tables.users.contains_key(&media.owner_id) {
            return Err(StoreError::NotFound);
        }
        if tables.messenger.media.contains_key(&media.id) {
            return Err(StoreError::Conflict(ConflictKind::Id));
        }
        tables.messenger.media.insert(media.id, media.clone());
        Ok(media)
    }

    async fn own_media(&self, owner: UserId, id: MediaId) -> Result<Option<Media>, StoreError> {
        let tables = self.tables();
        Ok(tables
            .messenger
            .media
            .get(&id)
            .filter(|m| m.owner_id == owner)
            .cloned())
    }

    async fn visible_media(
        &self,
        viewer: UserId,
        id: MediaId,
    ) -> Result<Option<Media>, StoreError> {
        let tables = self.tables();
        let Some(media) = tables.messenger.media.get(&id) else {
            return Ok(None);
        };
        let shared = media.owner_id == viewer
            || tables.messenger.conversations.values().any(|row| {
                row.is_member(viewer) && row.messages.iter().any(|s| s.image == Some(id))
            });
        Ok(shared.then(|| media.clone()))
    }

    async fn create_conversation(
        &self,
        new: NewConversation,
    ) -> Result<(Conversation, bool), StoreError> {
        let mut tables = self.tables();
        let direct_key = new.direct_key();
        if let Some(existing) = direct_key
            .as_ref()
            .and_then(|key| tables.messenger.direct.get(key))
        {
            let existing = *existing;
            return tables
                .view(new.creator, existing)
                .map(|c| (c, false))
                .ok_or(StoreError::NotFound);
        }
        if new
            .member_ids
            .iter()
            .any(|id| !tables.users.contains_key(id))
        {
            return Err(StoreError::NotFound);
        }
        if tables.messenger.conversations.contains_key(&new.id) {
            return Err(StoreError::Conflict(ConflictKind::Id));
        }
        let members = new
            .member_ids
            .iter()
            .map(|user_id| Member {
                user_id: *user_id,
                last_read_seq: 0,
                joined_at: new.created_at,
                left: false,
            })
            .collect();
        tables.messenger.conversations.insert(
            new.id,
            Row {
                kind: new.kind,
                title: new.title.clone(),
                created_at: new.created_at,
                updated_at: new.created_at,
                members,
                messages: Vec::new(),
            },
        );
        if let Some(key) = direct_key {
            tables.messenger.direct.insert(key, new.id);
        }
        tables
            .view(new.creator, new.id)
            .map(|c| (c, true))
            .ok_or(StoreError::NotFound)
    }

    async fn get_conversation(
        &self,
        viewer: UserId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        Ok(self.tables().view(viewer, id))
    }

    async fn list_conversations(
        &self,
        viewer: UserId,
        limit: u32,
        cursor: Option<ConversationCursor>,
    ) -> Result<Vec<Conversation>, StoreError> {
        let tables = self.tables();
        let mut keys: Vec<(DateTime<Utc>, ConversationId)> = tables
            .messenger
            .conversations
            .iter()
            .filter(|(_, row)| row.is_member(viewer))
            .map(|(id, row)| (row.updated_at, *id))
            .filter(|key| cursor.is_none_or(|c| *key < (c.updated_at, c.id)))
            .collect();
        keys.sort_by(|a, b| b.cmp(a));
        Ok(keys
            .into_iter()
            .take(limit as usize)
            .filter_map(|(_, id)| tables.view(viewer, id))
            .collect())
    }

    async fn rename_conversation(
        &self,
        viewer: UserId,
        id: ConversationId,
        title: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Conversation, StoreError> {
        let mut tables = self.tables();
        let row = tables.member_row(viewer, id)?;
        row.title = title.map(str::to_owned);
        row.updated_at = at;
        tables.view(viewer, id).ok_or(StoreError::NotFound)
    }

    async fn add_members(
        &self,
        viewer: UserId,
        id: ConversationId,
        user_ids: &[UserId],
        max_members: u32,
        at: DateTime<Utc>,
    ) -> Result<Conversation, StoreError> {
        let mut tables = self.tables();
        if user_ids.iter().any(|u| !tables.users.contains_key(u)) {
            tables.member_row(viewer, id)?;
            return Err(StoreError::NotFound);
        }
        let row = tables.member_row(viewer, id)?;
        let joining: Vec<UserId> = user_ids
            .iter()
            .copied()
            .filter(|u| !row.is_member(*u))
            .collect();
        let mut unique = joining.clone();
        unique.sort();
        unique.dedup();
        if row.current().count() + unique.len() > max_members as usize {
            return Err(StoreError::Conflict(ConflictKind::MemberLimit));
        }
        for user_id in unique {
            match row.members.iter_mut().find(|m| m.user_id == user_id) {
                Some(member) => {
                    member.left = false;
                    member.joined_at = at;
                }
                None => row.members.push(Member {
                    user_id,
                    last_read_seq: 0,
                    joined_at: at,
                    left: false,
                }),
            }
        }
        row.updated_at = at;
        tables.view(viewer, id).ok_or(StoreError::NotFound)
    }

    async fn leave_conversation(
        &self,
        user_id: UserId,
        id: ConversationId,
        at: DateTime<Utc>,
    ) -> Result<Vec<UserId>, StoreError> {
        let mut tables = self.tables();
        let row = tables.member_row(user_id, id)?;
        for member in row.members.iter_mut().filter(|m| m.user_id == user_id) {
            member.left = true;
        }
        row.updated_at = at;
        Ok(row.current().map(|m| m.user_id).collect())
    }

    async fn member_ids(&self, id: ConversationId) -> Result<Vec<UserId>, StoreError> {
        let tables = self.tables();
        Ok(tables
            .messenger
            .conversations
            .get(&id)
            .map(|row| row.current().map(|m| m.user_id).collect())
            .unwrap_or_default())
    }

    async fn append_conversation_message(
        &self,
        new: NewConversationMessage,
    ) -> Result<AppendedMessage, StoreError> {
        let mut tables = self.tables();
        let row = match tables.messenger.conversations.get_mut(&new.conversation_id) {
            Some(row) if new.sender_id.is_none_or(|s| row.is_member(s)) => row,
            _ => return Err(StoreError::NotFound),
        };
        if let (Some(sender), Some(client_id)) = (new.sender_id, new.client_id.as_deref()) {
            if let Some(index) = row.messages.iter().position(|s| {
                s.message.sender_id == Some(sender)
                    && s.message.client_id.as_deref() == Some(client_id)
            }) {
                let message = tables
                    .message(&tables.messenger.conversations[&new.conversation_id].messages[index]);
                return Ok(AppendedMessage {
                    message,
                    created: false,
                    member_ids: Vec::new(),
                });
            }
        }
        if row.messages.iter().any(|s| s.message.id == new.id) {
            return Err(StoreError::Conflict(ConflictKind::Id));
        }
        let message = ConversationMessage {
            id: new.id,
            conversation_id: new.conversation_id,
            seq: row.messages.len() as u64 + 1,
            author: new.author,
            sender_id: new.sender_id,
            text: new.text,
            image: None,
            status: new.status,
            provider: new.provider,
            model: new.model,
            client_id: new.client_id,
            created_at: new.created_at,
        };
        row.updated_at = row.updated_at.max(new.created_at);
        let member_ids = row.current().map(|m| m.user_id).collect();
        row.messages.push(Stored {
            message,
            image: new.image,
        });
        let stored = tables.messenger.conversations[&new.conversation_id]
            .messages
            .last()
            .map(|s| tables.message(s))
            .ok_or(StoreError::NotFound)?;
        Ok(AppendedMessage {
            message: stored,
            created: true,
            member_ids,
        })
    }

    async fn list_conversation_messages(
        &self,
        viewer: UserId,
        id: ConversationId,
        range: MessageRange,
        limit: u32,
    ) -> Result<Vec<ConversationMessage>, StoreError> {
        let tables = self.tables();
        let row = match tables.messenger.conversations.get(&id) {
            Some(row) if row.is_member(viewer) => row,
            _ => return Err(StoreError::NotFound),
        };
        let total = row.messages.len();
        let limit = limit as usize;
        let (start, end) = match range {
            MessageRange::Latest => (total.saturating_sub(limit), total),
            MessageRange::After(seq) => {
                let start = (seq as usize).min(total);
                (start, (start + limit).min(total))
            }
            MessageRange::Before(seq) => {
                let end = (seq.saturating_sub(1) as usize).min(total);
                (end.saturating_sub(limit), end)
            }
        };
        Ok(row.messages[start..end]
            .iter()
            .map(|s| tables.message(s))
            .collect())
    }

    async fn mark_read(
        &self,
        viewer: UserId,
        id: ConversationId,
        seq: u64,
    ) -> Result<ReadMark, StoreError> {
        let mut tables = self.tables();
        let row = tables.member_row(viewer, id)?;
        let latest = row.messages.len() as u64;
        let member = row
            .members
            .iter_mut()
            .find(|m| m.user_id == viewer && !m.left)
            .ok_or(StoreError::NotFound)?;
        let target = seq.min(latest);
        let moved = target > member.last_read_seq;
        if moved {
            member.last_read_seq = target;
        }
        Ok(ReadMark {
            last_read_seq: member.last_read_seq,
            moved,
        })
    }
}
