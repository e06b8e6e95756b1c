//! Messenger conformance scenarios about messages: `seq`, idempotency,
//! ranges, read pointers and unread counts (see [`messenger_conformance`](super::messenger_conformance)).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::messenger_conformance::{
    expect_not_found, group, image_of, people, send, text_message, MessengerTestStore,
};
use crate::clock;
use crate::ids::{ConversationId, UserId};
use crate::messenger::MessageRange;

/// Every read and write of `outsider` on `id` is NotFound (or nothing).
pub(super) async fn assert_outsider(s: &MessengerTestStore, outsider: UserId, id: ConversationId) {
    let m = s.messenger();
    assert!(m.get_conversation(outsider, id).await.unwrap().is_none());
    assert!(m
        .list_conversations(outsider, 100, None)
        .await
        .unwrap()
        .iter()
        .all(|c| c.id != id));
    expect_not_found(
        m.rename_conversation(outsider, id, Some("x"), clock::now())
            .await,
        "rename",
    );
    expect_not_found(
        m.add_members(outsider, id, &[outsider], 100, clock::now())
            .await,
        "add_members",
    );
    expect_not_found(
        m.leave_conversation(outsider, id, clock::now()).await,
        "leave",
    );
    expect_not_found(
        m.append_conversation_message(text_message(id, outsider, "hi", None))
            .await,
        "append",
    );
    expect_not_found(
        m.append_conversation_message(text_message(id, outsider, "hi", Some("c1")))
            .await,
        "append with a client_id",
    );
    for range in [
        MessageRange::Latest,
        MessageRange::After(0),
        MessageRange::Before(9),
    ] {
        expect_not_found(
            m.list_conversation_messages(outsider, id, range, 10).await,
            "list messages",
        );
    }
    expect_not_found(m.mark_read(outsider, id, 1).await, "mark_read");
    assert!(!m.member_ids(id).await.unwrap().contains(&outsider));
}

/// Messages are numbered 1, 2, 3, … in the order stored; each append moves
/// the conversation's `updated_at` and reports the members to tell.
pub async fn seq_is_gapless_and_ordered(s: &MessengerTestStore) {
    let users = people(s, 2).await;
    let (a, b) = (users[0].id, users[1].id);
    let conversation = group(s, &[a, b]).await;
    let mut last = conversation.updated_at;
    for (i, sender) in [a, b, a, a].into_iter().enumerate() {
        let new = text_message(conversation.id, sender, &format!("m{i}"), None);
        let at = new.created_at;
        let appended = s
            .messenger()
            .append_conversation_message(new)
            .await
            .unwrap();
        assert!(appended.created);
        assert_eq!(appended.message.seq, i as u64 + 1);
        assert_eq!(appended.message.sender_id, Some(sender));
        let mut members = appended.member_ids.clone();
        members.sort();
        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(members, expected);
        let seen = s
            .messenger()
            .get_conversation(a, conversation.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seen.updated_at, at);
        assert!(seen.updated_at >= last);
        last = seen.updated_at;
    }
}

/// 50 concurrent senders: `seq` is exactly 1..=N with no gap or duplicate,
/// and a concurrent reader never sees a message without every lower one.
pub async fn concurrent_senders_get_gapless_seq(s: &MessengerTestStore) {
    const SENDERS: usize = 50;
    const EACH: usize = 4;
    let users = people(s, SENDERS).await;
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let conversation = group(s, &ids).await;
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let store = s.shared();
        let done = Arc::clone(&done);
        let (viewer, id) = (ids[0], conversation.id);
        tokio::spawn(async move {
            let mut reads = 0u32;
            while !done.load(Ordering::Relaxed) || reads == 0 {
                let seen = store
                    .list_conversation_messages(viewer, id, MessageRange::After(0), 200)
                    .await
                    .expect("read while writing");
                for (i, message) in seen.iter().enumerate() {
                    assert_eq!(message.seq, i as u64 + 1, "a reader saw a hole");
                }
                reads += 1;
                tokio::task::yield_now().await;
            }
            reads
        })
    };
    let mut tasks = Vec::new();
    for sender in ids.clone() {
        let store = s.shared();
        let id = conversation.id;
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..EACH {
                let appended = store
                    .append_conversation_message(text_message(id, sender, &format!("{n}"), None))
                    .await
                    .expect("concurrent append");
                seqs.push(appended.message.seq);
            }
            seqs
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        let mine = task.await.unwrap();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "one sender's seq went back"
        );
        seqs.extend(mine);
    }
    done.store(true, Ordering::Relaxed);
    assert!(reader.await.unwrap() > 0);
    seqs.sort_unstable();
    let total = (SENDERS * EACH) as u64;
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    let stored = s
        .messenger()
        .list_conversation_messages(ids[1], conversation.id, MessageRange::After(0), 200)
        .await
        .unwrap();
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
}

/// The same sender and `client_id` in one conversation store one message;
/// another sender or conversation with the same key is a new message.
pub async fn client_id_makes_sends_idempotent(s: &MessengerTestStore) {
    let users = people(s, 2).await;
    let (a, b) = (users[0].id, users[1].id);
    let first_conversation = group(s, &[a, b]).await;
    let other_conversation = group(s, &[a, b]).await;
    let m = s.messenger();
    let first = m
        .append_conversation_message(text_message(first_conversation.id, a, "once", Some("k-1")))
        .await
        .unwrap();
    assert!(first.created);
    let again = m
        .append_conversation_message(text_message(first_conversation.id, a, "twice", Some("k-1")))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.message, first.message, "the first message comes back");
    assert!(again.member_ids.is_empty(), "nobody to tell");
    let by_b = m
        .append_conversation_message(text_message(first_conversation.id, b, "b", Some("k-1")))
        .await
        .unwrap();
    assert!(by_b.created);
    assert_eq!(by_b.message.seq, 2);
    let elsewhere = m
        .append_conversation_message(text_message(other_conversation.id, a, "x", Some("k-1")))
        .await
        .unwrap();
    assert!(elsewhere.created);
    let history = m
        .list_conversation_messages(a, first_conversation.id, MessageRange::Latest, 10)
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].client_id.as_deref(), Some("k-1"));
    assert_eq!(history[0].text, "once");
}

/// One sender sending the same `client_id` concurrently stores one message.
pub async fn concurrent_same_client_id_stores_one(s: &MessengerTestStore) {
    let users = people(s, 2).await;
    let (a, b) = (users[0].id, users[1].id);
    let conversation = group(s, &[a, b]).await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = s.shared();
        let id = conversation.id;
        tasks.push(tokio::spawn(async move {
            store
                .append_conversation_message(text_message(id, a, "same", Some("retry-7")))
                .await
                .expect("append")
        }));
    }
    let mut ids = HashSet::new();
    let mut created = 0;
    for task in tasks {
        let appended = task.await.unwrap();
        ids.insert(appended.message.id);
        created += usize::from(appended.created);
    }
    assert_eq!((ids.len(), created), (1, 1));
    let history = s
        .messenger()
        .list_conversation_messages(b, conversation.id, MessageRange::Latest, 50)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].seq, 1);
}

/// `After`, `Before` and `Latest` return the right slices in ascending `seq`.
pub async fn message_ranges_after_before_latest(s: &MessengerTestStore) {
    let users = people(s, 2).await;
    let (a, b) = (users[0].id, users[1].id);
    let conversation = group(s, &[a, b]).await;
    for i in 0..10 {
        send(
            s,
            conversation.id,
            if i % 2 == 0 { a } else { b },
            &format!("{i}"),
        )
        .await;
    }
    let seqs = |range, limit| {
        let m = s.messenger();
        async move {
            m.list_conversation_messages(b, conversation.id, range, limit)
                .await
                .unwrap()
                .iter()
                .map(|m| m.seq)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(seqs(MessageRange::Latest, 3).await, vec![8, 9, 10]);
    assert_eq!(
        seqs(MessageRange::Latest, 50).await,
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(seqs(MessageRange::After(0), 3).await, vec![1, 2, 3]);
    assert_eq!(seqs(MessageRange::After(7), 50).await, vec![8, 9, 10]);
    assert_eq!(seqs(MessageRange::After(10), 50).await, Vec::<u64>::new());
    assert_eq!(seqs(MessageRange::After(99), 50).await, Vec::<u64>::new());
    assert_eq!(seqs(MessageRange::Before(5), 2).await, vec![3, 4]);
    assert_eq!(seqs(MessageRange::Before(5), 50).await, vec![1, 2, 3, 4]);
    assert_eq!(seqs(MessageRange::Before(1), 50).await, Vec::<u64>::new());
    assert_eq!(seqs(MessageRange::Before(0), 50).await, Vec::<u64>::new());
    assert_eq!(seqs(MessageRange::Before(99), 2).await, vec![9, 10]);
    let texts: Vec<String> = s
        .messenger()
        .list_conversation_messages(a, conversation.id, MessageRange::After(0), 3)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, vec!["0", "1", "2"]);
}

/// A read pointer is clamped to the latest `seq` and never moves back.
pub async fn read_pointer_clamps_and_never_moves_back(s: &MessengerTestStore) {
    let users = people(s, 2).await;
    let (a, b) = (users[0].id, users[1].id);
    let conversation = group(s, &[a, b]).await;
    let m = s.messenger();
    let empty = m.mark_read(b, conversation.id, 5).await.unwrap();
    assert_eq!((empty.last_read_seq, empty.moved), (0, false));
    for i in 0..3 {
        send(s, conversation.id, a, &format!("{i}")).await;
    }
    let clamped = m.mark_read(b, conversation.id, 99).await.unwrap();
    assert_eq!((clamped.last_read_seq, clamped.moved), (3, true));
    let back = m.mark_read(b, conversation.id, 1).await.unwrap();
    assert_eq!((back.last_read_seq, back.moved), (3, false));
    let same = m.mark_read(b, conversation.id, 3).await.unwrap();
    assert!(!same.moved);
    let seen = m
        .get_conversation(b, conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((seen.last_read_seq, seen.unread_count), (3, 0));
    let other = m
        .get_conversation(a, conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.last_read_seq, 0, "read pointers are per member");
}

/// Concurrent mark-reads in any order leave the highest pointer.
pub async fn concurrent_reads_never_lower_the_pointer(s: &MessengerTestStore) {
    let users = people(s, 2).await;
    let (a, b) = (users[0].id, users[1].id);
    let conversation = group(s, &[a, b]).await;
    for i in 0..20 {
        send(s, conversation.id, a, &format!("{i}")).await;
    }
    let mut tasks = Vec::new();
    for seq in (1..=20u64).rev().chain(1..=20) {
        let store = s.shared();
        let id = conversation.id;
        tasks.push(tokio::spawn(async move {
            store.mark_read(b, id, seq).await.unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let seen = s
        .messenger()
        .get_conversation(b, conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.last_read_seq, 20);
}

/// Unread counts are the messages after the pointer that others wrote.
pub async fn unread_counts_exclude_own_messages(s: &MessengerTestStore) {
    let users = people(s, 3).await;
    let (a, b, c) = (users[0].id, users[1].id, users[2].id);
    let conversation = group(s, &[a, b, c]).await;
    for sender in [a, a, b, c, b] {
        send(s, conversation.id, sender, "x").await;
    }
    let unread = |viewer| {
        let m = s.messenger();
        async move {
            m.get_conversation(viewer, conversation.id)
                .await
                .unwrap()
                .unwrap()
                .unread_count
        }
    };
    assert_eq!(
        (unread(a).await, unread(b).await, unread(c).await),
        (3, 3, 4)
    );
    s.messenger()
        .mark_read(a, conversation.id, 3)
        .await
        .unwrap();
    assert_eq!(unread(a).await, 2, "seq 4 (c) and 5 (b) remain");
    s.messenger()
        .mark_read(b, conversation.id, 4)
        .await
        .unwrap();
    assert_eq!(unread(b).await, 0, "seq 5 is b's own");
    let listed = s.messenger().list_conversations(c, 10, None).await.unwrap();
    assert_eq!(listed[0].unread_count, 4, "the list counts the same way");
}

/// The view carries the last message (with its image); text of any script,
/// emoji and control characters round-trips exactly.
pub async fn last_message_and_unicode_round_trip(s: &MessengerTestStore) {
    let users = people(s, 2).await;
    let (a, b) = (users[0].id, users[1].id);
    let conversation = group(s, &[a, b]).await;
    let text = "Ünïcödé ✓ 🚀 中文 \u{202e}rtl\t\n  spaces  ";
    send(s, conversation.id, a, "first").await;
    let media = s.messenger().create_media(image_of(b)).await.unwrap();
    let mut new = text_message(conversation.id, b, text, Some("ü-1"));
    new.image = Some(media.id);
    let stored = s
        .messenger()
        .append_conversation_message(new.clone())
        .await
        .unwrap()
        .message;
    assert_eq!(stored.text, text);
    assert_eq!(stored.created_at, new.created_at);
    assert_eq!(stored.client_id.as_deref(), Some("ü-1"));
    assert_eq!(stored.author, crate::domain::Role::User);
    assert_eq!(stored.status, crate::domain::MessageStatus::Complete);
    let seen = s
        .messenger()
        .get_conversation(a, conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.last_message.as_ref(), Some(&stored));
    assert_eq!(seen.last_message.and_then(|m| m.image), Some(media));
    let read = s
        .messenger()
        .list_conversation_messages(a, conversation.id, MessageRange::After(1), 5)
        .await
        .unwrap();
    assert_eq!(read, vec![stored]);
}
