//! A scenario shared by the SQLite and PostgreSQL messenger tests: several
//! stores on one database (as several server processes would be) writing
//! one conversation at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chatcore::messenger::{
    ConversationKind, MessageRange, NewConversation, NewConversationMessage,
};
use chatcore::{
    ConversationId, ConversationMessageId, MessageStatus, MessengerStore, NewUser, Role, Store,
    UserId,
};

/// One store's two traits.
pub type Pair = (Arc<dyn Store>, Arc<dyn MessengerStore>);

fn message(
    id: ConversationId,
    sender: Option<UserId>,
    client_id: Option<&str>,
) -> NewConversationMessage {
    NewConversationMessage {
        id: ConversationMessageId::new(),
        conversation_id: id,
        author: if sender.is_some() {
            Role::User
        } else {
            Role::Assistant
        },
        sender_id: sender,
        text: "hi".to_owned(),
        image: None,
        status: MessageStatus::Complete,
        provider: None,
        model: None,
        client_id: client_id.map(str::to_owned),
        created_at: chatcore::clock::now(),
    }
}

/// Direct creation, senders, the assistant and a retried `client_id`, all
/// at once through `stores` in turn; a reader through the last store never
/// sees a hole, and the conversation ends numbered 1..=N.
pub async fn stores_on_one_database_agree(stores: Vec<Pair>) {
    const SENDERS: usize = 20;
    const EACH: usize = 5;
    const ASSISTANT: usize = 10;
    const RETRIES: usize = 8;
    let n = stores.len();
    let mut users = Vec::new();
    for i in 0..SENDERS {
        let name = format!("inst{i}x{}", &UserId::new().to_string()[..8]);
        let user = stores[0]
            .0
            .create_user(NewUser {
                id: UserId::new(),
                email: format!("{name}@example.com"),
                username: name.clone(),
                display_name: name,
                password_hash: "hash".to_owned(),
                created_at: chatcore::clock::now(),
            })
            .await
            .unwrap();
        users.push(user.id);
    }

    // The same direct conversation asked for through every store at once.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let messenger = Arc::clone(&stores[i % n].1);
        let (a, b) = if i % 2 == 0 {
            (users[0], users[1])
        } else {
            (users[1], users[0])
        };
        tasks.push(tokio::spawn(async move {
            messenger
                .create_conversation(NewConversation {
                    id: ConversationId::new(),
                    kind: ConversationKind::Direct,
                    title: None,
                    creator: a,
                    member_ids: vec![a, b],
                    created_at: chatcore::clock::now(),
                })
                .await
                .unwrap()
        }));
    }
    let mut directs = HashSet::new();
    let mut created = 0;
    for task in tasks {
        let (conversation, new) = task.await.unwrap();
        directs.insert(conversation.id);
        created += usize::from(new);
    }
    assert_eq!((directs.len(), created), (1, 1), "one direct conversation");

    let (group, _) = stores[0]
        .1
        .create_conversation(NewConversation {
            id: ConversationId::new(),
            kind: ConversationKind::Group,
            title: Some("all".to_owned()),
            creator: users[0],
            member_ids: users.clone(),
            created_at: chatcore::clock::now(),
        })
        .await
        .unwrap();
    let id = group.id;
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let messenger = Arc::clone(&stores[n - 1].1);
        let (done, viewer) = (Arc::clone(&done), users[0]);
        tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) || reads == 0 {
                let seen = messenger
                    .list_conversation_messages(viewer, id, MessageRange::After(0), 200)
                    .await
                    .unwrap();
                for (i, m) in seen.iter().enumerate() {
                    assert_eq!(m.seq, i as u64 + 1, "a reader saw a hole");
                }
                reads += 1;
                tokio::task::yield_now().await;
            }
            reads
        })
    };
    let mut tasks = Vec::new();
    for (i, sender) in users.iter().copied().enumerate() {
        let messenger = Arc::clone(&stores[i % n].1);
        tasks.push(tokio::spawn(async move {
            let mut created = Vec::new();
            for _ in 0..EACH {
                let appended = messenger
                    .append_conversation_message(message(id, Some(sender), None))
                    .await
                    .unwrap();
                created.push((appended.message.id, appended.created));
            }
            created
        }));
    }
    for i in 0..ASSISTANT {
        let messenger = Arc::clone(&stores[i % n].1);
        tasks.push(tokio::spawn(async move {
            let appended = messenger
                .append_conversation_message(message(id, None, None))
                .await
                .unwrap();
            vec![(appended.message.id, appended.created)]
        }));
    }
    for i in 0..RETRIES {
        let messenger = Arc::clone(&stores[i % n].1);
        let sender = users[2];
        tasks.push(tokio::spawn(async move {
            let appended = messenger
                .append_conversation_message(message(id, Some(sender), Some("retry-1")))
                .await
                .unwrap();
            vec![(appended.message.id, appended.created)]
        }));
    }
    let mut stored = HashSet::new();
    let mut created = 0;
    for task in tasks {
        for (message, new) in task.await.unwrap() {
            stored.insert(message);
            created += usize::from(new);
        }
    }
    done.store(true, Ordering::Relaxed);
    assert!(reader.await.unwrap() > 0);
    let total = SENDERS * EACH + ASSISTANT + 1;
    assert_eq!(
        (stored.len(), created),
        (total, total),
        "one message per client_id"
    );
    let history = stores[0]
        .1
        .list_conversation_messages(users[1], id, MessageRange::After(0), 200)
        .await
        .unwrap();
    let seqs: Vec<u64> = history.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>());
    let view = stores[n - 1]
        .1
        .get_conversation(users[3], id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.last_message.map(|m| m.seq), Some(total as u64));
    assert_eq!(
        view.unread_count,
        total as u64 - EACH as u64,
        "all but users[3]'s own"
    );
}
