//! API.md Part 2, Conversations: direct and group conversations, members,
//! messages with a gapless `seq`, idempotent sends, read pointers, paging,
//! the message limit, and 404 for everyone who is not a member.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chatcore::Registration;
use common::messenger::Member;
use common::{assert_error, Db, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn messenger_server(db: Db) -> Option<TestServer> {
    TestServer::try_with(Options::on(db)).await
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

fn member_ids(conversation: &Value) -> Vec<String> {
    conversation["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}

async fn send_json(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> reqwest::Response {
    server
        .request(method, path, Some(token))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn direct_conversations_are_unique_per_pair(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", Some("Alice")).await;
    let bob = server.member("bob", Some("Bob")).await;

    let (status, direct) = server
        .conversation(
            &alice.token,
            json!({"member_ids": [bob.id, bob.id, alice.id]}),
        )
        .await;
    assert_eq!(status, 201, "{direct}");
    let mut keys: Vec<&str> = direct
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "id",
            "kind",
            "last_message",
            "last_read_seq",
            "members",
            "title",
            "unread_count",
            "updated_at"
        ]
    );
    assert_eq!(direct["kind"], "direct");
    assert_eq!(direct["title"], Value::Null);
    assert_eq!(direct["last_message"], Value::Null);
    assert_eq!(
        (
            direct["unread_count"].as_u64(),
            direct["last_read_seq"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(member_ids(&direct), [alice.id.clone(), bob.id.clone()]);
    for member in direct["members"].as_array().unwrap() {
        assert!(member.get("email").is_none(), "{member}");
        assert!(member["avatar_url"].is_null());
    }
    assert_eq!(direct["members"][1]["display_name"], "Bob");

    // Asked again, from either side: the same one, 200.
    let (status, again) = server
        .conversation(&alice.token, json!({"member_ids": [bob.id]}))
        .await;
    assert_eq!((status, id_of(&again)), (200, id_of(&direct)));
    let (status, from_bob) = server
        .conversation(&bob.token, json!({"member_ids": [alice.id]}))
        .await;
    assert_eq!((status, id_of(&from_bob)), (200, id_of(&direct)));
    // A title makes a group, even of two.
    let (status, group) = server
        .conversation(
            &alice.token,
            json!({"member_ids": [bob.id], "title": " Plans "}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        (group["kind"].as_str(), group["title"].as_str()),
        (Some("group"), Some("Plans"))
    );
    assert_ne!(id_of(&group), id_of(&direct));
    let got = server
        .get_json(&format!("/conversations/{}", id_of(&group)), &bob.token)
        .await;
    assert_eq!(got["title"], "Plans");
}

async fn member_lists_are_checked(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    for (body, field) in [
        (json!({"member_ids": []}), "member_ids"),
        (json!({"member_ids": [alice.id]}), "member_ids"),
        (json!({"member_ids": [unknown]}), "member_ids"),
        (json!({"member_ids": ["not-a-uuid"]}), "member_ids"),
        (
            json!({"member_ids": [unknown.replace('-', "")]}),
            "member_ids",
        ),
        (json!({"member_ids": "x"}), "member_ids"),
        (json!({}), "member_ids"),
        (json!({"member_ids": [alice.id], "title": ""}), "title"),
    ] {
        let response = server
            .post("/conversations", Some(&alice.token), &body)
            .await;
        let error = assert_error(response, 422, "validation_error").await;
        assert!(
            error["error"]["fields"][field].is_string(),
            "{body}: {error}"
        );
    }
    assert!(server
        .get_json("/conversations", &alice.token)
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

/// Registers `count` users through the service (faster than HTTP).
async fn many_users(server: &TestServer, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let session = server
            .state
            .auth
            .register(Registration {
                email: format!("user{i}@example.com"),
                password: "correct horse battery".to_owned(),
                username: None,
                display_name: None,
            })
            .await
            .unwrap();
        ids.push(session.user.id.to_string());
    }
    ids
}

async fn groups_have_at_most_100_members(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let others = many_users(&server, 100).await;

    // 100 others and the caller: 101 members.
    let response = server
        .post(
            "/conversations",
            Some(&alice.token),
            &json!({"member_ids": others}),
        )
        .await;
    let error = assert_error(response, 422, "validation_error").await;
    assert!(
        error["error"]["fields"]["member_ids"].is_string(),
        "{error}"
    );

    let (status, group) = server
        .conversation(&alice.token, json!({"member_ids": others[..99]}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(group["members"].as_array().unwrap().len(), 100);
    let path = format!("/conversations/{}/members", id_of(&group));
    let response = send_json(
        &server,
        Method::POST,
        &path,
        &alice.token,
        json!({"user_ids": [others[99]]}),
    )
    .await;
    let error = assert_error(response, 422, "validation_error").await;
    assert!(error["error"]["fields"]["user_ids"].is_string(), "{error}");
    // Someone already in it changes nothing and is fine.
    let response = send_json(
        &server,
        Method::POST,
        &path,
        &alice.token,
        json!({"user_ids": [others[0]]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn renames_members_and_leaving(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let carol = server.member("carol", None).await;
    let (_, group) = server
        .conversation(&alice.token, json!({"member_ids": [bob.id]}))
        .await;
    // (that was direct) – a group:
    let direct = group;
    let (_, group) = server
        .conversation(
            &alice.token,
            json!({"member_ids": [bob.id], "title": "Team"}),
        )
        .await;
    let group_path = format!("/conversations/{}", id_of(&group));
    let direct_path = format!("/conversations/{}", id_of(&direct));

    let response = send_json(
        &server,
        Method::PATCH,
        &group_path,
        &bob.token,
        json!({"title": " Dream team "}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let renamed: Value = response.json().await.unwrap();
    assert_eq!(renamed["title"], "Dream team");
    for (path, body, field) in [
        (&direct_path, json!({"title": "Us"}), "title"),
        (&group_path, json!({"title": "  "}), "title"),
        (&group_path, json!({"title": "x".repeat(201)}), "title"),
    ] {
        let response = send_json(&server, Method::PATCH, path, &alice.token, body).await;
        let error = assert_error(response, 422, "validation_error").await;
        assert!(error["error"]["fields"][field].is_string(), "{error}");
    }

    let members = format!("{group_path}/members");
    let response = send_json(
        &server,
        Method::POST,
        &members,
        &alice.token,
        json!({"user_ids": [carol.id]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let grown: Value = response.json().await.unwrap();
    assert_eq!(
        member_ids(&grown),
        [alice.id.clone(), bob.id.clone(), carol.id.clone()]
    );
    assert_eq!(
        server.get_json(&group_path, &carol.token).await["title"],
        "Dream team"
    );
    let response = send_json(
        &server,
        Method::POST,
        &format!("{direct_path}/members"),
        &alice.token,
        json!({"user_ids": [carol.id]}),
    )
    .await;
    assert_error(response, 422, "validation_error").await;
    let response = send_json(
        &server,
        Method::POST,
        &members,
        &alice.token,
        json!({"user_ids": [uuid::Uuid::now_v7()]}),
    )
    .await;
    let error = assert_error(response, 422, "validation_error").await;
    assert!(error["error"]["fields"]["user_ids"].is_string(), "{error}");

    // Bob says something, then leaves: the others keep the history.
    let (status, _) = server
        .say(&bob.token, &id_of(&group), json!({"text": "bye"}))
        .await;
    assert_eq!(status, 201);
    let leave = format!("{group_path}/members/me");
    let response = server
        .request(Method::DELETE, &leave, Some(&bob.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(
        server.get(&group_path, Some(&bob.token)).await,
        404,
        "not_found",
    )
    .await;
    let response = server
        .request(Method::DELETE, &leave, Some(&bob.token))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
    let seen = server.get_json(&group_path, &alice.token).await;
    assert_eq!(member_ids(&seen), [alice.id.clone(), carol.id.clone()]);
    let history = server
        .get_json(&format!("{group_path}/messages"), &carol.token)
        .await;
    assert_eq!(history[0]["text"], "bye");
    assert_eq!(history[0]["sender_id"], bob.id.as_str());
    let listed = server.get_json("/conversations", &bob.token).await;
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|c| id_of(c) != id_of(&group)));
    // A direct conversation cannot be left.
    let response = server
        .request(
            Method::DELETE,
            &format!("{direct_path}/members/me"),
            Some(&alice.token),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, 422, "validation_error").await;
}

async fn messages_have_a_gapless_seq_and_can_be_read_in_ranges(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let (_, direct) = server
        .conversation(&alice.token, json!({"member_ids": [bob.id]}))
        .await;
    let id = id_of(&direct);

    let (status, first) = server
        .say(&alice.token, &id, json!({"text": "  hello \n"}))
        .await;
    assert_eq!(status, 201, "{first}");
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "author",
            "client_id",
            "conversation_id",
            "created_at",
            "id",
            "image",
            "model",
            "provider",
            "sender_id",
            "seq",
            "status",
            "text"
        ]
    );
    assert_eq!(first["seq"], 1);
    assert_eq!(first["text"], "  hello \n", "stored exactly as sent");
    assert_eq!(first["author"], "user");
    assert_eq!(first["sender_id"], alice.id.as_str());
    assert_eq!(first["status"], "complete");
    assert_eq!(
        (first["provider"].clone(), first["model"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(
        (first["image"].clone(), first["client_id"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(first["conversation_id"], id.as_str());
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));

    // Idempotent with a client_id.
    let (status, keyed) = server
        .say(&bob.token, &id, json!({"text": "hi", "client_id": "c-1"}))
        .await;
    assert_eq!((status, keyed["seq"].as_u64()), (201, Some(2)));
    assert_eq!(keyed["client_id"], "c-1");
    let (status, repeat) = server
        .say(
            &bob.token,
            &id,
            json!({"text": "hi again", "client_id": "c-1"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(repeat, keyed);
    // The same key from someone else is their own.
    let (status, other) = server
        .say(
            &alice.token,
            &id,
            json!({"text": "me too", "client_id": "c-1"}),
        )
        .await;
    assert_eq!((status, other["seq"].as_u64()), (201, Some(3)));

    for (body, field) in [
        (json!({}), "text"),
        (json!({"text": ""}), "text"),
        (json!({"text": " \n\t "}), "text"),
        (json!({"text": "a\u{0}b"}), "text"),
        (json!({"text": "x".repeat(32_001)}), "text"),
        (json!({"text": 5}), "text"),
        (json!({"text": "x", "client_id": ""}), "client_id"),
        (
            json!({"text": "x", "client_id": "y".repeat(65)}),
            "client_id",
        ),
        (json!({"text": "x", "image_id": "nope"}), "image_id"),
        (
            json!({"text": "x", "image_id": uuid::Uuid::now_v7()}),
            "image_id",
        ),
    ] {
        let (status, error) = server.say(&alice.token, &id, body.clone()).await;
        assert_eq!(status, 422, "{body}: {error}");
        assert!(
            error["error"]["fields"][field].is_string(),
            "{body}: {error}"
        );
    }
    let (status, long) = server
        .say(&alice.token, &id, json!({"text": "é".repeat(32_000)}))
        .await;
    assert_eq!((status, long["seq"].as_u64()), (201, Some(4)));
    for n in 5..=8 {
        let (status, message) = server
            .say(&bob.token, &id, json!({"text": format!("m{n}")}))
            .await;
        assert_eq!((status, message["seq"].as_u64()), (201, Some(n)));
    }

    let path = format!("/conversations/{id}/messages");
    let seqs = |messages: &Value| -> Vec<u64> {
        messages
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        seqs(&server.get_json(&path, &alice.token).await),
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(
        seqs(
            &server
                .get_json(&format!("{path}?limit=3"), &alice.token)
                .await
        ),
        [6, 7, 8]
    );
    assert_eq!(
        seqs(
            &server
                .get_json(&format!("{path}?after=2&limit=3"), &bob.token)
                .await
        ),
        [3, 4, 5]
    );
    assert_eq!(
        seqs(
            &server
                .get_json(&format!("{path}?after=8"), &bob.token)
                .await
        ),
        Vec::<u64>::new()
    );
    assert_eq!(
        seqs(
            &server
                .get_json(&format!("{path}?after=0"), &bob.token)
                .await
        )
        .len(),
        8
    );
    assert_eq!(
        seqs(
            &server
                .get_json(&format!("{path}?before=4&limit=2"), &bob.token)
                .await
        ),
        [2, 3]
    );
    for (query, field) in [
        ("after=-1", "after"),
        ("after=x", "after"),
        ("before=-1", "before"),
        ("after=1&before=5", "before"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=1&limit=2", "limit"),
        ("after=1&after=2", "after"),
    ] {
        let response = server
            .get(&format!("{path}?{query}"), Some(&alice.token))
            .await;
        let error = assert_error(response, 422, "validation_error").await;
        assert!(
            error["error"]["fields"][field].is_string(),
            "{query}: {error}"
        );
    }

    // The list shows the last message; the most recently active first.
    let (_, group) = server
        .conversation(
            &bob.token,
            json!({"member_ids": [alice.id], "title": "Later"}),
        )
        .await;
    let listed = server.get_json("/conversations", &alice.token).await;
    assert_eq!(id_of(&listed[0]), id_of(&group));
    assert_eq!(id_of(&listed[1]), id);
    assert_eq!(listed[1]["last_message"]["seq"], 8);
    server.say(&alice.token, &id, json!({"text": "bump"})).await;
    let listed = server.get_json("/conversations", &alice.token).await;
    assert_eq!(id_of(&listed[0]), id);
}

async fn read_pointers_and_unread_counts(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let (_, direct) = server
        .conversation(&alice.token, json!({"member_ids": [bob.id]}))
        .await;
    let id = id_of(&direct);
    for text in ["one", "two", "three"] {
        server.say(&alice.token, &id, json!({"text": text})).await;
    }
    server.say(&bob.token, &id, json!({"text": "four"})).await;
    let path = format!("/conversations/{id}");
    let read = format!("{path}/read");
    let seen = server.get_json(&path, &bob.token).await;
    assert_eq!(
        (
            seen["unread_count"].as_u64(),
            seen["last_read_seq"].as_u64()
        ),
        (Some(3), Some(0))
    );
    let seen = server.get_json(&path, &alice.token).await;
    assert_eq!(seen["unread_count"], 1, "only what others wrote");

    let response = send_json(&server, Method::POST, &read, &bob.token, json!({"seq": 2})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let seen = server.get_json(&path, &bob.token).await;
    assert_eq!(
        (
            seen["unread_count"].as_u64(),
            seen["last_read_seq"].as_u64()
        ),
        (Some(1), Some(2))
    );
    // Never backwards; clamped to the latest.
    send_json(&server, Method::POST, &read, &bob.token, json!({"seq": 1})).await;
    assert_eq!(server.get_json(&path, &bob.token).await["last_read_seq"], 2);
    send_json(
        &server,
        Method::POST,
        &read,
        &bob.token,
        json!({"seq": 999}),
    )
    .await;
    let seen = server.get_json(&path, &bob.token).await;
    assert_eq!(
        (
            seen["unread_count"].as_u64(),
            seen["last_read_seq"].as_u64()
        ),
        (Some(0), Some(4))
    );
    // A whole number written with a fraction is that number.
    let response = send_json(
        &server,
        Method::POST,
        &read,
        &alice.token,
        json!({"seq": 3.0}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        server.get_json(&path, &alice.token).await["last_read_seq"],
        3
    );
    for body in [
        json!({"seq": -1}),
        json!({"seq": "1"}),
        json!({}),
        json!({"seq": 1.5}),
        json!({"seq": -1.0}),
        json!({"seq": 1e300}),
        json!({"seq": null}),
    ] {
        let response = send_json(&server, Method::POST, &read, &bob.token, body.clone()).await;
        let error = assert_error(response, 422, "validation_error").await;
        assert!(
            error["error"]["fields"]["seq"].is_string(),
            "{body}: {error}"
        );
    }
}

async fn conversations_are_paged_like_sessions(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let mut created = Vec::new();
    for title in ["a", "b", "c"] {
        let (_, group) = server
            .conversation(
                &alice.token,
                json!({"member_ids": [bob.id], "title": title}),
            )
            .await;
        created.push(id_of(&group));
    }
    let response = server
        .get("/conversations?limit=2", Some(&alice.token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = response.json().await.unwrap();
    assert_eq!(
        page.as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect::<Vec<_>>(),
        [created[2].clone(), created[1].clone()]
    );
    assert!(
        link.starts_with("</conversations?limit=2&cursor="),
        "{link}"
    );
    assert!(link.ends_with(">; rel=\"next\""), "{link}");
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let response = server.get(next, Some(&alice.token)).await;
    assert!(response.headers().get("link").is_none());
    let page: Value = response.json().await.unwrap();
    assert_eq!(
        page.as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect::<Vec<_>>(),
        [created[0].clone()]
    );
    for query in [
        "limit=0",
        "limit=201",
        "limit=x",
        "cursor=short",
        "cursor=a&cursor=b",
    ] {
        let response = server
            .get(&format!("/conversations?{query}"), Some(&alice.token))
            .await;
        assert_error(response, 422, "validation_error").await;
    }
}

async fn the_message_limit_is_429_with_retry_after(db: Db) {
    let Some(server) = TestServer::try_with(Options {
        conversation_messages_per_minute: 2,
        ..Options::on(db)
    })
    .await
    else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let (_, direct) = server
        .conversation(&alice.token, json!({"member_ids": [bob.id]}))
        .await;
    let id = id_of(&direct);
    // Rejected sends do not count.
    let (status, _) = server.say(&alice.token, &id, json!({"text": ""})).await;
    assert_eq!(status, 422);
    for _ in 0..2 {
        let (status, _) = server.say(&alice.token, &id, json!({"text": "x"})).await;
        assert_eq!(status, 201);
    }
    let response = server
        .post(
            &format!("/conversations/{id}/messages"),
            Some(&alice.token),
            &json!({"text": "x"}),
        )
        .await;
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_error(response, 429, "rate_limited").await;
    // Per user.
    let (status, _) = server.say(&bob.token, &id, json!({"text": "x"})).await;
    assert_eq!(status, 201);
    let history = server
        .get_json(&format!("/conversations/{id}/messages"), &alice.token)
        .await;
    assert_eq!(history.as_array().unwrap().len(), 3);
}

async fn everything_is_404_for_those_who_are_not_members(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let carol: Member = server.member("carol", None).await;
    let (_, group) = server
        .conversation(
            &alice.token,
            json!({"member_ids": [bob.id], "title": "Private"}),
        )
        .await;
    let id = id_of(&group);
    server
        .say(&alice.token, &id, json!({"text": "secret"}))
        .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    for conversation in [id.as_str(), unknown.as_str(), "not-a-uuid", "1"] {
        let base = format!("/conversations/{conversation}");
        let token = Some(carol.token.as_str());
        let requests = [
            server.request(Method::GET, &base, token),
            server
                .request(Method::PATCH, &base, token)
                .json(&json!({"title": "Mine"})),
            server.request(Method::GET, &format!("{base}/messages"), token),
            server
                .request(Method::POST, &format!("{base}/messages"), token)
                .json(&json!({"text": "hi"})),
            server
                .request(Method::POST, &format!("{base}/read"), token)
                .json(&json!({"seq": 1})),
            server
                .request(Method::POST, &format!("{base}/members"), token)
                .json(&json!({"user_ids": [alice.id]})),
            server.request(Method::DELETE, &format!("{base}/members/me"), token),
        ];
        for request in requests {
            let response = request.send().await.unwrap();
            let url = response.url().clone();
            let error = assert_error(response, 404, "not_found").await;
            assert!(!error.to_string().contains("Private"), "{url}: {error}");
        }
    }
    let group = server
        .get_json(&format!("/conversations/{id}"), &alice.token)
        .await;
    assert_eq!(group["title"], "Private");
    assert_eq!(group["members"].as_array().unwrap().len(), 2);
    assert_eq!(group["last_message"]["text"], "secret");
    assert!(server
        .get_json("/conversations", &carol.token)
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

async fn every_new_path_answers_other_methods_with_405_and_allow(db: Db) {
    let Some(server) = messenger_server(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let id = uuid::Uuid::now_v7();
    for (method, path, allow) in [
        (Method::POST, "/auth/me".to_owned(), "GET, PATCH"),
        (Method::GET, "/auth/me/avatar".to_owned(), "PUT, DELETE"),
        (Method::POST, "/avatars/x.png".to_owned(), "GET"),
        (Method::POST, "/users/search".to_owned(), "GET"),
        (Method::DELETE, format!("/users/{id}"), "GET"),
        (Method::GET, "/media".to_owned(), "POST"),
        (Method::DELETE, format!("/media/{id}"), "GET"),
        (Method::PUT, "/conversations".to_owned(), "GET, POST"),
        (Method::DELETE, format!("/conversations/{id}"), "GET, PATCH"),
        (Method::GET, format!("/conversations/{id}/members"), "POST"),
        (
            Method::GET,
            format!("/conversations/{id}/members/me"),
            "DELETE",
        ),
        (
            Method::DELETE,
            format!("/conversations/{id}/messages"),
            "GET, POST",
        ),
        (Method::GET, format!("/conversations/{id}/read"), "POST"),
    ] {
        let response = server
            .request(method.clone(), &path, Some(&alice.token))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response
                .headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().to_owned()),
            Some(allow.to_owned()),
            "{method} {path}"
        );
        assert_error(response, 405, "method_not_allowed").await;
        let response = server
            .request(Method::OPTIONS, &path, None)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "OPTIONS {path}");
        assert_eq!(
            response.headers()["allow"],
            format!("{allow}, OPTIONS").as_str(),
            "OPTIONS {path}"
        );
    }
}

on_every_store!(
    direct_conversations_are_unique_per_pair,
    member_lists_are_checked,
    groups_have_at_most_100_members,
    renames_members_and_leaving,
    messages_have_a_gapless_seq_and_can_be_read_in_ranges,
    read_pointers_and_unread_counts,
    conversations_are_paged_like_sessions,
    the_message_limit_is_429_with_retry_after,
    everything_is_404_for_those_who_are_not_members,
    every_new_path_answers_other_methods_with_405_and_allow,
);
