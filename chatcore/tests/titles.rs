//! Provider-generated session titles: asked for after the first reply,
//! never holding it up, never overwriting a rename. The text rules
//! themselves are tested in `title_text.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use chatcore::testing::{ScriptStep, ScriptedProvider};
use chatcore::titles;
use chatcore::{
    ChatConfig, EventBus, LlmErrorKind, MessageStatus, ReplyEvent, Role, UserEvent, UserEventStream,
};
use futures_util::{FutureExt, StreamExt};
use support::{collect, fixture_with, words, Fixture};

const LIMIT: Duration = Duration::from_secs(5);

fn config() -> ChatConfig {
    ChatConfig {
        title_timeout: Some(LIMIT),
        ..ChatConfig::default()
    }
}

fn answer(text: &str) -> Vec<ScriptStep> {
    vec![ScriptStep::Text(text.to_owned())]
}

/// Replies "Sure."; its first title, "Generated title", comes after 2 s.
fn slow_title() -> ScriptedProvider {
    let provider = words("Sure.", 0);
    provider.push_completion(vec![
        ScriptStep::Sleep(Duration::from_secs(2)),
        ScriptStep::Text("Generated title".to_owned()),
    ]);
    provider
}

async fn title_of(f: &Fixture, session: chatcore::SessionId) -> (String, bool) {
    let session = f.chat.get_session(f.user, session).await.unwrap().session;
    (session.title, session.title_explicit)
}

/// On the paused clock a sleep returns only once every other task waits on
/// a timer or is done, so after it any title request has run to its end.
async fn settle() {
    tokio::time::sleep(LIMIT * 4).await;
}

/// The session titles the bus carried so far.
fn titles_seen(events: &mut UserEventStream) -> Vec<String> {
    let mut seen = Vec::new();
    while let Some(Some(event)) = events.next().now_or_never() {
        if let UserEvent::SessionUpdated { session } = event {
            seen.push(session.title);
        }
    }
    seen
}

#[tokio::test(start_paused = true)]
async fn a_provider_title_replaces_the_derived_one_after_the_first_reply() {
    let provider = words("Mix flour, water and salt.", 0);
    provider.push_completion(answer("\"Baking sourdough at home\""));
    let f = fixture_with(provider, config()).await;
    let mut events = f.bus.subscribe(f.user).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let sent = f
        .chat
        .send(f.user, session.id, "How do I **bake** sourdough?")
        .await
        .unwrap();
    assert_eq!(sent.assistant_message.content, "Mix flour, water and salt.");
    settle().await;

    assert_eq!(
        title_of(&f, session.id).await,
        ("Baking sourdough at home".to_owned(), false)
    );
    assert_eq!(
        titles_seen(&mut events),
        [
            "New chat",
            "How do I bake sourdough?",
            "Baking sourdough at home"
        ]
    );
    let requests = f.provider.completion_requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.system.as_deref(), Some(titles::TITLE_INSTRUCTION));
    assert_eq!(
        request.max_output_tokens,
        Some(titles::TITLE_MAX_OUTPUT_TOKENS)
    );
    assert_eq!(request.timeout, Some(LIMIT));
    assert_eq!(request.messages.len(), 1);
    assert_eq!(request.messages[0].role, Role::User);
    let prompt = &request.messages[0].content;
    assert!(prompt.contains("How do I **bake** sourdough?"), "{prompt}");
    assert!(prompt.contains("Mix flour, water and salt."), "{prompt}");
    // The reply itself went through `stream` once; the title request did not.
    assert_eq!(f.provider.calls(), 1);
    assert_eq!(f.provider.requests()[0].timeout, None);
}

#[tokio::test(start_paused = true)]
async fn the_title_request_quotes_at_most_a_few_thousand_characters() {
    let long_reply = "word ".repeat(3_000);
    let provider = words(long_reply.trim(), 0);
    provider.push_completion(answer("Long things"));
    let f = fixture_with(provider, config()).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    f.chat
        .send(f.user, session.id, &"question ".repeat(2_000))
        .await
        .unwrap();
    settle().await;
    let prompt = &f.provider.completion_requests()[0].messages[0].content;
    let limit = 2 * titles::TITLE_CONTEXT_CHARS + 200;
    assert!(prompt.chars().count() < limit, "{}", prompt.chars().count());
    assert_eq!(title_of(&f, session.id).await.0, "Long things");
}

#[tokio::test(start_paused = true)]
async fn a_failing_title_request_keeps_the_derived_title_and_the_reply() {
    let provider = words("The answer.", 0);
    provider.push_completion(vec![ScriptStep::Fail(LlmErrorKind::Unavailable)]);
    let f = fixture_with(provider, config()).await;
    let mut events = f.bus.subscribe(f.user).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let sent = f.chat.send(f.user, session.id, "A question").await.unwrap();
    settle().await;
    assert_eq!(sent.assistant_message.content, "The answer.");
    assert_eq!(sent.assistant_message.status, MessageStatus::Complete);
    assert_eq!(f.provider.completion_calls(), 1);
    assert_eq!(title_of(&f, session.id).await.0, "A question");
    assert_eq!(titles_seen(&mut events), ["New chat", "A question"]);
    let stored = f.chat.get_session(f.user, session.id).await.unwrap();
    assert_eq!(stored.messages[1], sent.assistant_message);
}

#[tokio::test(start_paused = true)]
async fn a_slow_title_request_is_dropped_at_the_limit_and_never_delays_the_reply() {
    let provider = words("one two three", 100);
    provider.push_completion(vec![
        ScriptStep::Sleep(LIMIT * 10),
        ScriptStep::Text("Too late".to_owned()),
    ]);
    let f = fixture_with(provider, config()).await;
    let mut events = f.bus.subscribe(f.user).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    let started_at = tokio::time::Instant::now();
    let started = f
        .chat
        .start_reply(f.user, session.id, "Count")
        .await
        .unwrap();
    let (text, end) = collect(started.events).await;
    let reply_took = started_at.elapsed();
    assert_eq!(text, "one two three");
    let ReplyEvent::Done { message, .. } = end else {
        panic!("{end:?}")
    };
    assert_eq!(message.status, MessageStatus::Complete);
    assert!(reply_took >= Duration::from_millis(300), "{reply_took:?}");
    assert!(reply_took < LIMIT, "{reply_took:?}");

    tokio::time::sleep(LIMIT * 20).await;
    assert_eq!(f.provider.completion_calls(), 1);
    assert_eq!(title_of(&f, session.id).await.0, "Count");
    assert_eq!(titles_seen(&mut events), ["New chat", "Count"]);
}

#[tokio::test(start_paused = true)]
async fn a_rename_before_the_title_lands_is_never_overwritten() {
    let f = fixture_with(slow_title(), config()).await;
    let mut events = f.bus.subscribe(f.user).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    f.chat
        .send(f.user, session.id, "Plan a trip")
        .await
        .unwrap();
    f.chat
        .rename_session(f.user, session.id, "My trip")
        .await
        .unwrap();
    settle().await;
    assert_eq!(f.provider.completion_calls(), 1);
    assert_eq!(title_of(&f, session.id).await, ("My trip".to_owned(), true));
    assert_eq!(
        titles_seen(&mut events),
        ["New chat", "Plan a trip", "My trip"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_session_deleted_before_the_title_lands_gets_no_update() {
    let f = fixture_with(slow_title(), config()).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    f.chat
        .send(f.user, session.id, "Plan a trip")
        .await
        .unwrap();
    let mut events = f.bus.subscribe(f.user).await;
    f.chat.delete_session(f.user, session.id).await.unwrap();
    settle().await;
    assert_eq!(f.provider.completion_calls(), 1);
    assert!(titles_seen(&mut events).is_empty());
    assert!(f.chat.get_session(f.user, session.id).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn only_a_completed_first_reply_of_an_untitled_session_asks_for_a_title() {
    let provider = words("Fine.", 0).with_default_completion(answer("Generated"));
    let f = fixture_with(provider, config()).await;

    let titled = f.chat.create_session(f.user, Some("Mine")).await.unwrap();
    f.chat.send(f.user, titled.id, "Hello").await.unwrap();
    settle().await;
    assert_eq!(f.provider.completion_calls(), 0, "explicit title");
    assert_eq!(title_of(&f, titled.id).await.0, "Mine");

    let untitled = f.chat.create_session(f.user, None).await.unwrap();
    f.chat.send(f.user, untitled.id, "First").await.unwrap();
    settle().await;
    assert_eq!(f.provider.completion_calls(), 1);
    assert_eq!(title_of(&f, untitled.id).await.0, "Generated");
    f.chat.send(f.user, untitled.id, "Second").await.unwrap();
    settle().await;
    assert_eq!(f.provider.completion_calls(), 1, "second reply");

    let failed = f.chat.create_session(f.user, None).await.unwrap();
    f.provider
        .push_script(vec![ScriptStep::Fail(LlmErrorKind::Unavailable)]);
    assert!(f.chat.send(f.user, failed.id, "Doomed").await.is_err());
    settle().await;
    assert_eq!(f.provider.completion_calls(), 1, "reply ended error");
    assert_eq!(title_of(&f, failed.id).await.0, "Doomed");

    let stopped = f.chat.create_session(f.user, None).await.unwrap();
    f.provider.push_script(vec![
        ScriptStep::Text("partial".to_owned()),
        ScriptStep::Hang,
    ]);
    let mut started = f
        .chat
        .start_reply(f.user, stopped.id, "Halt")
        .await
        .unwrap();
    // Stop once the provider streams, so that the script is used up.
    assert!(matches!(
        started.events.next().await,
        Some(ReplyEvent::Delta { .. })
    ));
    let message = f.chat.stop(f.user, stopped.id).await.unwrap();
    assert_eq!(message.status, MessageStatus::Stopped);
    settle().await;
    assert_eq!(f.provider.completion_calls(), 1, "reply stopped");

    let empty = f.chat.create_session(f.user, None).await.unwrap();
    f.provider.push_script(Vec::new());
    let sent = f.chat.send(f.user, empty.id, "Nothing").await.unwrap();
    assert_eq!(sent.assistant_message.content, "");
    settle().await;
    assert_eq!(f.provider.completion_calls(), 1, "empty reply");
}

#[tokio::test(start_paused = true)]
async fn title_generation_can_be_turned_off() {
    let provider = words("Fine.", 0).with_default_completion(answer("Generated"));
    let config = ChatConfig {
        title_timeout: None,
        ..ChatConfig::default()
    };
    let f = fixture_with(provider, config).await;
    let session = f.chat.create_session(f.user, None).await.unwrap();
    f.chat
        .send(f.user, session.id, "First words")
        .await
        .unwrap();
    settle().await;
    assert_eq!(f.provider.completion_calls(), 0);
    assert_eq!(title_of(&f, session.id).await.0, "First words");
    assert_eq!(
        ChatConfig::default().title_timeout,
        Some(titles::DEFAULT_TITLE_TIMEOUT)
    );
}

#[tokio::test(start_paused = true)]
async fn provider_answers_are_cleaned_before_they_are_stored() {
    let cases = [
        ("Title: \"Sourdough basics.\"", "Sourdough basics"),
        ("**Sourdough** _basics_", "Sourdough basics"),
        ("Sourdough basics\nand more", "Ask about bread"),
        ("", "Ask about bread"),
        (
            "An extremely detailed and long guide to sourdough bread for beginners",
            "An extremely detailed and long guide to sourdough",
        ),
    ];
    for (raw, expected) in cases {
        let provider = words("Sure.", 0);
        provider.push_completion(answer(raw));
        let f = fixture_with(provider, config()).await;
        let session = f.chat.create_session(f.user, None).await.unwrap();
        f.chat
            .send(f.user, session.id, "Ask about bread")
            .await
            .unwrap();
        settle().await;
        assert_eq!(title_of(&f, session.id).await.0, expected, "{raw:?}");
    }
}

/// A provider whose whole answers stop at the token limit.
struct CutShort;

#[chatcore::async_trait]
impl chatcore::LlmProvider for CutShort {
    fn name(&self) -> &str {
        "cut"
    }
    fn model(&self) -> &str {
        "cut-1"
    }
    async fn stream(
        &self,
        _: chatcore::LlmRequest,
    ) -> Result<chatcore::LlmStream, chatcore::LlmError> {
        let finish = chatcore::Finish {
            provider: "cut".into(),
            model: "cut-1".into(),
            reason: chatcore::FinishReason::Stop,
            usage: None,
        };
        let events = vec![
            Ok(chatcore::LlmEvent::Delta("A reply.".into())),
            Ok(chatcore::LlmEvent::Finished(finish)),
        ];
        Ok(Box::pin(futures_util::stream::iter(events)))
    }
    async fn complete(
        &self,
        _: chatcore::LlmRequest,
    ) -> Result<chatcore::Completion, chatcore::LlmError> {
        Ok(chatcore::Completion {
            text: "Baking sourdough at".into(),
            finish: chatcore::Finish {
                provider: "cut".into(),
                model: "cut-1".into(),
                reason: chatcore::FinishReason::Length,
                usage: None,
            },
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_title_cut_by_the_token_limit_is_rejected() {
    let store = std::sync::Arc::new(chatcore::MemoryStore::new());
    let user = support::add_user(&store, "alice").await;
    let chat = chatcore::ChatService::with_config(
        store,
        std::sync::Arc::new(CutShort),
        std::sync::Arc::new(chatcore::LocalEventBus::default()),
        config(),
    );
    let session = chat.create_session(user, None).await.unwrap();
    chat.send(user, session.id, "How do I bake sourdough?")
        .await
        .unwrap();
    settle().await;
    let title = chat
        .get_session(user, session.id)
        .await
        .unwrap()
        .session
        .title;
    assert_eq!(title, "How do I bake sourdough?");
}
