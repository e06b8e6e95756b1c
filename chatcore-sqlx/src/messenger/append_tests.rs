//! The one-statement append of PostgreSQL ([`sql::APPEND_IN_ONE`]) on its
//! own: the conformance suite cannot tell it from the transaction it falls
//! back to, so these tests call it directly and check what it did.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chatcore::messenger::{
    ConversationKind, MessageRange, NewConversation, NewConversationMessage,
};
use chatcore::{
    ConversationId, ConversationMessageId, MessageStatus, MessengerStore, NewUser, Role, Store,
    UserId,
};

use super::messages::{append_in_one, InOne};
use super::sql;
use crate::PostgresStore;

async fn user(store: &PostgresStore, name: &str) -> UserId {
    let id = UserId::new();
    store
        .create_user(NewUser {
            id,
            email: format!("{name}@example.com"),
            username: name.to_owned(),
            display_name: name.to_owned(),
            password_hash: "h".into(),
            created_at: chatcore::clock::now(),
        })
        .await
        .unwrap();
    id
}

fn message(
    conversation: ConversationId,
    sender: Option<UserId>,
    client_id: Option<&str>,
) -> NewConversationMessage {
    NewConversationMessage {
        id: ConversationMessageId::new(),
        conversation_id: conversation,
        author: if sender.is_some() {
            Role::User
        } else {
            Role::Assistant
        },
        sender_id: sender,
        text: "hello".into(),
        image: None,
        status: MessageStatus::Complete,
        provider: None,
        model: None,
        client_id: client_id.map(str::to_owned),
        created_at: chatcore::clock::now(),
    }
}

async fn stored(store: &PostgresStore, new: &NewConversationMessage) -> InOne {
    append_in_one(store, sql::APPEND_IN_ONE, new).await.unwrap()
}

#[tokio::test]
async fn pg_append_in_one_statement() {
    let Some(store) = crate::testing::pg_test_store().await else {
        return;
    };
    let (a, b, c) = (
        user(&store, "ana").await,
        user(&store, "bo").await,
        user(&store, "cy").await,
    );
    let (conversation, _) = store
        .create_conversation(NewConversation {
            id: ConversationId::new(),
            kind: ConversationKind::Group,
            title: Some("t".into()),
            creator: a,
            member_ids: vec![a, b],
            created_at: chatcore::clock::now(),
        })
        .await
        .unwrap();
    let id = conversation.id;

    // Stored, numbered 1 then 2, with the members to tell in join order.
    let first = message(id, Some(a), Some("k1"));
    let InOne::Stored(one) = stored(&store, &first).await else {
        panic!("a member's message is stored by the statement");
    };
    assert_eq!(
        (one.message.seq, one.message.id, one.created),
        (1, first.id, true)
    );
    assert_eq!(one.message.client_id.as_deref(), Some("k1"));
    let mut members = one.member_ids.clone();
    members.sort_by_key(|u| u.0);
    let mut expected = vec![a, b];
    expected.sort_by_key(|u| u.0);
    assert_eq!(members, expected);
    assert_eq!(one.member_ids, store.member_ids(id).await.unwrap());
    let InOne::Stored(two) = stored(&store, &message(id, None, None)).await else {
        panic!("the assistant's message is stored by the statement");
    };
    assert_eq!((two.message.seq, two.message.sender_id), (2, None));

    // Nothing stored and no number taken: the same client_id again, a
    // non-member, no such conversation.
    assert!(matches!(
        stored(&store, &message(id, Some(a), Some("k1"))).await,
        InOne::Nothing
    ));
    assert!(matches!(
        stored(&store, &message(id, Some(c), None)).await,
        InOne::Nothing
    ));
    assert!(matches!(
        stored(&store, &message(ConversationId::new(), Some(a), None)).await,
        InOne::Nothing
    ));
    // A taken message id breaks a unique index: the statement is undone.
    let mut taken = message(id, Some(b), Some("k2"));
    taken.id = first.id;
    assert!(matches!(stored(&store, &taken).await, InOne::Lost));

    let InOne::Stored(three) = stored(&store, &message(id, Some(b), Some("k1"))).await else {
        panic!("another sender may use the same client_id");
    };
    assert_eq!(three.message.seq, 3, "no number was lost on the way");
    let page = store
        .list_conversation_messages(a, id, MessageRange::Latest, 50)
        .await
        .unwrap();
    let seqs: Vec<u64> = page.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}
