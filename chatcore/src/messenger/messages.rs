//! Messages of a conversation: sending, reading, read pointers, typing.

use super::domain::{AppendedMessage, ConversationMessage, MessageRange, NewConversationMessage};
use super::MessengerService;
use crate::clock;
use crate::cursor;
use crate::domain::{MessageStatus, Role};
use crate::error::ServiceError;
use crate::events::UserEvent;
use crate::ids::{ConversationId, ConversationMessageId, MediaId, UserId};
use crate::store::StoreError;
use crate::validate;

/// Default number of messages a read returns.
pub const DEFAULT_MESSAGES_PAGE: u32 = 50;
/// Most messages one read returns.
pub const MAX_MESSAGES_PAGE: u32 = 200;

/// What a person sends: text, an image of theirs, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendMessage {
    /// The text (content rules; may be empty with an image).
    pub text: Option<String>,
    /// An image the sender uploaded.
    pub image_id: Option<MediaId>,
    /// The sender's idempotency key (1..=64 characters).
    pub client_id: Option<String>,
}

/// The answer to a send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    /// The stored message.
    pub message: ConversationMessage,
    /// False when the `client_id` had been used already: this is the first
    /// message, nothing new was stored or pushed.
    pub created: bool,
}

/// Which messages to read (as the query of `GET …/messages`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageQuery {
    /// The first messages after this `seq`.
    pub after: Option<i64>,
    /// The last messages before this `seq`.
    pub before: Option<i64>,
    /// How many, 1..=200 (default 50).
    pub limit: Option<i64>,
}

impl MessengerService {
    /// Stores a person's message with the conversation's next `seq` and
    /// pushes it to every member's sockets (the sender's included). The
    /// same `client_id` again returns the first message and changes
    /// nothing. Over the per-user limit: `RateLimited`.
    pub async fn send_message(
        &self,
        sender: UserId,
        conversation_id: ConversationId,
        send: SendMessage,
    ) -> Result<SentMessage, ServiceError> {
        let text = send.text.unwrap_or_default();
        if text.is_empty() && send.image_id.is_none() {
            return Err(ServiceError::field(
                "text",
                "a message needs text or an image",
            ));
        }
        validate::message_text(&text, send.image_id.is_some())?;
        let client_id = send
            .client_id
            .as_deref()
            .map(validate::client_id)
            .transpose()?;
        if let Some(image_id) = send.image_id {
            if self
                .inner
                .store
                .own_media(sender, image_id)
                .await?
                .is_none()
            {
                return Err(ServiceError::field(
                    "image_id",
                    "is not an image you uploaded",
                ));
            }
        }
        if let Err(retry_after) = self.inner.sends.try_acquire(&sender) {
            return Err(ServiceError::RateLimited { retry_after });
        }
        let new = NewConversationMessage {
            id: ConversationMessageId::new(),
            conversation_id,
            author: Role::User,
            sender_id: Some(sender),
            text,
            image: send.image_id,
            status: MessageStatus::Complete,
            provider: None,
            model: None,
            client_id,
            created_at: clock::now(),
        };
        let result = self.append_and_publish(new).await;
        if !matches!(result, Ok(SentMessage { created: true, .. })) {
            // Only a stored message counts against the limit.
            self.inner.sends.release(&sender);
        }
        result
    }

    /// Stores a message and publishes it to every member, in a task of its
    /// own so that a stored message is published even when the caller goes
    /// away. Every subscriber sees one conversation's messages in ascending
    /// `seq` (the sequencer's rules).
    pub(super) async fn append_and_publish(
        &self,
        new: NewConversationMessage,
    ) -> Result<SentMessage, ServiceError> {
        let service = self.clone();
        tokio::spawn(async move { service.store_and_publish(new).await })
            .await
            .map_err(|failed| ServiceError::Internal(Box::new(failed)))?
    }

    async fn store_and_publish(
        &self,
        new: NewConversationMessage,
    ) -> Result<SentMessage, ServiceError> {
        let conversation = new.conversation_id;
        let ticket = self.inner.sequencer.start(conversation);
        let stored = self.inner.store.append_conversation_message(new).await;
        // Releasing and publishing under one lock: two releases of the
        // conversation are published in the order they were made.
        let _publishing = self.order_lock(conversation).lock().await;
        let kept = match &stored {
            Ok(appended) if appended.created => Some(appended.clone()),
            _ => None,
        };
        for released in self.inner.sequencer.finish(ticket, kept) {
            let AppendedMessage {
                message,
                member_ids,
                ..
            } = released;
            for member in member_ids {
                self.inner
                    .bus
                    .publish(
                        member,
                        UserEvent::ConversationMessage {
                            message: message.clone(),
                        },
                    )
                    .await;
            }
        }
        let appended = stored.map_err(|error| match error {
            StoreError::NotFound => ServiceError::not_found("conversation"),
            other => other.into(),
        })?;
        Ok(SentMessage {
            message: appended.message,
            created: appended.created,
        })
    }

    /// Messages of a conversation in ascending `seq`: the first `limit`
    /// after `after`, the last `limit` before `before`, or the last `limit`.
    pub async fn messages(
        &self,
        viewer: UserId,
        conversation_id: ConversationId,
        query: MessageQuery,
    ) -> Result<Vec<ConversationMessage>, ServiceError> {
        let limit = cursor::page_limit(query.limit, DEFAULT_MESSAGES_PAGE, MAX_MESSAGES_PAGE)?;
        let range = match (query.after, query.before) {
            (None, None) => MessageRange::Latest,
            (Some(after), None) => MessageRange::After(non_negative(after, "after")?),
            (None, Some(before)) => MessageRange::Before(non_negative(before, "before")?),
            (Some(_), Some(_)) => {
                return Err(ServiceError::field(
                    "before",
                    "give `after` or `before`, not both",
                ))
            }
        };
        self.inner
            .store
            .list_conversation_messages(viewer, conversation_id, range, limit)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => ServiceError::not_found("conversation"),
                other => other.into(),
            })
    }

    /// Moves the caller's read pointer to `seq` (clamped to the latest; it
    /// never moves back) and, when it moved, tells every member.
    pub async fn mark_read(
        &self,
        viewer: UserId,
        conversation_id: ConversationId,
        seq: u64,
    ) -> Result<u64, ServiceError> {
        let mark = self
            .inner
            .store
            .mark_read(viewer, conversation_id, seq)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => ServiceError::not_found("conversation"),
                other => other.into(),
            })?;
        if mark.moved {
            let members = self.inner.store.member_ids(conversation_id).await?;
            for member in members {
                self.inner
                    .bus
                    .publish(
                        member,
                        UserEvent::Read {
                            conversation_id,
                            user_id: viewer,
                            seq: mark.last_read_seq,
                        },
                    )
                    .await;
            }
        }
        Ok(mark.last_read_seq)
    }

    /// Relays "`user` is typing" to the other members, at most once per
    /// [`typing_interval`](super::MessengerConfig::typing_interval) per user
    /// and conversation (the rest are dropped). Never stored. Not a member:
    /// `NotFound`. Returns whether it was relayed.
    pub async fn typing(
        &self,
        user: UserId,
        conversation_id: ConversationId,
    ) -> Result<bool, ServiceError> {
        let now = tokio::time::Instant::now();
        let interval = self.inner.config.typing_interval;
        {
            let mut typing = self.typing_times();
            if typing
                .get(&(user, conversation_id))
                .is_some_and(|last| now.duration_since(*last) < interval)
            {
                return Ok(false);
            }
            if typing.len() >= 4096 {
                typing.retain(|_, last| now.duration_since(*last) < interval);
            }
            typing.insert((user, conversation_id), now);
        }
        // Throttled first, so a flood of notices costs no reads.
        let members = self.inner.store.member_ids(conversation_id).await?;
        if !members.contains(&user) {
            return Err(ServiceError::not_found("conversation"));
        }
        for member in members.into_iter().filter(|m| *m != user) {
            self.inner
                .bus
                .publish(
                    member,
                    UserEvent::Typing {
                        conversation_id,
                        user_id: user,
                    },
                )
                .await;
        }
        Ok(true)
    }
}

fn non_negative(value: i64, field: &str) -> Result<u64, ServiceError> {
    u64::try_from(value).map_err(|_| ServiceError::field(field, "must not be negative"))
}
