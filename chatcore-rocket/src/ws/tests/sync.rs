//! Multi-device sync through the event bus.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_every_socket_of_the_user() {
    let server = start(Setup::default()).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let (mut a, _) = server.signed_in(&alice.token.token).await;
    let (mut b, _) = server.signed_in(&alice.token.token).await;
    let (mut other, _) = server.signed_in(&bob.token.token).await;
    let chat = &server.state.chat;

    let created = chat.create_session(alice.user.id, None).await.unwrap();
    for ws in [&mut a, &mut b] {
        let frame = recv(ws).await;
        assert_eq!(frame["type"], "session_updated");
        assert_eq!(
            frame["session"],
            serde_json::to_value(crate::dto::SessionDto::from(&created)).unwrap()
        );
    }
    let renamed = chat
        .rename_session(alice.user.id, created.id, "Renamed")
        .await
        .unwrap();
    for ws in [&mut a, &mut b] {
        let frame = recv(ws).await;
        assert_eq!(frame["type"], "session_updated");
        assert_eq!(frame["session"]["title"], "Renamed");
        assert_eq!(frame["session"]["id"], json!(renamed.id));
    }

    // A sends; B sees every stored state as plain message frames.
    send(
        &mut a,
        json!({"type": "send", "request_id": "a1", "session_id": created.id, "content": "hi all"}),
    )
    .await;
    let user_message = recv(&mut b).await;
    assert_eq!(user_message["type"], "message");
    assert!(user_message.get("request_id").is_none());
    assert_eq!(user_message["message"]["content"], "hi all");
    let streaming = recv(&mut b).await;
    assert_eq!(streaming["message"]["status"], "streaming");
    let finished = recv(&mut b).await;
    assert_eq!(finished["type"], "message");
    assert_eq!(finished["message"]["id"], streaming["message"]["id"]);
    assert_eq!(finished["message"]["status"], "complete");
    assert_eq!(finished["message"]["content"], "the quick brown fox");
    let (frames, done) = read_reply(&mut a).await;
    assert_eq!(done["message"], finished["message"]);
    let messages: Vec<_> = frames.iter().filter(|f| f["type"] == "message").collect();
    assert_eq!(messages.len(), 2, "{frames:?}");

    // A reply started elsewhere (REST) reaches both sockets.
    let started = chat
        .start_reply(alice.user.id, created.id, "from rest")
        .await
        .unwrap();
    for ws in [&mut a, &mut b] {
        let first = recv(ws).await;
        assert_eq!(first["message"]["id"], json!(started.user_message.id));
        let second = recv(ws).await;
        assert_eq!(second["message"]["id"], json!(started.assistant_message.id));
        let last = recv(ws).await;
        assert_eq!(last["message"]["status"], "complete");
    }

    chat.delete_session(alice.user.id, created.id)
        .await
        .unwrap();
    for ws in [&mut a, &mut b] {
        let frame = recv(ws).await;
        assert_eq!(
            frame,
            json!({"type": "session_deleted", "session_id": created.id})
        );
    }
    let leaked = frames_within(&mut other, ms(200)).await;
    assert!(leaked.is_empty(), "bob saw alice's events: {leaked:?}");
}
