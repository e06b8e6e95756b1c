//! The answers a socket owes to its own `conversation_send` frames, and
//! how they keep one conversation's `conversation_message` frames in
//! ascending `seq`, each once (the ordering rule of the module docs).
//!
//! chatcore publishes a conversation's messages on the bus in `seq` order,
//! and `send_message` returns only after its message was published. So
//! the socket does not answer a send with the returned message (which could
//! overtake earlier messages still queued on its bus); it records
//! message id → `request_id` here, and attaches the `request_id` when the
//! bus copy comes by, in order. Only if that copy has not come within the
//! wait (a bus that dropped events for a slow reader) is the answer sent
//! directly, and the late copy, should it still come, is then dropped.

use std::collections::VecDeque;

use chatcore::messenger::ConversationMessage;
use chatcore::ConversationMessageId;
use tokio::time::Instant;

use super::protocol::RequestId;

/// Most answers a socket waits for at once; beyond, the oldest is answered
/// directly.
const MAX_PENDING: usize = 256;
/// How many directly answered ids a socket remembers to drop their late
/// bus copies.
const MAX_ANSWERED: usize = 256;

/// An answer not given yet.
#[derive(Debug)]
pub(super) struct Pending {
    /// The `request_id` of the `conversation_send`.
    pub(super) request_id: RequestId,
    /// The stored message (for a direct answer).
    pub(super) message: ConversationMessage,
    deadline: Instant,
}

/// What to do with a `conversation_message` event from the bus.
#[derive(Debug, PartialEq)]
pub(super) enum BusCopy {
    /// It answers a send of this socket: send it with this `request_id`.
    Answers(RequestId),
    /// It was answered directly already: drop it.
    Drop,
    /// Someone else's message (or a send without `request_id`): send it plain.
    Plain,
}

/// The sends of one socket waiting for their bus copy.
#[derive(Debug, Default)]
pub(super) struct OwnSends {
    /// In the order they were sent (so by deadline).
    pending: VecDeque<Pending>,
    answered: VecDeque<ConversationMessageId>,
}

impl OwnSends {
    /// Waits for the bus copy of `message` until `deadline`. Returns an
    /// older send to answer directly now when too many are waiting.
    pub(super) fn expect(
        &mut self,
        message: ConversationMessage,
        request_id: RequestId,
        deadline: Instant,
    ) -> Option<Pending> {
        let evicted = if self.pending.len() >= MAX_PENDING {
            self.pending
                .pop_front()
                .inspect(|p| self.remember(p.message.id))
        } else {
            None
        };
        self.pending.push_back(Pending {
            request_id,
            message,
            deadline,
        });
        evicted
    }

    /// When the oldest wait ends.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.pending.front().map(|p| p.deadline)
    }

    /// The sends whose wait ended by `now`, to answer directly (their bus
    /// copies will be dropped).
    pub(super) fn expired(&mut self, now: Instant) -> Vec<Pending> {
        let mut out = Vec::new();
        while self.pending.front().is_some_and(|p| p.deadline <= now) {
            if let Some(pending) = self.pending.pop_front() {
                self.remember(pending.message.id);
                out.push(pending);
            }
        }
        out
    }

    /// Decides about the bus copy of message `id`.
    pub(super) fn on_bus(&mut self, id: ConversationMessageId) -> BusCopy {
        if let Some(index) = self.pending.iter().position(|p| p.message.id == id) {
            if let Some(pending) = self.pending.remove(index) {
                return BusCopy::Answers(pending.request_id);
            }
        }
        if let Some(index) = self.answered.iter().position(|a| *a == id) {
            self.answered.remove(index);
            return BusCopy::Drop;
        }
        BusCopy::Plain
    }

    fn remember(&mut self, id: ConversationMessageId) {
        if self.answered.len() >= MAX_ANSWERED {
            self.answered.pop_front();
        }
        self.answered.push_back(id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chatcore::{ConversationId, MessageStatus, Role, UserId};
    use chrono::Utc;

    use super::*;

    fn message(seq: u64) -> ConversationMessage {
        ConversationMessage {
            id: ConversationMessageId::new(),
            conversation_id: ConversationId::new(),
            seq,
            author: Role::User,
            sender_id: Some(UserId::new()),
            text: "hi".to_owned(),
            image: None,
            status: MessageStatus::Complete,
            provider: None,
            model: None,
            client_id: None,
            created_at: Utc::now(),
        }
    }

    fn id(text: &str) -> RequestId {
        RequestId::Text(text.to_owned())
    }

    #[test]
    fn the_bus_copy_carries_the_request_id_once() {
        let mut sends = OwnSends::default();
        let mine = message(2);
        let later = Instant::now() + Duration::from_secs(3);
        assert!(sends.expect(mine.clone(), id("r1"), later).is_none());
        assert_eq!(sends.on_bus(message(1).id), BusCopy::Plain);
        assert_eq!(sends.on_bus(mine.id), BusCopy::Answers(id("r1")));
        assert_eq!(sends.on_bus(mine.id), BusCopy::Plain);
        assert_eq!(sends.next_deadline(), None);
    }

    #[test]
    fn a_late_copy_is_answered_directly_and_then_dropped() {
        let mut sends = OwnSends::default();
        let now = Instant::now();
        let (first, second) = (message(1), message(2));
        sends.expect(first.clone(), id("a"), now + Duration::from_secs(1));
        sends.expect(second.clone(), id("b"), now + Duration::from_secs(2));
        assert_eq!(sends.next_deadline(), Some(now + Duration::from_secs(1)));
        let expired = sends.expired(now + Duration::from_millis(1500));
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].message.id, first.id);
        assert_eq!(expired[0].request_id, id("a"));
        assert_eq!(sends.on_bus(first.id), BusCopy::Drop);
        assert_eq!(sends.on_bus(first.id), BusCopy::Plain);
        assert_eq!(sends.on_bus(second.id), BusCopy::Answers(id("b")));
    }

    #[test]
    fn waiting_is_bounded() {
        let mut sends = OwnSends::default();
        let later = Instant::now() + Duration::from_secs(3);
        let oldest = message(1);
        sends.expect(oldest.clone(), id("0"), later);
        for seq in 2..=MAX_PENDING as u64 {
            assert!(sends.expect(message(seq), id("n"), later).is_none());
        }
        let evicted = sends.expect(message(999), id("last"), later);
        assert_eq!(evicted.map(|p| p.message.id), Some(oldest.id));
        assert_eq!(sends.on_bus(oldest.id), BusCopy::Drop);
    }
}
