//! The replies one socket follows, and the ids whose bus copies it drops
//! (the no-duplicate rule of the module docs).

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::task::Poll;

use chatcore::{ChatMessage, MessageId, ReplyEvent, ReplyStream, SessionId};
use futures_util::StreamExt;

use super::protocol::RequestId;

/// How many message ids a socket remembers to drop their bus duplicates.
const MAX_SUPPRESSED: usize = 256;

/// What a frame about a followed reply carries.
#[derive(Clone, Debug)]
pub(super) struct FollowMeta {
    pub(super) message_id: MessageId,
    pub(super) session_id: SessionId,
    pub(super) request_id: Option<RequestId>,
}

struct Follow {
    meta: FollowMeta,
    events: ReplyStream,
}

/// The replies a socket follows, polled round-robin. Each reply stream is
/// backed by chatcore's watch channel, so an unread stream costs one
/// offset and never holds the generation up.
#[derive(Default)]
pub(super) struct Follows {
    list: Vec<Follow>,
    cursor: usize,
}

impl Follows {
    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn push(&mut self, meta: FollowMeta, events: ReplyStream) {
        self.list.push(Follow { meta, events });
    }

    /// Stops following the reply that writes `message_id`, if followed.
    pub(super) fn remove(&mut self, message_id: MessageId) -> bool {
        let before = self.list.len();
        self.list.retain(|f| f.meta.message_id != message_id);
        self.list.len() != before
    }

    /// The next event of any followed reply; pending while there is none.
    /// A reply whose stream ended (after `Done` / `Error`) is dropped.
    pub(super) fn next(&mut self) -> impl Future<Output = (FollowMeta, ReplyEvent)> + '_ {
        poll_fn(move |cx| {
            let mut polled = 0;
            while polled < self.list.len() {
                let index = (self.cursor + polled) % self.list.len();
                let Some(follow) = self.list.get_mut(index) else {
                    break;
                };
                match follow.events.poll_next_unpin(cx) {
                    Poll::Ready(Some(event)) => {
                        let last =
                            matches!(event, ReplyEvent::Done { .. } | ReplyEvent::Error { .. });
                        let meta = if last {
                            self.list.swap_remove(index).meta
                        } else {
                            follow.meta.clone()
                        };
                        self.cursor = index + 1;
                        return Poll::Ready((meta, event));
                    }
                    Poll::Ready(None) => {
                        self.list.swap_remove(index);
                    }
                    Poll::Pending => polled += 1,
                }
            }
            Poll::Pending
        })
    }
}

/// Ids of messages this socket reports through the reply path; their bus
/// `message` events are dropped here (the last one, the final state, also
/// forgets the id).
#[derive(Default)]
pub(super) struct Suppressed(VecDeque<MessageId>);

impl Suppressed {
    pub(super) fn add(&mut self, id: MessageId) {
        if self.0.contains(&id) {
            return;
        }
        if self.0.len() >= MAX_SUPPRESSED {
            self.0.pop_front();
        }
        self.0.push_back(id);
    }

    /// True when the bus event about `message` must not be forwarded.
    pub(super) fn drops(&mut self, message: &ChatMessage) -> bool {
        match self.0.iter().position(|id| *id == message.id) {
            Some(position) => {
                if message.status.is_final() {
                    self.0.remove(position);
                }
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use chatcore::{MessageStatus, Role};
    use chrono::Utc;
    use tokio::time::timeout;

    fn message(status: MessageStatus) -> ChatMessage {
        ChatMessage {
            id: MessageId::new(),
            session_id: SessionId::new(),
            role: Role::Assistant,
            content: String::new(),
            status,
            provider: None,
            model: None,
            usage: None,
            timestamp: Utc::now(),
        }
    }

    fn meta(message_id: MessageId) -> FollowMeta {
        FollowMeta {
            message_id,
            session_id: SessionId::new(),
            request_id: None,
        }
    }

    fn delta(message_id: MessageId, text: &str) -> ReplyEvent {
        ReplyEvent::Delta {
            message_id,
            text: text.to_owned(),
        }
    }

    #[test]
    fn suppression_lasts_until_the_final_state() {
        let mut suppressed = Suppressed::default();
        let mut reply = message(MessageStatus::Streaming);
        let other = message(MessageStatus::Complete);
        suppressed.add(reply.id);
        suppressed.add(reply.id);
        assert!(!suppressed.drops(&other));
        assert!(suppressed.drops(&reply));
        reply.status = MessageStatus::Stopped;
        assert!(suppressed.drops(&reply));
        assert!(!suppressed.drops(&reply), "forgotten after the final state");
    }

    #[test]
    fn suppression_is_bounded() {
        let mut suppressed = Suppressed::default();
        let first = message(MessageStatus::Streaming);
        suppressed.add(first.id);
        for _ in 0..MAX_SUPPRESSED {
            suppressed.add(MessageId::new());
        }
        assert_eq!(suppressed.0.len(), MAX_SUPPRESSED);
        assert!(!suppressed.drops(&first), "the oldest id is evicted");
    }

    #[tokio::test]
    async fn follows_interleave_and_drop_finished_replies() {
        let (one, two) = (MessageId::new(), MessageId::new());
        let done = ReplyEvent::Done {
            message: message(MessageStatus::Complete),
            provider: None,
        };
        let mut follows = Follows::default();
        let first: Vec<ReplyEvent> = vec![delta(one, "a"), delta(one, "b"), done.clone()];
        follows.push(meta(one), Box::pin(futures_util::stream::iter(first)));
        let second: Vec<ReplyEvent> = vec![delta(two, "x"), done];
        follows.push(meta(two), Box::pin(futures_util::stream::iter(second)));

        let mut order = Vec::new();
        for _ in 0..5 {
            let (meta, event) = follows.next().await;
            let label = match event {
                ReplyEvent::Delta { text, .. } => text,
                _ => "done".to_owned(),
            };
            order.push((meta.message_id == one, label));
        }
        assert_eq!(follows.len(), 0);
        let of = |which: bool| -> Vec<String> {
            order
                .iter()
                .filter(|(is_one, _)| *is_one == which)
                .map(|(_, label)| label.clone())
                .collect()
        };
        assert_eq!(of(true), ["a", "b", "done"]);
        assert_eq!(of(false), ["x", "done"]);
        // Round-robin: the second reply is not starved by the first.
        assert!(order.iter().take(2).any(|(is_one, _)| !is_one), "{order:?}");
        let idle = timeout(Duration::from_millis(20), follows.next()).await;
        assert!(idle.is_err(), "no follows: pending");
    }

    #[tokio::test]
    async fn a_followed_reply_can_be_replaced() {
        let id = MessageId::new();
        let mut follows = Follows::default();
        follows.push(meta(id), Box::pin(futures_util::stream::pending()));
        assert!(follows.remove(id));
        assert!(!follows.remove(id));
        assert_eq!(follows.len(), 0);
    }
}
