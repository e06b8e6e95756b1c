//! Fixtures shared by the ChatService test files.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use chatcore::testing::ScriptedProvider;
use chatcore::{
    ChatConfig, ChatService, LocalEventBus, MemoryStore, NewUser, ReplyEvent, ReplyStream, Store,
    UserId,
};
use futures_util::StreamExt;

/// A service over a memory store, a scripted provider and a local bus, with one user.
pub struct Fixture {
    pub store: Arc<MemoryStore>,
    pub provider: Arc<ScriptedProvider>,
    pub bus: Arc<LocalEventBus>,
    pub chat: ChatService,
    pub user: UserId,
}

pub async fn add_user(store: &MemoryStore, name: &str) -> UserId {
    let user = store
        .create_user(NewUser {
            id: UserId::new(),
            email: format!("{name}@example.com"),
            username: name.to_owned(),
            display_name: name.to_owned(),
            password_hash: "x".to_owned(),
            created_at: chatcore::clock::now(),
        })
        .await
        .unwrap();
    user.id
}

pub async fn fixture_with(provider: ScriptedProvider, config: ChatConfig) -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let provider = provider.shared();
    let bus = Arc::new(LocalEventBus::default());
    let chat = ChatService::with_config(store.clone(), provider.clone(), bus.clone(), config);
    let user = add_user(&store, "alice").await;
    Fixture {
        store,
        provider,
        bus,
        chat,
        user,
    }
}

pub async fn fixture(provider: ScriptedProvider) -> Fixture {
    fixture_with(provider, ChatConfig::default()).await
}

pub fn words(text: &str, delay_ms: u64) -> ScriptedProvider {
    ScriptedProvider::words("scripted", text, Duration::from_millis(delay_ms))
}

pub async fn collect(mut events: ReplyStream) -> (String, ReplyEvent) {
    let mut text = String::new();
    while let Some(event) = events.next().await {
        match event {
            ReplyEvent::Delta { text: piece, .. } => text.push_str(&piece),
            ReplyEvent::Snapshot { message } => text = message.content,
            end => return (text, end),
        }
    }
    panic!("the reply stream ended without an outcome");
}
