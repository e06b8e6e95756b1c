//! The JSON shapes of API.md, built from chatcore's domain types.

use chatcore::{AuthSession, ChatMessage, ChatSession, MessageId, SessionId, User};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

/// RFC 3339 in UTC with millisecond precision and a `Z` suffix.
pub fn serialize_time<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// `user` of the API.
#[derive(Clone, Debug, Serialize)]
pub struct UserDto {
    /// Id.
    pub id: chatcore::UserId,
    /// Username.
    pub username: String,
    /// Email.
    pub email: String,
    /// Creation time.
    #[serde(serialize_with = "serialize_time")]
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserDto {
    fn from(user: &User) -> Self {
        UserDto {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            created_at: user.created_at,
        }
    }
}

/// Answer of register, login and refresh.
#[derive(Clone, Debug, Serialize)]
pub struct TokenDto {
    /// The JWT.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// When it expires.
    #[serde(serialize_with = "serialize_time")]
    pub expires_at: DateTime<Utc>,
    /// The user.
    pub user: UserDto,
}

impl From<&AuthSession> for TokenDto {
    fn from(session: &AuthSession) -> Self {
        TokenDto {
            access_token: session.token.token.clone(),
            token_type: "bearer",
            expires_at: session.token.expires_at,
            user: UserDto::from(&session.user),
        }
    }
}

/// `session` of the API.
#[derive(Clone, Debug, Serialize)]
pub struct SessionDto {
    /// Id.
    pub id: SessionId,
    /// Title.
    pub title: String,
    /// Creation time.
    #[serde(serialize_with = "serialize_time")]
    pub created_at: DateTime<Utc>,
    /// Last change.
    #[serde(serialize_with = "serialize_time")]
    pub updated_at: DateTime<Utc>,
}

impl From<&ChatSession> for SessionDto {
    fn from(session: &ChatSession) -> Self {
        SessionDto::from(session.clone())
    }
}

/// Moves the title into the DTO.
impl From<ChatSession> for SessionDto {
    fn from(session: ChatSession) -> Self {
        SessionDto {
            id: session.id,
            title: session.title,
            created_at: session.created_at,
            updated_at: session.updated_at,
        }
    }
}

/// `usage` of a message.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct UsageDto {
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
}

/// `message` of the API.
#[derive(Clone, Debug, Serialize)]
pub struct MessageDto {
    /// Id.
    pub id: MessageId,
    /// Session.
    pub session_id: SessionId,
    /// `user` or `assistant`.
    pub role: chatcore::Role,
    /// Text.
    pub content: String,
    /// When it was written.
    #[serde(serialize_with = "serialize_time")]
    pub timestamp: DateTime<Utc>,
    /// Status.
    pub status: chatcore::MessageStatus,
    /// Provider that answered.
    pub provider: Option<String>,
    /// Model that answered.
    pub model: Option<String>,
    /// Token usage.
    pub usage: Option<UsageDto>,
}

impl From<&ChatMessage> for MessageDto {
    fn from(message: &ChatMessage) -> Self {
        MessageDto::from(message.clone())
    }
}

/// Moves the text into the DTO (no copy of the content).
impl From<ChatMessage> for MessageDto {
    fn from(message: ChatMessage) -> Self {
        MessageDto {
            id: message.id,
            session_id: message.session_id,
            role: message.role,
            content: message.content,
            timestamp: message.timestamp,
            status: message.status,
            provider: message.provider,
            model: message.model,
            usage: message.usage.map(|u| UsageDto {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
            }),
        }
    }
}

/// Answer of `GET /chat/sessions/{id}`.
#[derive(Clone, Debug, Serialize)]
pub struct SessionDetailDto {
    /// The session.
    pub session: SessionDto,
    /// Its messages, oldest first.
    pub messages: Vec<MessageDto>,
}

/// Answer of `POST /chat/send`.
#[derive(Clone, Debug, Serialize)]
pub struct SentReplyDto {
    /// The stored user message.
    pub user_message: MessageDto,
    /// The stored reply.
    pub assistant_message: MessageDto,
    /// The provider that answered.
    pub provider: Option<String>,
}

/// Body of `POST /auth/register`.
#[derive(Clone, Debug, Deserialize)]
pub struct RegisterBody {
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
    /// Optional username.
    #[serde(default)]
    pub username: Option<String>,
}

/// Body of `POST /auth/login`.
#[derive(Clone, Debug, Deserialize)]
pub struct LoginBody {
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Body of `POST /chat/sessions`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CreateSessionBody {
    /// Optional title.
    #[serde(default)]
    pub title: Option<String>,
}

/// Body of `PATCH /chat/sessions/{id}`.
#[derive(Clone, Debug, Deserialize)]
pub struct RenameBody {
    /// New title.
    pub title: String,
}

/// Body of `POST /chat/send` and `POST /chat/stream`.
#[derive(Clone, Debug, Deserialize)]
pub struct SendBody {
    /// Session.
    pub session_id: SessionId,
    /// Message text.
    pub content: String,
}
