//! Conversations and their members.

use std::collections::HashSet;

use super::domain::{Conversation, ConversationCursor, ConversationKind, NewConversation};
use super::MessengerService;
use crate::clock;
use crate::cursor;
use crate::error::ServiceError;
use crate::events::UserEvent;
use crate::ids::{ConversationId, UserId};
use crate::store::{ConflictKind, StoreError};
use crate::validate;
use crate::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// A page of the caller's conversations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationPage {
    /// The conversations, most recently updated first.
    pub conversations: Vec<Conversation>,
    /// Opaque cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// The answer to a create: the conversation, and whether it is new (a
/// direct conversation asked for again is the existing one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedConversation {
    /// The conversation as the caller sees it.
    pub conversation: Conversation,
    /// True when it was created now.
    pub created: bool,
}

impl MessengerService {
    /// Creates a conversation of the caller and `member_ids` (duplicates
    /// and the caller's own id ignored; 1..=99 others, all existing users).
    /// One other user and no title makes a direct conversation, of which
    /// there is only ever one per pair: asking again returns it. Anything
    /// else is a group. Every member is told of a new conversation.
    pub async fn create_conversation(
        &self,
        caller: UserId,
        member_ids: &[UserId],
        title: Option<&str>,
    ) -> Result<CreatedConversation, ServiceError> {
        let title = title.map(validate::title).transpose()?;
        let others = self
            .existing_others(caller, member_ids, "member_ids")
            .await?;
        let max_others = self.inner.config.max_members.saturating_sub(1) as usize;
        if others.len() > max_others {
            return Err(ServiceError::field(
                "member_ids",
                format!("at most {max_others} other members"),
            ));
        }
        let kind = if others.len() == 1 && title.is_none() {
            ConversationKind::Direct
        } else {
            ConversationKind::Group
        };
        let mut members = Vec::with_capacity(others.len() + 1);
        members.push(caller);
        members.extend(others);
        let (conversation, created) = self
            .inner
            .store
            .create_conversation(NewConversation {
                id: ConversationId::new(),
                kind,
                title,
                creator: caller,
                member_ids: members.clone(),
                created_at: clock::now(),
            })
            .await
            .map_err(|error| unknown_users(error, "member_ids"))?;
        if created {
            self.announce(conversation.id, &members).await;
        }
        Ok(CreatedConversation {
            conversation,
            created,
        })
    }

    /// A page of the caller's conversations, most recently active first.
    /// `limit` is 1..=200 (default 50); `cursor` comes from a previous page.
    pub async fn conversations(
        &self,
        caller: UserId,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<ConversationPage, ServiceError> {
        let limit = cursor::page_limit(limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let cursor = cursor
            .map(|c| cursor::decode(c, "cursor"))
            .transpose()?
            .map(|(updated_at, id)| ConversationCursor {
                updated_at,
                id: ConversationId::from(id),
            });
        let conversations = self
            .inner
            .store
            .list_conversations(caller, limit + 1, cursor)
            .await?;
        let (conversations, next_cursor) =
            cursor::split_page(conversations, limit, |c| (c.updated_at, c.id.as_uuid()));
        Ok(ConversationPage {
            conversations,
            next_cursor,
        })
    }

    /// A conversation of which the caller is a member.
    pub async fn conversation(
        &self,
        caller: UserId,
        id: ConversationId,
    ) -> Result<Conversation, ServiceError> {
        self.inner
            .store
            .get_conversation(caller, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("conversation"))
    }

    /// Renames a group (a direct conversation has no title: 422).
    pub async fn rename_conversation(
        &self,
        caller: UserId,
        id: ConversationId,
        title: &str,
    ) -> Result<Conversation, ServiceError> {
        let title = validate::title(title)?;
        self.group(caller, id, "title").await?;
        let conversation = self
            .inner
            .store
            .rename_conversation(caller, id, Some(&title), clock::now())
            .await
            .map_err(|error| not_found(error, "conversation"))?;
        let members: Vec<UserId> = conversation.members.iter().map(|m| m.id).collect();
        self.announce(id, &members).await;
        Ok(conversation)
    }

    /// Adds people to a group (existing users; at most the member limit in
    /// all). A direct conversation: 422.
    pub async fn add_members(
        &self,
        caller: UserId,
        id: ConversationId,
        user_ids: &[UserId],
    ) -> Result<Conversation, ServiceError> {
        let others = self.existing_others(caller, user_ids, "user_ids").await?;
        self.group(caller, id, "user_ids").await?;
        let max = self.inner.config.max_members;
        let conversation = self
            .inner
            .store
            .add_members(caller, id, &others, max, clock::now())
            .await
            .map_err(|error| match error {
                StoreError::Conflict(ConflictKind::MemberLimit) => {
                    ServiceError::field("user_ids", format!("at most {max} members in all"))
                }
                other => not_found(other, "conversation"),
            })?;
        let members: Vec<UserId> = conversation.members.iter().map(|m| m.id).collect();
        self.announce(id, &members).await;
        Ok(conversation)
    }

    /// The caller leaves a group; its history stays for the others, who are
    /// told. A direct conversation cannot be left: 422.
    pub async fn leave_conversation(
        &self,
        caller: UserId,
        id: ConversationId,
    ) -> Result<(), ServiceError> {
        self.group(caller, id, "conversation").await?;
        let remaining = self
            .inner
            .store
            .leave_conversation(caller, id, clock::now())
            .await
            .map_err(|error| not_found(error, "conversation"))?;
        self.announce(id, &remaining).await;
        Ok(())
    }

    /// The conversation, when it is a group of which the caller is a member.
    async fn group(
        &self,
        caller: UserId,
        id: ConversationId,
        field: &str,
    ) -> Result<Conversation, ServiceError> {
        let conversation = self.conversation(caller, id).await?;
        if conversation.kind == ConversationKind::Direct {
            return Err(ServiceError::field(
                field,
                "a direct conversation cannot be changed; create a group instead",
            ));
        }
        Ok(conversation)
    }

    /// `ids` without duplicates and without the caller, at least one, every
    /// one an existing user (else 422 on `field`).
    async fn existing_others(
        &self,
        caller: UserId,
        ids: &[UserId],
        field: &str,
    ) -> Result<Vec<UserId>, ServiceError> {
        let mut seen = HashSet::new();
        let others: Vec<UserId> = ids
            .iter()
            .copied()
            .filter(|id| *id != caller && seen.insert(*id))
            .collect();
        if others.is_empty() {
            return Err(ServiceError::field(
                field,
                "must name at least one other user",
            ));
        }
        // More than the limit is refused by the caller; don't look up an
        // unbounded list.
        if others.len() > self.inner.config.max_members as usize {
            return Err(ServiceError::field(
                field,
                format!("at most {} members", self.inner.config.max_members),
            ));
        }
        let found: HashSet<UserId> = self
            .inner
            .store
            .people(&others)
            .await?
            .into_iter()
            .map(|person| person.id)
            .collect();
        if let Some(unknown) = others.iter().find(|id| !found.contains(id)) {
            return Err(ServiceError::field(
                field,
                format!("unknown user {unknown}"),
            ));
        }
        Ok(others)
    }

    /// Tells `members` that the conversation changed.
    pub(super) async fn announce(&self, id: ConversationId, members: &[UserId]) {
        for member in members {
            self.inner
                .bus
                .publish(
                    *member,
                    UserEvent::ConversationUpdated {
                        conversation_id: id,
                    },
                )
                .await;
        }
    }
}

/// A store's `NotFound` for a user that vanished between the check and
/// the write is the caller's mistake (422), like an unknown id.
fn unknown_users(error: StoreError, field: &str) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::field(field, "names an unknown user"),
        other => other.into(),
    }
}

fn not_found(error: StoreError, what: &str) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::not_found(what),
        other => other.into(),
    }
}
