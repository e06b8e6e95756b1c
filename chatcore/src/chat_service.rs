//! [`ChatService`]: chat sessions, messages and server-owned replies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::clock;
use crate::cursor;
use crate::domain::{ChatMessage, ChatSession, MessageStatus, Role, SessionCursor};
use crate::error::ServiceError;
use crate::events::{EventBus, UserEvent};
use crate::generation::{self, CancelReason, Generation, ReplyEvent, ReplyStream, TaskContext};
use crate::ids::{MessageId, SessionId, UserId};
use crate::llm::{LlmMessage, LlmProvider, LlmRequest, ProviderStatus};
use crate::rate_limit::SlidingWindow;
use crate::store::Store;
use crate::titles::{self, TitleJob, DEFAULT_TITLE};
use crate::validate;

/// Default page size of the session list.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page size of the session list.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Settings of a [`ChatService`].
#[derive(Clone, Debug)]
pub struct ChatConfig {
    /// How often a streaming reply's text is written to the store (at most
    /// this long between flushes while text arrives). Default 1 s.
    pub flush_interval: Duration,
    /// Accepted messages per user per minute; 0 turns the limit off. Default 30.
    pub messages_per_minute: u32,
    /// System instruction sent with every request.
    pub system_prompt: Option<String>,
    /// How many of the latest messages are sent as history. Default 50.
    pub history_messages: usize,
    /// Sampling temperature passed to providers.
    pub temperature: Option<f32>,
    /// Output-token bound passed to providers.
    pub max_output_tokens: Option<u32>,
    /// How long `stop`, `delete` and `shutdown` wait for a reply to be stored. Default 10 s.
    pub stop_timeout: Duration,
    /// Provider-generated titles: when the first reply of a session without
    /// an explicit title completes with text, the provider is asked for a
    /// title ([`titles::title_request`]) in a task of its own, and this is
    /// the time limit of that whole request. The reply never waits for it;
    /// a failed, late or unusable answer keeps the derived title. `None`:
    /// derived titles only, no extra request. Default: on, 5 s
    /// ([`titles::DEFAULT_TITLE_TIMEOUT`]). Turn it off for a provider that
    /// cannot write titles (an echo, the offline stand-in).
    pub title_timeout: Option<Duration>,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            flush_interval: Duration::from_secs(1),
            messages_per_minute: 30,
            system_prompt: None,
            history_messages: 50,
            temperature: None,
            max_output_tokens: None,
            stop_timeout: Duration::from_secs(10),
            title_timeout: Some(titles::DEFAULT_TITLE_TIMEOUT),
        }
    }
}

/// A page of the session list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionPage {
    /// Sessions, most recently updated first.
    pub sessions: Vec<ChatSession>,
    /// Opaque cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// A session with its messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionWithMessages {
    /// The session.
    pub session: ChatSession,
    /// Its messages in the order they were written.
    pub messages: Vec<ChatMessage>,
}

/// The result of a non-streamed [`ChatService::send`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentReply {
    /// The stored user message.
    pub user_message: ChatMessage,
    /// The stored reply.
    pub assistant_message: ChatMessage,
    /// The provider that answered.
    pub provider: Option<String>,
}

/// A reply that has started: both messages are stored, the reply runs in
/// the background, and `events` follows it from its first delta.
pub struct StartedReply {
    /// The stored user message.
    pub user_message: ChatMessage,
    /// The assistant message as created (`streaming`, empty).
    pub assistant_message: ChatMessage,
    /// Deltas, then `Done` or `Error`. Dropping it does not stop the reply.
    pub events: ReplyStream,
}

impl std::fmt::Debug for StartedReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartedReply")
            .field("user_message", &self.user_message)
            .field("assistant_message", &self.assistant_message)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn Store>,
    provider: Arc<dyn LlmProvider>,
    events: Arc<dyn EventBus>,
    config: ChatConfig,
    messages: SlidingWindow<UserId>,
    running: Mutex<HashMap<SessionId, Arc<Generation>>>,
}

/// Chat sessions and replies, with ownership checks, soft delete, titles,
/// rate limits and server-owned generation. Cheap to clone.
#[derive(Clone)]
pub struct ChatService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ChatService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatService")
            .field("config", &self.inner.config)
            .field("running", &self.running_count())
            .finish_non_exhaustive()
    }
}

impl ChatService {
    /// A service over a store, a provider (usually a fallback chain) and an
    /// event bus, with default settings.
    pub fn new(
        store: Arc<dyn Store>,
        provider: Arc<dyn LlmProvider>,
        events: Arc<dyn EventBus>,
    ) -> Self {
        Self::with_config(store, provider, events, ChatConfig::default())
    }

    /// Same as [`ChatService::new`] with explicit settings.
    pub fn with_config(
        store: Arc<dyn Store>,
        provider: Arc<dyn LlmProvider>,
        events: Arc<dyn EventBus>,
        config: ChatConfig,
    ) -> Self {
        let messages = SlidingWindow::new(config.messages_per_minute, Duration::from_secs(60));
        ChatService {
            inner: Arc::new(Inner {
                store,
                provider,
                events,
                config,
                messages,
                running: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The store behind the service.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The event bus behind the service.
    pub fn events(&self) -> &Arc<dyn EventBus> {
        &self.inner.events
    }

    /// The providers and their state.
    pub fn provider_status(&self) -> Vec<ProviderStatus> {
        self.inner.provider.status()
    }

    fn running(&self) -> MutexGuard<'_, HashMap<SessionId, Arc<Generation>>> {
        match self.inner.running.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// How many replies are being generated right now.
    pub fn running_count(&self) -> usize {
        self.running().len()
    }

    /// Start-up recovery: replies left `streaming` by a previous process are
    /// marked `interrupted`. Call once before serving.
    pub async fn recover(&self) -> Result<u64, ServiceError> {
        let count = self.inner.store.interrupt_streaming().await?;
        if count > 0 {
            tracing::warn!(count, "marked replies of a previous run as interrupted");
        }
        Ok(count)
    }

    async fn owned_session(
        &self,
        user_id: UserId,
        id: SessionId,
    ) -> Result<ChatSession, ServiceError> {
        self.inner
            .store
            .get_session(user_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("session"))
    }

    async fn publish(&self, user_id: UserId, event: UserEvent) {
        self.inner.events.publish(user_id, event).await;
    }

    /// Creates a session; without a title it is "New chat" until the first
    /// message gives it one.
    pub async fn create_session(
        &self,
        user_id: UserId,
        title: Option<&str>,
    ) -> Result<ChatSession, ServiceError> {
        let (title, explicit) = match title {
            Some(raw) => (validate::title(raw)?, true),
            None => (DEFAULT_TITLE.to_owned(), false),
        };
        let now = clock::now();
        let session = ChatSession {
            id: SessionId::new(),
            user_id,
            title,
            title_explicit: explicit,
            created_at: now,
            updated_at: now,
        };
        let session = self.inner.store.create_session(session).await?;
        self.publish(
            user_id,
            UserEvent::SessionUpdated {
                session: session.clone(),
            },
        )
        .await;
        Ok(session)
    }

    /// A page of the user's sessions, most recently updated first.
    /// `limit` is 1..=200 (default 50); `cursor` comes from a previous page.
    pub async fn list_sessions(
        &self,
        user_id: UserId,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<SessionPage, ServiceError> {
        let limit = cursor::page_limit(limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let cursor = cursor
            .map(|c| cursor::decode(c, "cursor"))
            .transpose()?
            .map(|(updated_at, id)| SessionCursor {
                updated_at,
                id: SessionId::from(id),
            });
        let sessions = self
            .inner
            .store
            .list_sessions(user_id, limit + 1, cursor)
            .await?;
        let (sessions, next_cursor) =
            cursor::split_page(sessions, limit, |s| (s.updated_at, s.id.as_uuid()));
        Ok(SessionPage {
            sessions,
            next_cursor,
        })
    }

    /// A session and its messages. A running reply appears as `streaming`
    /// with the text so far.
    pub async fn get_session(
        &self,
        user_id: UserId,
        id: SessionId,
    ) -> Result<SessionWithMessages, ServiceError> {
        let session = self.owned_session(user_id, id).await?;
        let mut messages = self.inner.store.list_messages(id).await?;
        let live = self.running().get(&id).cloned();
        if let Some(generation) = live {
            let text = generation.current_text();
            if let Some(message) = messages
                .iter_mut()
                .find(|m| m.id == generation.message_id() && m.status == MessageStatus::Streaming)
            {
                message.content = text;
            }
        }
        Ok(SessionWithMessages { session, messages })
    }

    /// Renames a session; its title becomes explicit (never replaced by a derived one).
    pub async fn rename_session(
        &self,
        user_id: UserId,
        id: SessionId,
        title: &str,
    ) -> Result<ChatSession, ServiceError> {
        let title = validate::title(title)?;
        let session = self
            .inner
            .store
            .rename_session(user_id, id, &title, clock::now())
            .await
            .map_err(|e| match e {
                crate::store::StoreError::NotFound => ServiceError::not_found("session"),
                other => other.into(),
            })?;
        self.publish(
            user_id,
            UserEvent::SessionUpdated {
                session: session.clone(),
            },
        )
        .await;
        Ok(session)
    }

    /// Soft-deletes a session (rows stay) and stops a reply running in it.
    pub async fn delete_session(&self, user_id: UserId, id: SessionId) -> Result<(), ServiceError> {
        self.inner
            .store
            .delete_session(user_id, id)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::NotFound => ServiceError::not_found("session"),
                other => other.into(),
            })?;
        let live = self.running().get(&id).cloned();
        if let Some(generation) = live {
            generation.cancel(CancelReason::Stop);
            let _ =
                tokio::time::timeout(self.inner.config.stop_timeout, generation.finished()).await;
        }
        self.publish(user_id, UserEvent::SessionDeleted { session_id: id })
            .await;
        Ok(())
    }

    /// Stores the user message, generates the reply and waits for it.
    /// Every provider failing is `LlmUnavailable`; the user message (and the
    /// failed reply, status `error`) stay stored.
    pub async fn send(
        &self,
        user_id: UserId,
        session_id: SessionId,
        content: &str,
    ) -> Result<SentReply, ServiceError> {
        let started = self.start_reply(user_id, session_id, content).await?;
        let outcome = last_event(started.events).await;
        match outcome {
            Some(ReplyEvent::Done { message, provider }) => Ok(SentReply {
                user_message: started.user_message,
                assistant_message: message,
                provider,
            }),
            Some(ReplyEvent::Error {
                code,
                message,
                stored,
                ..
            }) if code == "llm_unavailable" => {
                Err(ServiceError::LlmUnavailable(crate::llm::LlmError::new(
                    stored
                        .provider
                        .unwrap_or_else(|| self.inner.provider.name().to_owned()),
                    crate::llm::LlmErrorKind::AllFailed,
                    message,
                )))
            }
            Some(ReplyEvent::Error { message, .. }) => Err(ServiceError::Unavailable(message)),
            _ => Err(ServiceError::Unavailable(
                "the reply ended unexpectedly".to_owned(),
            )),
        }
    }

    /// Starts a reply owned by the service: checks the content, ownership,
    /// that no other reply runs in the session (`Conflict`) and the message
    /// limit (`RateLimited`), stores the user message (durable before any
    /// provider call) and the assistant message (`streaming`), then
    /// generates in a background task that outlives the caller.
    pub async fn start_reply(
        &self,
        user_id: UserId,
        session_id: SessionId,
        content: &str,
    ) -> Result<StartedReply, ServiceError> {
        let content = validate::content(content)?;
        let session = self.owned_session(user_id, session_id).await?;

        let user_time = clock::now();
        let user_message = ChatMessage {
            id: MessageId::new(),
            session_id,
            role: Role::User,
            content: content.to_owned(),
            status: MessageStatus::Complete,
            provider: None,
            model: None,
            usage: None,
            timestamp: user_time,
        };
        let assistant_message = ChatMessage {
            id: MessageId::new(),
            session_id,
            role: Role::Assistant,
            content: String::new(),
            status: MessageStatus::Streaming,
            provider: None,
            model: None,
            usage: None,
            timestamp: clock::now(),
        };
        let generation = Generation::new(user_id, assistant_message.clone());
        {
            let mut running = self.running();
            if running.contains_key(&session_id) {
                return Err(ServiceError::Conflict {
                    message: "a reply is already being generated in this session".to_owned(),
                    fields: Default::default(),
                });
            }
            if let Err(retry_after) = self.inner.messages.try_acquire(&user_id) {
                return Err(ServiceError::RateLimited { retry_after });
            }
            running.insert(session_id, Arc::clone(&generation));
        }
        match self
            .store_turn(&session, user_message, assistant_message, &generation)
            .await
        {
            Ok(started) => Ok(started),
            Err(error) => {
                self.release(&generation);
                Err(error)
            }
        }
    }

    async fn store_turn(
        &self,
        session: &ChatSession,
        user_message: ChatMessage,
        assistant_message: ChatMessage,
        generation: &Arc<Generation>,
    ) -> Result<StartedReply, ServiceError> {
        let store = &self.inner.store;
        let depth = u32::try_from(self.inner.config.history_messages.max(1)).unwrap_or(u32::MAX);
        let history = store.recent_messages(session.id, depth).await?;
        // One write for the turn: the user message (durable before any
        // provider call) and the assistant's `streaming` placeholder.
        let mut stored = store
            .append_messages(vec![user_message, assistant_message])
            .await?
            .into_iter();
        let (Some(user_message), Some(assistant_message)) = (stored.next(), stored.next()) else {
            return Err(ServiceError::Unavailable(
                "the store did not return the stored turn".to_owned(),
            ));
        };
        self.publish(
            session.user_id,
            UserEvent::Message {
                message: user_message.clone(),
            },
        )
        .await;
        let first_turn = history.is_empty() && !session.title_explicit;
        if first_turn {
            let title = titles::derive_title(&user_message.content);
            if let Some(updated) = store.set_derived_title(session.id, &title).await? {
                self.publish(
                    session.user_id,
                    UserEvent::SessionUpdated { session: updated },
                )
                .await;
            }
        }
        self.publish(
            session.user_id,
            UserEvent::Message {
                message: assistant_message.clone(),
            },
        )
        .await;

        let request = self.request_for(&history, &user_message);
        let title_job = self
            .inner
            .config
            .title_timeout
            .filter(|_| first_turn)
            .map(|timeout| TitleJob {
                user_id: session.user_id,
                session_id: session.id,
                first_message: user_message.content.clone(),
                timeout,
            });
        let events = generation.subscribe_from_start();
        let context = TaskContext {
            store: Arc::clone(store),
            provider: Arc::clone(&self.inner.provider),
            events: Arc::clone(&self.inner.events),
            flush_interval: self.inner.config.flush_interval,
        };
        let service = self.clone();
        let task_generation = Arc::clone(generation);
        tokio::spawn(async move {
            let finished = Arc::clone(&task_generation);
            let releasing = service.clone();
            let stored = generation::run(task_generation, context, request, move || {
                releasing.release(&finished)
            })
            .await;
            if let Some(job) = title_job {
                service.ask_for_title(job, stored);
            }
        });
        Ok(StartedReply {
            user_message,
            assistant_message,
            events,
        })
    }

    /// After a session's first reply: asks for a generated title in a task
    /// of its own, when the reply completed with text.
    fn ask_for_title(&self, job: TitleJob, reply: ChatMessage) {
        if reply.status != MessageStatus::Complete || reply.content.trim().is_empty() {
            return;
        }
        let inner = &self.inner;
        tokio::spawn(job.run(
            reply.content,
            Arc::clone(&inner.provider),
            Arc::clone(&inner.store),
            Arc::clone(&inner.events),
        ));
    }

    /// Frees the session's slot if `generation` still holds it.
    fn release(&self, generation: &Arc<Generation>) {
        let mut running = self.running();
        if running
            .get(&generation.session_id)
            .is_some_and(|current| Arc::ptr_eq(current, generation))
        {
            running.remove(&generation.session_id);
        }
    }

    /// The history sent to the provider: the latest messages with text,
    /// consecutive turns of one role merged, starting with a user turn.
    fn request_for(&self, history: &[ChatMessage], user_message: &ChatMessage) -> LlmRequest {
        let config = &self.inner.config;
        let mut turns: Vec<LlmMessage> = Vec::new();
        let usable = history
            .iter()
            .filter(|m| !m.content.trim().is_empty())
            .chain(std::iter::once(user_message));
        let all: Vec<&ChatMessage> = usable.collect();
        let start = all.len().saturating_sub(config.history_messages.max(1));
        for message in &all[start..] {
            match turns.last_mut() {
                Some(last) if last.role == message.role => {
                    last.content.push_str("\n\n");
                    last.content.push_str(&message.content);
                }
                _ => turns.push(LlmMessage {
                    role: message.role,
                    content: message.content.clone(),
                }),
            }
        }
        while turns.first().is_some_and(|t| t.role != Role::User) {
            turns.remove(0);
        }
        LlmRequest {
            system: config.system_prompt.clone(),
            messages: turns,
            temperature: config.temperature,
            max_output_tokens: config.max_output_tokens,
            timeout: None,
        }
    }

    /// Re-attaches to the reply running in a session: a snapshot of the text
    /// so far, then the rest. `Ok(None)` when nothing runs there.
    pub async fn attach(
        &self,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<Option<ReplyStream>, ServiceError> {
        self.owned_session(user_id, session_id).await?;
        let live = self.running().get(&session_id).cloned();
        Ok(live
            .filter(|g| g.user_id == user_id)
            .map(|g| g.subscribe_with_snapshot()))
    }

    /// Stops the reply running in a session and returns it as stored
    /// (`stopped`, partial text kept). Nothing running: `NotFound`.
    pub async fn stop(
        &self,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<ChatMessage, ServiceError> {
        self.owned_session(user_id, session_id).await?;
        let live = self
            .running()
            .get(&session_id)
            .cloned()
            .filter(|g| g.user_id == user_id)
            .ok_or_else(|| {
                ServiceError::NotFound("no reply is running in this session".to_owned())
            })?;
        live.cancel(CancelReason::Stop);
        match tokio::time::timeout(self.inner.config.stop_timeout, live.finished()).await {
            Ok(ReplyEvent::Done { message, .. })
            | Ok(ReplyEvent::Error {
                stored: message, ..
            }) => Ok(message),
            _ => Err(ServiceError::Unavailable(
                "the reply did not stop in time".to_owned(),
            )),
        }
    }

    /// Ends every running reply as `interrupted` and waits until each is
    /// stored (graceful shutdown).
    pub async fn shutdown(&self) {
        let live: Vec<Arc<Generation>> = self.running().values().cloned().collect();
        for generation in &live {
            generation.cancel(CancelReason::Shutdown);
        }
        let waits = live.iter().map(|g| g.finished());
        let _ = tokio::time::timeout(
            self.inner.config.stop_timeout,
            futures_util::future::join_all(waits),
        )
        .await;
        if !live.is_empty() {
            tracing::info!(count = live.len(), "running replies stored as interrupted");
        }
    }
}

/// The last event of a reply stream (its outcome), draining the deltas.
async fn last_event(mut events: ReplyStream) -> Option<ReplyEvent> {
    use futures_util::StreamExt;
    let mut last = None;
    while let Some(event) = events.next().await {
        last = Some(event);
    }
    last
}
