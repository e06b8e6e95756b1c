//! The JSON shapes of API.md, built from chatcore's domain types. Each is
//! also its own OpenAPI schema (`ToSchema`), so `/openapi.json` describes
//! exactly what is served and read.

use chatcore::{AuthSession, ChatMessage, ChatSession, MessageId, SessionId, User};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::openapi::schemas;
use crate::state::ApiState;

mod messenger;

pub use messenger::{
    AddMembersBody, CMessageDto, ConversationDto, CreateConversationBody, MediaDto, PersonDto,
    ReadBody, SendConversationMessageBody, UpdateMeBody, UploadBody,
};

/// RFC 3339 in UTC with millisecond precision and a `Z` suffix.
pub fn serialize_time<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Reads an id only in its hyphenated form (`01234567-89ab-…`), the one the
/// API writes and documents (the `uuid` crate alone would also read the
/// simple, braced and URN forms).
pub fn deserialize_id<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: From<uuid::Uuid>,
{
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    match uuid::Uuid::try_parse(&text) {
        Ok(id) if text.len() == 36 => Ok(T::from(id)),
        _ => Err(serde::de::Error::custom(
            "must be a UUID in its hyphenated form",
        )),
    }
}

/// A non-negative whole number, also when written with a zero fraction
/// (`6.0`: JSON Schema counts it as an integer, so a client generating from
/// the document may send it); `1.5`, `-1` and strings are refused.
pub fn deserialize_whole_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<u64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(value) = number.as_u64() {
        return Ok(value);
    }
    match number.as_f64() {
        // Exactly representable (2^53) and whole: the integer it spells.
        Some(value) if value.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&value) => {
            Ok(value as u64)
        }
        _ => Err(serde::de::Error::custom(
            "must be a whole number, 0 or more",
        )),
    }
}

/// [`deserialize_id`] for an optional id (`null` or absent: `None`).
pub fn deserialize_optional_id<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<uuid::Uuid>,
{
    #[derive(Deserialize)]
    struct Id<T: From<uuid::Uuid>>(#[serde(deserialize_with = "deserialize_id")] T);
    Ok(Option::<Id<T>>::deserialize(deserializer)?.map(|id| id.0))
}

/// [`deserialize_id`] for a list of ids.
pub fn deserialize_ids<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<uuid::Uuid>,
{
    #[derive(Deserialize)]
    struct Id<T: From<uuid::Uuid>>(#[serde(deserialize_with = "deserialize_id")] T);
    Ok(Vec::<Id<T>>::deserialize(deserializer)?
        .into_iter()
        .map(|id| id.0)
        .collect())
}

/// `user` of the API.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserDto {
    /// Id.
    #[schema(schema_with = schemas::uuid)]
    pub id: chatcore::UserId,
    /// Username.
    pub username: String,
    /// Email.
    pub email: String,
    /// The name shown to other people (the username unless one was chosen).
    pub display_name: String,
    /// The avatar's URL path (`/avatars/<name>` below the base path the API
    /// is mounted at), or null.
    #[schema(schema_with = schemas::avatar_url)]
    pub avatar_url: Option<String>,
    /// Creation time.
    #[serde(serialize_with = "serialize_time")]
    #[schema(schema_with = schemas::time)]
    pub created_at: DateTime<Utc>,
}

impl UserDto {
    /// The user as the API shows it to themselves (avatar URLs below the
    /// base path of `state`).
    pub fn new(user: &User, state: &ApiState) -> Self {
        UserDto {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            avatar_url: user.avatar.as_deref().map(|key| state.avatar_url(key)),
            created_at: user.created_at,
        }
    }
}

/// Answer of register, login and refresh.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenDto {
    /// The JWT.
    pub access_token: String,
    /// Always `bearer`.
    #[schema(schema_with = schemas::bearer)]
    pub token_type: &'static str,
    /// When it expires.
    #[serde(serialize_with = "serialize_time")]
    #[schema(schema_with = schemas::time)]
    pub expires_at: DateTime<Utc>,
    /// The user.
    pub user: UserDto,
}

impl TokenDto {
    /// The answer of a sign-in.
    pub fn new(session: &AuthSession, state: &ApiState) -> Self {
        TokenDto {
            access_token: session.token.token.clone(),
            token_type: "bearer",
            expires_at: session.token.expires_at,
            user: UserDto::new(&session.user, state),
        }
    }
}

/// `session` of the API.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionDto {
    /// Id.
    #[schema(schema_with = schemas::uuid)]
    pub id: SessionId,
    /// Title.
    pub title: String,
    /// Creation time.
    #[serde(serialize_with = "serialize_time")]
    #[schema(schema_with = schemas::time)]
    pub created_at: DateTime<Utc>,
    /// Last change.
    #[serde(serialize_with = "serialize_time")]
    #[schema(schema_with = schemas::time)]
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
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[schema(as = Usage)]
pub struct UsageDto {
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
}

/// `message` of the API.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Message)]
pub struct MessageDto {
    /// Id.
    #[schema(schema_with = schemas::uuid)]
    pub id: MessageId,
    /// Session.
    #[schema(schema_with = schemas::uuid)]
    pub session_id: SessionId,
    /// `user` or `assistant`.
    #[schema(schema_with = schemas::role)]
    pub role: chatcore::Role,
    /// Text.
    pub content: String,
    /// When it was written.
    #[serde(serialize_with = "serialize_time")]
    #[schema(schema_with = schemas::time)]
    pub timestamp: DateTime<Utc>,
    /// Status.
    #[schema(schema_with = schemas::status)]
    pub status: chatcore::MessageStatus,
    /// Provider that answered.
    #[schema(required = true)]
    pub provider: Option<String>,
    /// Model that answered.
    #[schema(required = true)]
    pub model: Option<String>,
    /// Token usage.
    #[schema(required = true)]
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
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = SessionWithMessages)]
pub struct SessionDetailDto {
    /// The session.
    pub session: SessionDto,
    /// Its messages, oldest first.
    pub messages: Vec<MessageDto>,
}

/// Answer of `POST /chat/send`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = SentReply)]
pub struct SentReplyDto {
    /// The stored user message.
    pub user_message: MessageDto,
    /// The stored reply.
    pub assistant_message: MessageDto,
    /// The provider that answered.
    #[schema(required = true)]
    pub provider: Option<String>,
}

/// Body of `POST /auth/register`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct RegisterBody {
    /// Email.
    #[schema(schema_with = schemas::email)]
    pub email: String,
    /// Password, 8 to 128 characters.
    #[schema(schema_with = schemas::password)]
    pub password: String,
    /// Optional username, 3 to 32 of `[A-Za-z0-9_.-]` (default: from the email).
    #[serde(default)]
    #[schema(schema_with = schemas::username_or_null, required = false)]
    pub username: Option<String>,
    /// Optional display name, trimmed, 1 to 64 characters without control
    /// characters (default: the username).
    #[serde(default)]
    #[schema(schema_with = schemas::display_name_or_null, required = false)]
    pub display_name: Option<String>,
}

/// Body of `POST /auth/login`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Body of `POST /chat/sessions`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct CreateSessionBody {
    /// Optional title.
    #[serde(default)]
    #[schema(schema_with = schemas::title_or_null, required = false)]
    pub title: Option<String>,
}

/// Body of `PATCH /chat/sessions/{id}`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct RenameBody {
    /// New title.
    #[schema(schema_with = schemas::title)]
    pub title: String,
}

/// Body of `POST /chat/send` and `POST /chat/stream`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct SendBody {
    /// Session.
    #[serde(deserialize_with = "deserialize_id")]
    #[schema(schema_with = schemas::uuid)]
    pub session_id: SessionId,
    /// Message text.
    #[schema(schema_with = schemas::content)]
    pub content: String,
}

/// `data` of a `delta` event: the next piece of a reply's text.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Delta)]
pub struct DeltaDto<'a> {
    /// The reply.
    #[schema(schema_with = schemas::uuid)]
    pub message_id: MessageId,
    /// Append it to the text so far.
    pub text: &'a str,
}

/// `data` of a `snapshot` event: a running reply with its text so far.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Snapshot)]
pub struct SnapshotDto {
    /// The `streaming` message.
    pub message: MessageDto,
}

/// `data` of a `done` event: the reply as stored.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Done)]
pub struct DoneDto {
    /// The stored reply (`complete` or `stopped`).
    pub message: MessageDto,
    /// The provider that answered.
    #[schema(required = true)]
    pub provider: Option<String>,
}

/// `data` of an `error` event: the reply failed (its message is stored
/// with `status: "error"` or `"interrupted"`).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = StreamError)]
pub struct StreamErrorDto<'a> {
    /// `llm_unavailable`, `unavailable` or `internal`.
    pub code: &'a str,
    /// What happened.
    pub message: &'a str,
    /// The failed reply.
    #[schema(schema_with = schemas::uuid)]
    pub message_id: MessageId,
}

/// Answer of `GET /health`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Health)]
pub struct HealthDto {
    /// `ok`, or `unavailable` when the database does not answer.
    #[schema(schema_with = schemas::health_status)]
    pub status: &'static str,
    /// `ok` or `unavailable`.
    #[schema(schema_with = schemas::health_status)]
    pub database: &'static str,
    /// The providers of the chain and their state.
    pub providers: Vec<ProviderDto>,
}

/// A provider in `/health`.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Provider)]
pub struct ProviderDto {
    /// Its name.
    pub name: String,
    /// Its model.
    pub model: String,
    /// `ok`, or `cooling_down` while its circuit breaker is open.
    #[schema(schema_with = schemas::provider_state)]
    pub state: &'static str,
}
