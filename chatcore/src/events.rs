//! Per-user events for multi-device sync: the [`EventBus`] trait and the
//! in-process [`LocalEventBus`].

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_core::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::domain::{ChatMessage, ChatSession};
use crate::ids::{ConversationId, SessionId, UserId};
use crate::messenger::ConversationMessage;

/// Something that changed for one user, pushed to every socket of that user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UserEvent {
    /// A message was stored or reached its final state.
    Message {
        /// The message as stored.
        message: ChatMessage,
    },
    /// A session was created, renamed or re-titled.
    SessionUpdated {
        /// The session as stored.
        session: ChatSession,
    },
    /// A session was deleted.
    SessionDeleted {
        /// Its id.
        session_id: SessionId,
    },
    /// A message was stored in a conversation the user is a member of (or
    /// reached its final state). Per conversation, a user's subscribers get
    /// these in ascending `seq`.
    ConversationMessage {
        /// The message as stored.
        message: ConversationMessage,
    },
    /// A conversation the user is a member of was created, renamed, or its
    /// members changed. It names the conversation only: how it looks
    /// (unread count, read pointer) differs per member, so a receiver reads
    /// it as that member.
    ConversationUpdated {
        /// Its id.
        conversation_id: ConversationId,
    },
    /// A member moved their read pointer.
    Read {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who read.
        user_id: UserId,
        /// Their read pointer now.
        seq: u64,
    },
    /// A member is typing (relayed, never stored).
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who types.
        user_id: UserId,
    },
}

/// Events of one user. Slow readers skip events rather than hold others up.
pub type UserEventStream = Pin<Box<dyn Stream<Item = UserEvent> + Send + 'static>>;

/// Publishes per-user events to every subscriber of that user.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Sends `event` to every current subscriber of `user_id`.
    async fn publish(&self, user_id: UserId, event: UserEvent);

    /// Receives the events of `user_id` from now on.
    async fn subscribe(&self, user_id: UserId) -> UserEventStream;
}

#[async_trait]
impl<T: EventBus + ?Sized> EventBus for Arc<T> {
    async fn publish(&self, user_id: UserId, event: UserEvent) {
        (**self).publish(user_id, event).await
    }
    async fn subscribe(&self, user_id: UserId) -> UserEventStream {
        (**self).subscribe(user_id).await
    }
}

/// In-process broadcast, one bounded channel per user with subscribers.
/// A reader that falls more than `capacity` events behind misses the oldest.
#[derive(Debug)]
pub struct LocalEventBus {
    channels: Mutex<HashMap<UserId, broadcast::Sender<UserEvent>>>,
    capacity: usize,
}

impl Default for LocalEventBus {
    fn default() -> Self {
        Self::new(256)
    }
}

impl LocalEventBus {
    /// A bus whose per-user channels hold `capacity` events.
    pub fn new(capacity: usize) -> Self {
        LocalEventBus {
            channels: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, broadcast::Sender<UserEvent>>> {
        match self.channels.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[async_trait]
impl EventBus for LocalEventBus {
    async fn publish(&self, user_id: UserId, event: UserEvent) {
        let mut channels = self.channels();
        if let Some(sender) = channels.get(&user_id) {
            if sender.send(event).is_err() {
                // Nobody listens any more: forget the channel.
                channels.remove(&user_id);
            }
        }
    }

    async fn subscribe(&self, user_id: UserId) -> UserEventStream {
        let receiver = self
            .channels()
            .entry(user_id)
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe();
        Box::pin(futures_util::stream::unfold(
            receiver,
            |mut receiver| async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) => return Some((event, receiver)),
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "event subscriber lagged; events skipped");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn events_reach_every_subscriber_of_the_user_only() {
        let bus = LocalEventBus::default();
        let alice = UserId::new();
        let bob = UserId::new();
        let mut a1 = bus.subscribe(alice).await;
        let mut a2 = bus.subscribe(alice).await;
        let mut b = bus.subscribe(bob).await;
        let event = UserEvent::SessionDeleted {
            session_id: SessionId::new(),
        };
        bus.publish(alice, event.clone()).await;
        assert_eq!(a1.next().await, Some(event.clone()));
        assert_eq!(a2.next().await, Some(event));
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(20), b.next()).await;
        assert!(nothing.is_err(), "bob received alice's event");
    }
}
