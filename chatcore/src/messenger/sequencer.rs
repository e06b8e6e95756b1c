//! One conversation's messages published in ascending `seq` while their
//! appends run concurrently.
//!
//! The store numbers a conversation's messages one at a time (message n is
//! committed before n + 1 is numbered), but the round trips around that
//! short step can overlap, so appends are not serialised here. What must
//! stay in order is publishing. Each append takes a ticket when it starts;
//! when it returns with `seq` s it waits in `pending` until either
//!
//! - s follows the last `seq` released (nothing can come between), or
//! - every append that had started by the time s returned has finished:
//!   an append that starts after s was committed gets a higher `seq`, so
//!   every lower `seq` this process will produce is then known.
//!
//! A result is released with every pending one below it, in ascending
//! order. The second rule also bounds the wait when a `seq` is missing
//! (written by another process, or by an append that failed). An idle lane
//! (nothing in flight or waiting) keeps only its last released `seq`, so
//! the first rule applies from the next message on; idle lanes are dropped
//! when there are more than [`MAX_LANES`] lanes (a dropped lane's next
//! release waits by the second rule once, then the first applies again).
//! Without the last `seq`, a steady queue of appends would only be
//! released when the queue runs dry. The caller publishes what [`Sequencer::finish`] releases under one lock per
//! conversation, so releases of one conversation are published in the
//! order they were made.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::domain::AppendedMessage;
use crate::ids::ConversationId;

/// How many lanes are kept before the idle ones are dropped.
pub(super) const MAX_LANES: usize = 4096;

/// The appends in flight and the results waiting, per conversation.
#[derive(Debug, Default)]
pub(super) struct Sequencer {
    lanes: Mutex<HashMap<ConversationId, Lane>>,
}

#[derive(Debug, Default)]
struct Lane {
    next_ticket: u64,
    running: BTreeSet<u64>,
    /// By `seq`: the result and the last ticket that had started when it
    /// returned.
    pending: BTreeMap<u64, (u64, AppendedMessage)>,
    last_released: Option<u64>,
}

/// An append in flight. Dropping it unfinished (a panicked append) counts
/// it as finished without a result; what that lets go is released by the
/// next [`Sequencer::finish`] of the conversation.
#[derive(Debug)]
pub(super) struct Ticket<'a> {
    sequencer: &'a Sequencer,
    conversation: ConversationId,
    number: u64,
    finished: bool,
}

impl Sequencer {
    fn lanes(&self) -> MutexGuard<'_, HashMap<ConversationId, Lane>> {
        match self.lanes.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// An append to `conversation` starts.
    pub(super) fn start(&self, conversation: ConversationId) -> Ticket<'_> {
        let mut lanes = self.lanes();
        if lanes.len() > MAX_LANES {
            lanes.retain(|_, lane| !lane.idle());
        }
        let lane = lanes.entry(conversation).or_default();
        let number = lane.next_ticket;
        lane.next_ticket += 1;
        lane.running.insert(number);
        Ticket {
            sequencer: self,
            conversation,
            number,
            finished: false,
        }
    }

    /// The append of `ticket` returned `stored` (`None`: nothing to
    /// publish); the results to publish now, in ascending `seq`.
    pub(super) fn finish(
        &self,
        mut ticket: Ticket<'_>,
        stored: Option<AppendedMessage>,
    ) -> Vec<AppendedMessage> {
        ticket.finished = true;
        let mut lanes = self.lanes();
        let Some(lane) = lanes.get_mut(&ticket.conversation) else {
            return Vec::new();
        };
        lane.running.remove(&ticket.number);
        if let Some(appended) = stored {
            let started = lane.next_ticket - 1;
            lane.pending
                .insert(appended.message.seq, (started, appended));
        }
        lane.release()
    }
}

impl Lane {
    fn idle(&self) -> bool {
        self.running.is_empty() && self.pending.is_empty()
    }

    fn release(&mut self) -> Vec<AppendedMessage> {
        let oldest_running = self.running.first().copied();
        // The highest seq whose wait is over by the second rule.
        let known = self
            .pending
            .iter()
            .rev()
            .find(|(_, (started, _))| oldest_running.is_none_or(|oldest| *started < oldest))
            .map(|(seq, _)| *seq);
        let mut released = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            let seq = *entry.key();
            let next = self.last_released.is_some_and(|last| seq == last + 1);
            if !next && known.is_none_or(|known| seq > known) {
                break;
            }
            released.push(entry.remove().1);
            self.last_released = Some(seq);
        }
        released
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let mut lanes = self.sequencer.lanes();
            if let Some(lane) = lanes.get_mut(&self.conversation) {
                lane.running.remove(&self.number);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MessageStatus, Role};
    use crate::ids::{ConversationMessageId, UserId};
    use crate::messenger::ConversationMessage;

    fn appended(conversation: ConversationId, seq: u64) -> Option<AppendedMessage> {
        Some(AppendedMessage {
            message: ConversationMessage {
                id: ConversationMessageId::new(),
                conversation_id: conversation,
                seq,
                author: Role::User,
                sender_id: Some(UserId::new()),
                text: format!("m{seq}"),
                image: None,
                status: MessageStatus::Complete,
                provider: None,
                model: None,
                client_id: None,
                created_at: crate::clock::now(),
            },
            created: true,
            member_ids: Vec::new(),
        })
    }

    fn seqs(released: Vec<AppendedMessage>) -> Vec<u64> {
        released.iter().map(|a| a.message.seq).collect()
    }

    #[test]
    fn one_at_a_time_is_released_at_once() {
        let sequencer = Sequencer::default();
        let c = ConversationId::new();
        for seq in 1..=3 {
            let ticket = sequencer.start(c);
            assert_eq!(seqs(sequencer.finish(ticket, appended(c, seq))), vec![seq]);
        }
        assert!(sequencer.lanes().values().all(Lane::idle));
    }

    #[test]
    fn a_higher_seq_waits_for_the_append_that_may_come_before_it() {
        let sequencer = Sequencer::default();
        let c = ConversationId::new();
        let (a, b) = (sequencer.start(c), sequencer.start(c));
        // b returns 2 while a is in flight: a might return 1 (nothing has
        // been released yet), so 2 waits.
        assert_eq!(seqs(sequencer.finish(b, appended(c, 2))), Vec::<u64>::new());
        assert_eq!(seqs(sequencer.finish(a, appended(c, 1))), vec![1, 2]);
    }

    #[test]
    fn the_next_seq_goes_out_while_others_run() {
        let sequencer = Sequencer::default();
        let c = ConversationId::new();
        let (a, b) = (sequencer.start(c), sequencer.start(c));
        assert_eq!(seqs(sequencer.finish(a, appended(c, 1))), Vec::<u64>::new());
        let d = sequencer.start(c);
        // 1 is known (b is done), and 2 follows it although d runs.
        assert_eq!(seqs(sequencer.finish(b, appended(c, 2))), vec![1, 2]);
        let e = sequencer.start(c);
        assert_eq!(seqs(sequencer.finish(d, appended(c, 3))), vec![3]);
        assert_eq!(seqs(sequencer.finish(e, appended(c, 4))), vec![4]);
        // Idle in between, the lane still knows 4: 5 goes out while 6 runs.
        let (f, g) = (sequencer.start(c), sequencer.start(c));
        assert_eq!(seqs(sequencer.finish(f, appended(c, 5))), vec![5]);
        assert_eq!(seqs(sequencer.finish(g, appended(c, 6))), vec![6]);
    }

    #[test]
    fn idle_lanes_are_dropped_when_there_are_many() {
        let sequencer = Sequencer::default();
        let busy = ConversationId::new();
        let running = sequencer.start(busy);
        for _ in 0..2 * MAX_LANES {
            let c = ConversationId::new();
            let ticket = sequencer.start(c);
            sequencer.finish(ticket, appended(c, 1));
            assert!(sequencer.lanes().len() <= MAX_LANES + 1);
        }
        assert!(sequencer.lanes().contains_key(&busy), "a busy lane is kept");
        assert_eq!(seqs(sequencer.finish(running, appended(busy, 1))), vec![1]);
    }

    #[test]
    fn a_later_append_does_not_hold_back_an_earlier_result() {
        let sequencer = Sequencer::default();
        let c = ConversationId::new();
        let (a, b) = (sequencer.start(c), sequencer.start(c));
        // 3 arrives while a runs: a may be 2.
        assert_eq!(seqs(sequencer.finish(b, appended(c, 3))), Vec::<u64>::new());
        // `later` starts after 3 returned: it can only get a higher seq,
        // so it does not hold 3 back once a is done.
        let later = sequencer.start(c);
        assert_eq!(seqs(sequencer.finish(a, appended(c, 2))), vec![2, 3]);
        assert_eq!(seqs(sequencer.finish(later, appended(c, 4))), vec![4]);
    }

    #[test]
    fn a_gap_is_released_when_the_appends_in_flight_are_done() {
        let sequencer = Sequencer::default();
        let c = ConversationId::new();
        let (a, b) = (sequencer.start(c), sequencer.start(c));
        // 2 was written elsewhere; 3 waits for a, which stores nothing.
        assert_eq!(seqs(sequencer.finish(b, appended(c, 3))), Vec::<u64>::new());
        assert_eq!(seqs(sequencer.finish(a, None)), vec![3]);
    }

    #[test]
    fn a_dropped_ticket_no_longer_holds_anything_back() {
        let sequencer = Sequencer::default();
        let c = ConversationId::new();
        let (a, b) = (sequencer.start(c), sequencer.start(c));
        drop(a);
        assert_eq!(seqs(sequencer.finish(b, appended(c, 5))), vec![5]);
        assert!(sequencer.lanes().values().all(Lane::idle));
    }

    #[test]
    fn conversations_do_not_wait_for_each_other() {
        let sequencer = Sequencer::default();
        let (c, d) = (ConversationId::new(), ConversationId::new());
        let (a, b) = (sequencer.start(c), sequencer.start(d));
        assert_eq!(seqs(sequencer.finish(b, appended(d, 7))), vec![7]);
        assert_eq!(seqs(sequencer.finish(a, appended(c, 9))), vec![9]);
    }
}
