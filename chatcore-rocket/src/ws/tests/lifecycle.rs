//! Auth, token expiry, keep-alive, frame errors and limits.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_frame_in_time_closes_with_4401() {
    let server = start(Setup {
        api: ApiConfig {
            ws_auth_timeout: ms(300),
            ..ApiConfig::default()
        },
        ..Setup::default()
    })
    .await;
    let mut ws = server.connect().await;
    let opened = Instant::now();
    assert_eq!(close_code(&mut ws).await, CLOSE_UNAUTHORIZED);
    assert!(opened.elapsed() >= ms(250), "closed too early");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_frame_that_is_not_auth_closes_with_4401() {
    let server = start(Setup::default()).await;
    let alice = server.user("alice").await;
    for first in [
        "not json".to_owned(),
        json!({"type": "ping"}).to_string(),
        json!({"type": "auth"}).to_string(),
        json!({"type": "auth", "token": 7}).to_string(),
        json!({"type": "send", "session_id": SessionId::new(), "content": "hi"}).to_string(),
        json!({"token": alice.token.token}).to_string(),
    ] {
        let mut ws = server.connect().await;
        send_text(&mut ws, &first).await;
        assert_eq!(close_code(&mut ws).await, CLOSE_UNAUTHORIZED, "{first}");
    }
    let mut ws = server.connect().await;
    ws.send(WsMessage::Binary(b"{\"type\":\"auth\"}".to_vec()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut ws).await, CLOSE_UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_or_expired_token_closes_with_4401() {
    let server = start(Setup::default()).await;
    let alice = server.user("alice").await;
    let other_key = JwtTokens::new(b"another-secret-another-secret-0123456")
        .issue(alice.user.id)
        .await
        .unwrap();
    let expired = JwtTokens::new(SECRET)
        .with_ttl(Duration::from_secs(60))
        .issue_at(
            alice.user.id,
            chrono::Utc::now() - chrono::Duration::hours(1),
        )
        .unwrap();
    let unknown_user = JwtTokens::new(SECRET)
        .issue(chatcore::UserId::new())
        .await
        .unwrap();
    for token in [
        "garbage".to_owned(),
        String::new(),
        other_key.token,
        expired.token,
        unknown_user.token,
    ] {
        let mut ws = server.connect().await;
        send(&mut ws, json!({"type": "auth", "token": token})).await;
        assert_eq!(close_code(&mut ws).await, CLOSE_UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_carries_the_user_and_the_token_expiry() {
    let server = start(Setup::default()).await;
    let alice = server.user("alice").await;
    let (_ws, ready) = server.signed_in(&alice.token.token).await;
    assert_eq!(
        ready["user"],
        serde_json::to_value(UserDto::new(&alice.user, &server.state)).unwrap()
    );
    assert_eq!(ready["expires_at"], time_json(alice.token.expires_at));
    assert!(ready["expires_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_gets_pong() {
    let server = start(Setup::default()).await;
    let alice = server.user("alice").await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut ws).await, json!({"type": "pong"}));
    send(&mut ws, json!({"type": "ping", "request_id": "p"})).await;
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "pong", "request_id": "p"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_frames_get_error_frames_and_the_socket_stays_usable() {
    let server = start(Setup::default()).await;
    let alice = server.user("alice").await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    for bad in [
        "{not json",
        "[]",
        "{}",
        r#"{"type":"launch"}"#,
        r#"{"type":null}"#,
    ] {
        send_text(&mut ws, bad).await;
        let error = recv(&mut ws).await;
        assert_eq!(error["type"], "error", "{bad}");
        assert_eq!(error["code"], "bad_request", "{bad}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    ws.send(WsMessage::Binary(vec![0, 1, 2])).await.unwrap();
    assert_eq!(recv(&mut ws).await["code"], "bad_request");
    send(
        &mut ws,
        json!({"type": "send", "request_id": "x", "session_id": "not-a-uuid", "content": "hi"}),
    )
    .await;
    let error = recv(&mut ws).await;
    assert_eq!(error["code"], "validation_error");
    assert_eq!(error["request_id"], "x");
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut ws).await["type"], "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiring_comes_before_the_4401_close_at_expiry() {
    let server = start(Setup {
        token_ttl: Duration::from_secs(3),
        api: ApiConfig {
            token_expiry_notice: Duration::from_secs(2),
            ..ApiConfig::default()
        },
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let (mut ws, ready) = server.signed_in(&alice.token.token).await;
    let expiring = recv(&mut ws).await;
    assert_eq!(expiring["type"], "token_expiring");
    assert_eq!(expiring["expires_at"], ready["expires_at"]);
    let left = (alice.token.expires_at - chrono::Utc::now()).num_milliseconds();
    assert!(left > 1000, "token_expiring came too late ({left} ms left)");
    assert_eq!(close_code(&mut ws).await, CLOSE_UNAUTHORIZED);
    assert!(chrono::Utc::now() >= alice.token.expires_at - chrono::Duration::milliseconds(50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiring_is_immediate_inside_the_notice_window() {
    let server = start(Setup {
        token_ttl: Duration::from_secs(60),
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let (mut ws, ready) = server.signed_in(&alice.token.token).await;
    let expiring = recv(&mut ws).await;
    assert_eq!(expiring["type"], "token_expiring");
    assert_eq!(expiring["expires_at"], ready["expires_at"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_auth_before_expiry_keeps_the_socket_open() {
    let server = start(Setup {
        token_ttl: Duration::from_secs(3),
        api: ApiConfig {
            token_expiry_notice: Duration::from_secs(2),
            ..ApiConfig::default()
        },
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    assert_eq!(recv(&mut ws).await["type"], "token_expiring");

    let fresh = JwtTokens::new(SECRET)
        .with_ttl(Duration::from_secs(120))
        .issue(alice.user.id)
        .await
        .unwrap();
    send(&mut ws, json!({"type": "auth", "token": fresh.token})).await;
    let ready = recv(&mut ws).await;
    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["expires_at"], time_json(fresh.expires_at));
    assert_eq!(ready["user"]["id"], json!(alice.user.id));

    // Past the first token's expiry: still open, nothing but the pong.
    let past = alice.token.expires_at - chrono::Utc::now() + chrono::Duration::milliseconds(700);
    let frames = frames_within(&mut ws, past.to_std().unwrap_or_default()).await;
    assert!(frames.is_empty(), "{frames:?}");
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut ws).await["type"], "pong");

    // A bad re-auth is an error frame; another user's token is refused.
    send(&mut ws, json!({"type": "auth", "token": "garbage"})).await;
    assert_eq!(recv(&mut ws).await["code"], "unauthorized");
    let bob = server.user("bob").await;
    send(&mut ws, json!({"type": "auth", "token": bob.token.token})).await;
    assert_eq!(recv(&mut ws).await["code"], "forbidden");
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut ws).await["type"], "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_get_websocket_pings() {
    let server = start(Setup {
        api: ApiConfig {
            keepalive: ms(150),
            ..ApiConfig::default()
        },
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    let mut pings = 0;
    let deadline = Instant::now() + ms(1000);
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, ws.next()).await {
        match message {
            WsMessage::Ping(_) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(pings >= 3, "{pings} pings");
    // The client answered them (tungstenite does): the socket is still open.
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut ws).await["type"], "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_closes_with_1009() {
    let server = start(Setup::default()).await;
    let alice = server.user("alice").await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    let big = json!({"type": "ping", "pad": "x".repeat(MAX_MESSAGE_SIZE)}).to_string();
    let _ = ws.send(WsMessage::Text(big)).await;
    assert_eq!(close_code(&mut ws).await, 1009);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_answers_no_ping_is_closed() {
    let server = start(Setup {
        api: ApiConfig {
            keepalive: ms(100),
            ..ApiConfig::default()
        },
        ..Setup::default()
    })
    .await;
    let alice = server.user("alice").await;
    let (mut ws, _) = server.signed_in(&alice.token.token).await;
    // Not reading: tungstenite answers pings only while the client reads.
    tokio::time::sleep(ms(700)).await;
    assert_eq!(close_code(&mut ws).await, 1001);
}
