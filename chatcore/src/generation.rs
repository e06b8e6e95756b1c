//! Server-owned reply generation.
//!
//! A [`Generation`] is one assistant reply being produced in a spawned task
//! that belongs to the [`crate::ChatService`], not to the connection that
//! asked for it. Its state (the text so far and, at the end, the outcome)
//! lives in a `tokio::sync::watch` channel: the task appends each delta, and
//! every subscriber keeps its own offset into the text. A subscriber that is
//! slower than the provider receives the text it missed as one larger delta
//! at its next read, so a slow or gone subscriber never blocks the task or
//! the other subscribers, and memory per subscriber is constant.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use futures_util::{FutureExt, StreamExt};
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::domain::{ChatMessage, MessageStatus, MessageUpdate};
use crate::events::{EventBus, UserEvent};
use crate::ids::{MessageId, SessionId, UserId};
use crate::llm::{LlmError, LlmErrorKind, LlmEvent, LlmProvider, LlmRequest};
use crate::store::Store;

/// What a subscriber of a reply receives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReplyEvent {
    /// The reply so far (first event of a re-attach).
    Snapshot {
        /// The assistant message with the text so far, `streaming`.
        message: ChatMessage,
    },
    /// The next piece of text.
    Delta {
        /// The assistant message it belongs to.
        message_id: MessageId,
        /// The text to append.
        text: String,
    },
    /// The reply ended (`complete`, or `stopped` by the user).
    Done {
        /// The assistant message as stored.
        message: ChatMessage,
        /// The provider that answered, when one did.
        provider: Option<String>,
    },
    /// The reply failed; the stored message has status `error` (or
    /// `interrupted` at shutdown) and keeps any partial text.
    Error {
        /// API error code (`llm_unavailable`, `internal`, `unavailable`).
        code: String,
        /// Human-readable detail.
        message: String,
        /// The assistant message concerned.
        message_id: MessageId,
        /// That message as stored.
        stored: ChatMessage,
    },
}

/// A stream of [`ReplyEvent`]s that ends after `Done` or `Error`.
pub type ReplyStream = Pin<Box<dyn Stream<Item = ReplyEvent> + Send + 'static>>;

#[derive(Clone, Debug)]
pub(crate) struct GenState {
    pub(crate) text: String,
    pub(crate) provider: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) outcome: Option<ReplyEvent>,
}

/// Why a generation was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum CancelReason {
    None = 0,
    Stop = 1,
    Shutdown = 2,
}

/// One running reply.
#[derive(Debug)]
pub(crate) struct Generation {
    pub(crate) user_id: UserId,
    pub(crate) session_id: SessionId,
    /// The assistant message as first stored (status `streaming`, empty).
    pub(crate) message: ChatMessage,
    state: watch::Sender<GenState>,
    cancel: CancellationToken,
    reason: AtomicU8,
}

impl Generation {
    pub(crate) fn new(user_id: UserId, message: ChatMessage) -> Arc<Self> {
        let (state, _) = watch::channel(GenState {
            text: String::new(),
            provider: None,
            model: None,
            outcome: None,
        });
        Arc::new(Generation {
            user_id,
            session_id: message.session_id,
            message,
            state,
            cancel: CancellationToken::new(),
            reason: AtomicU8::new(CancelReason::None as u8),
        })
    }

    pub(crate) fn message_id(&self) -> MessageId {
        self.message.id
    }

    /// The text generated so far.
    pub(crate) fn current_text(&self) -> String {
        self.state.borrow().text.clone()
    }

    /// Asks the task to end; the first reason given wins.
    pub(crate) fn cancel(&self, reason: CancelReason) {
        let _ = self.reason.compare_exchange(
            CancelReason::None as u8,
            reason as u8,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        self.cancel.cancel();
    }

    fn reason(&self) -> CancelReason {
        match self.reason.load(Ordering::SeqCst) {
            1 => CancelReason::Stop,
            2 => CancelReason::Shutdown,
            _ => CancelReason::None,
        }
    }

    /// Waits until the outcome is known and returns it.
    pub(crate) async fn finished(&self) -> ReplyEvent {
        let mut rx = self.state.subscribe();
        let waited = rx
            .wait_for(|s| s.outcome.is_some())
            .await
            .map(|state| state.outcome.clone());
        let outcome = match waited {
            Ok(outcome) => outcome,
            Err(_) => rx.borrow().outcome.clone(),
        };
        outcome.unwrap_or_else(|| self.lost())
    }

    fn lost(&self) -> ReplyEvent {
        let mut stored = self.message.clone();
        stored.status = MessageStatus::Error;
        ReplyEvent::Error {
            code: "internal".to_owned(),
            message: "the reply task ended unexpectedly".to_owned(),
            message_id: self.message.id,
            stored,
        }
    }

    /// Events from the start of the reply (all text, then the outcome).
    pub(crate) fn subscribe_from_start(self: &Arc<Self>) -> ReplyStream {
        self.subscription(None)
    }

    /// A snapshot of the text so far, then the rest.
    pub(crate) fn subscribe_with_snapshot(self: &Arc<Self>) -> ReplyStream {
        let rx = self.state.subscribe();
        let (snapshot, delivered) = {
            let state = rx.borrow();
            let mut message = self.message.clone();
            message.content = state.text.clone();
            message.provider = state.provider.clone();
            message.model = state.model.clone();
            (message, state.text.len())
        };
        self.subscription(Some((snapshot, delivered, rx)))
    }

    fn subscription(
        self: &Arc<Self>,
        start: Option<(ChatMessage, usize, watch::Receiver<GenState>)>,
    ) -> ReplyStream {
        let generation = Arc::clone(self);
        let (snapshot, delivered, rx) = match start {
            Some((snapshot, delivered, rx)) => (Some(snapshot), delivered, rx),
            None => (None, 0, self.state.subscribe()),
        };
        let state = Subscriber {
            generation,
            rx,
            delivered,
            snapshot,
            done: false,
        };
        Box::pin(futures_util::stream::unfold(state, |mut sub| async move {
            let event = sub.next_event().await?;
            Some((event, sub))
        }))
    }
}

struct Subscriber {
    generation: Arc<Generation>,
    rx: watch::Receiver<GenState>,
    delivered: usize,
    snapshot: Option<ChatMessage>,
    done: bool,
}

impl Subscriber {
    async fn next_event(&mut self) -> Option<ReplyEvent> {
        if let Some(message) = self.snapshot.take() {
            return Some(ReplyEvent::Snapshot { message });
        }
        if self.done {
            return None;
        }
        loop {
            {
                let state = self.rx.borrow_and_update();
                if state.text.len() > self.delivered {
                    let text = state
                        .text
                        .get(self.delivered..)
                        .unwrap_or_default()
                        .to_owned();
                    self.delivered = state.text.len();
                    return Some(ReplyEvent::Delta {
                        message_id: self.generation.message.id,
                        text,
                    });
                }
                if let Some(outcome) = &state.outcome {
                    self.done = true;
                    return Some(outcome.clone());
                }
            }
            if self.rx.changed().await.is_err() {
                // The task is gone; report what it left, or that it was lost.
                let state = self.rx.borrow();
                if state.text.len() > self.delivered {
                    continue;
                }
                self.done = true;
                return Some(
                    state
                        .outcome
                        .clone()
                        .unwrap_or_else(|| self.generation.lost()),
                );
            }
        }
    }
}

/// What the task needs besides the generation itself.
pub(crate) struct TaskContext {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) provider: Arc<dyn LlmProvider>,
    pub(crate) events: Arc<dyn EventBus>,
    pub(crate) flush_interval: Duration,
}

enum End {
    Finished {
        provider: String,
        model: String,
        usage: Option<crate::domain::Usage>,
    },
    Failed(LlmError),
    Cancelled,
}

/// Runs the reply to its end and stores every state on the way. `on_end`
/// runs after the final state is stored and before subscribers see the
/// outcome (the service uses it to free the session's slot). Returns the
/// final message once subscribers and the user's devices were told.
pub(crate) async fn run(
    generation: Arc<Generation>,
    context: TaskContext,
    request: LlmRequest,
    on_end: impl FnOnce() + Send,
) -> ChatMessage {
    // A panic in provider code must not leave the session's slot taken and
    // subscribers waiting forever: it ends the reply as a failure instead.
    let mut flushing = None;
    let end = match AssertUnwindSafe(produce(&generation, &context, request, &mut flushing))
        .catch_unwind()
        .await
    {
        Ok(end) => end,
        Err(_) => End::Failed(LlmError::new(
            context.provider.name(),
            LlmErrorKind::Other,
            "the provider panicked",
        )),
    };
    // A flush still in flight must land before the final state, or its
    // `streaming` row would overwrite it.
    if let Some(flush) = flushing.take() {
        let _ = flush.await;
    }
    let (text, mut provider, mut model) = {
        let state = generation.state.borrow();
        (
            state.text.clone(),
            state.provider.clone(),
            state.model.clone(),
        )
    };
    let (status, usage, failure) = match end {
        End::Finished {
            provider: p,
            model: m,
            usage,
        } => {
            provider = Some(p);
            model = Some(m);
            (MessageStatus::Complete, usage, None)
        }
        End::Cancelled => match generation.reason() {
            CancelReason::Shutdown => (
                MessageStatus::Interrupted,
                None,
                Some(("unavailable", "the server is shutting down".to_owned())),
            ),
            _ => (MessageStatus::Stopped, None, None),
        },
        End::Failed(error) => {
            tracing::warn!(
                session_id = %generation.session_id,
                message_id = %generation.message.id,
                provider = %error.provider,
                kind = ?error.kind,
                output_sent = !text.is_empty(),
                "reply failed: {}", error.message
            );
            (
                MessageStatus::Error,
                None,
                Some(("llm_unavailable", error.to_string())),
            )
        }
    };
    let update = MessageUpdate {
        content: text,
        status,
        provider: provider.clone(),
        model,
        usage,
    };
    let stored = match context
        .store
        .update_message(generation.message.id, update.clone())
        .await
    {
        Ok(stored) => stored,
        Err(error) => {
            tracing::error!(message_id = %generation.message.id, %error, "could not store the final reply");
            let mut message = generation.message.clone();
            message.content = update.content;
            message.status = update.status;
            message.provider = update.provider;
            message.model = update.model;
            message.usage = update.usage;
            message
        }
    };
    on_end();
    let outcome = match failure {
        None => ReplyEvent::Done {
            message: stored.clone(),
            provider: provider.take(),
        },
        Some((code, message)) => ReplyEvent::Error {
            code: code.to_owned(),
            message,
            message_id: stored.id,
            stored: stored.clone(),
        },
    };
    generation
        .state
        .send_modify(|state| state.outcome = Some(outcome));
    context
        .events
        .publish(
            generation.user_id,
            UserEvent::Message {
                message: stored.clone(),
            },
        )
        .await;
    stored
}

/// Streams from the provider into the shared state until it ends, flushing
/// the text to the store at least every `flush_interval`.
///
/// A flush runs in its own task (handle in `flushing`), so a write queued
/// behind other writers never holds up the deltas of this reply; the next
/// flush starts only after the previous one ended, so they land in order.
async fn produce(
    generation: &Generation,
    context: &TaskContext,
    request: LlmRequest,
    flushing: &mut Option<tokio::task::JoinHandle<()>>,
) -> End {
    let cancel = generation.cancel.clone();
    let mut stream = tokio::select! {
        biased;
        _ = cancel.cancelled() => return End::Cancelled,
        started = context.provider.stream(request) => match started {
            Ok(stream) => stream,
            Err(error) => return End::Failed(error),
        },
    };
    let mut flush = tokio::time::interval_at(
        tokio::time::Instant::now() + context.flush_interval,
        context.flush_interval,
    );
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = false;
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return End::Cancelled,
            item = stream.next() => match item {
                Some(Ok(LlmEvent::Delta(text))) => {
                    if !text.is_empty() {
                        generation.state.send_modify(|state| state.text.push_str(&text));
                        dirty = true;
                    }
                }
                Some(Ok(LlmEvent::Finished(finish))) => {
                    return End::Finished {
                        provider: finish.provider,
                        model: finish.model,
                        usage: finish.usage,
                    };
                }
                Some(Err(error)) => return End::Failed(error),
                None => {
                    let sent = !generation.state.borrow().text.is_empty();
                    return End::Failed(
                        LlmError::new(
                            context.provider.name(),
                            LlmErrorKind::Protocol,
                            "the reply stream ended without finishing",
                        )
                        .with_output_sent(sent),
                    );
                }
            },
            _ = flush.tick(), if dirty => {
                if flushing.as_ref().is_some_and(|task| !task.is_finished()) {
                    continue;
                }
                dirty = false;
                *flushing = Some(tokio::spawn(flush_text(
                    flush_update(generation),
                    generation.message.id,
                    Arc::clone(&context.store),
                )));
            }
        }
    }
}

/// The `streaming` row of the text so far.
fn flush_update(generation: &Generation) -> MessageUpdate {
    let state = generation.state.borrow();
    MessageUpdate {
        content: state.text.clone(),
        status: MessageStatus::Streaming,
        provider: state.provider.clone(),
        model: state.model.clone(),
        usage: None,
    }
}

async fn flush_text(update: MessageUpdate, message_id: MessageId, store: Arc<dyn Store>) {
    if let Err(error) = store.update_message(message_id, update).await {
        tracing::warn!(%message_id, %error, "could not flush reply text");
    }
}
