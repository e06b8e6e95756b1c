//! # chatcore
//!
//! The core of an LLM chat backend: accounts with JWT auth, per-user chat
//! sessions, message history and replies streamed from a chain of LLM
//! providers. No HTTP server, no SQL and no vendor wire formats live here:
//! those are adapters (`chatcore-sqlx`, `chatcore-llm`, `chatcore-rocket`)
//! that implement or call the traits of this crate.
//!
//! - [`Store`]: users, sessions, messages (SQLite / PostgreSQL in `chatcore-sqlx`,
//!   [`MemoryStore`] here).
//! - [`LlmProvider`]: streaming replies with classified errors.
//! - [`TokenService`]: access tokens ([`JwtTokens`], HS256).
//! - [`EventBus`]: per-user events for multi-device sync ([`LocalEventBus`]).
//! - [`AuthService`] and [`ChatService`]: the rules, over those traits.
//! - [`messenger`]: people talking to people — profiles, search,
//!   conversations, live messages, uploads ([`MessengerService`] over
//!   [`MessengerStore`] and [`media::MediaStore`]).
//! - [`titles`]: derived (plain-text first words) and provider-generated
//!   session titles.
//! - [`media`]: uploaded images (type sniffed, size capped, re-encoded
//!   without metadata) and the [`MediaStore`] that keeps them
//!   ([`LocalDirMedia`], [`InMemoryMedia`]).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod auth_service;
mod chat_service;
pub mod clock;
mod cursor;
mod domain;
mod error;
mod events;
pub mod fold;
mod generation;
mod ids;
mod llm;
pub mod media;
mod memory_store;
pub mod messenger;
mod password;
mod password_memory;
pub mod patterns;
mod rate_limit;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod titles;
mod tokens;
pub mod validate;

/// Re-exported so that implementations of chatcore's traits need no extra dependency.
pub use async_trait::async_trait;
pub use auth_service::{
    AuthService, AuthSession, Registration, DEFAULT_LOGIN_LIMIT, DEFAULT_USER_CACHE_CAPACITY,
};
pub use chat_service::{
    ChatConfig, ChatService, SentReply, SessionPage, SessionWithMessages, StartedReply,
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
pub use domain::{
    ChatMessage, ChatSession, MessageStatus, MessageUpdate, NewUser, Role, SessionCursor,
    UnknownVariant, Usage, User, UserCredentials,
};
pub use error::{FieldErrors, ServiceError};
pub use events::{EventBus, LocalEventBus, UserEvent, UserEventStream};
pub use generation::{ReplyEvent, ReplyStream};
pub use ids::{ConversationId, ConversationMessageId, MediaId, MessageId, SessionId, UserId};
pub use llm::{
    Completion, Finish, FinishReason, LlmError, LlmErrorKind, LlmEvent, LlmMessage, LlmProvider,
    LlmRequest, LlmStream, ProviderState, ProviderStatus,
};
pub use media::{InMemoryMedia, LocalDirMedia, MediaError, MediaKey, MediaStore};
pub use memory_store::MemoryStore;
pub use messenger::{MessengerConfig, MessengerService, MessengerStore};
pub use password::{PasswordError, PasswordHasher};
pub use rate_limit::SlidingWindow;
pub use store::{ConflictKind, Store, StoreError};
pub use titles::{DEFAULT_TITLE, DEFAULT_TITLE_TIMEOUT};
pub use tokens::{
    IssuedToken, JwtTokens, TokenError, TokenService, VerifiedToken, DEFAULT_TOKEN_TTL,
};

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
