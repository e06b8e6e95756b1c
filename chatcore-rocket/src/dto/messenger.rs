//! The JSON shapes of the messenger (API.md Part 2): `person`, `media`,
//! `conversation`, `cmessage`, and the bodies its routes read.

use chatcore::messenger::{Conversation, ConversationKind, ConversationMessage, Media, Person};
use chatcore::{ConversationId, ConversationMessageId, MediaId, MessageStatus, Role, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{deserialize_ids, deserialize_optional_id, deserialize_whole_number, serialize_time};
use crate::openapi::schemas;
use crate::state::ApiState;

/// `person` of the API: what others see of a user (never the email).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Person)]
pub struct PersonDto {
    /// Id.
    #[schema(schema_with = schemas::uuid)]
    pub id: UserId,
    /// Username.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// The avatar's URL path, or null.
    #[schema(schema_with = schemas::avatar_url)]
    pub avatar_url: Option<String>,
}

impl PersonDto {
    /// The person with avatar URLs below the base path of `state`.
    pub fn new(person: Person, state: &ApiState) -> Self {
        PersonDto {
            id: person.id,
            username: person.username,
            display_name: person.display_name,
            avatar_url: person.avatar.as_deref().map(|key| state.avatar_url(key)),
        }
    }
}

/// `media` of the API: an uploaded image, re-encoded by the server.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Media)]
pub struct MediaDto {
    /// Id (`GET /media/{media_id}`; `image_id` of a message).
    #[schema(schema_with = schemas::uuid)]
    pub id: MediaId,
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    #[schema(schema_with = schemas::image_type)]
    pub content_type: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the stored bytes.
    pub bytes: u64,
}

impl From<Media> for MediaDto {
    fn from(media: Media) -> Self {
        MediaDto {
            id: media.id,
            content_type: media.content_type,
            width: media.width,
            height: media.height,
            bytes: media.bytes,
        }
    }
}

/// `cmessage` of the API: one message of a conversation.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ConversationMessage)]
pub struct CMessageDto {
    /// Id.
    #[schema(schema_with = schemas::uuid)]
    pub id: ConversationMessageId,
    /// The conversation.
    #[schema(schema_with = schemas::uuid)]
    pub conversation_id: ConversationId,
    /// Its place: 1, 2, 3, … with no gap.
    #[schema(minimum = 1)]
    pub seq: u64,
    /// `user` (a person) or `assistant`.
    #[schema(schema_with = schemas::role)]
    pub author: Role,
    /// The person who sent it (null for the assistant).
    #[schema(schema_with = schemas::uuid_or_null)]
    pub sender_id: Option<UserId>,
    /// The text, exactly as sent (may be empty with an image).
    pub text: String,
    /// The attached image.
    #[schema(required = true)]
    pub image: Option<MediaDto>,
    /// `complete` for a person's message.
    #[schema(schema_with = schemas::status)]
    pub status: MessageStatus,
    /// The provider of an assistant's message.
    #[schema(required = true)]
    pub provider: Option<String>,
    /// The model of an assistant's message.
    #[schema(required = true)]
    pub model: Option<String>,
    /// The sender's idempotency key.
    #[schema(required = true)]
    pub client_id: Option<String>,
    /// When it was stored.
    #[serde(serialize_with = "serialize_time")]
    #[schema(schema_with = schemas::time)]
    pub created_at: DateTime<Utc>,
}

impl From<ConversationMessage> for CMessageDto {
    fn from(message: ConversationMessage) -> Self {
        CMessageDto {
            id: message.id,
            conversation_id: message.conversation_id,
            seq: message.seq,
            author: message.author,
            sender_id: message.sender_id,
            text: message.text,
            image: message.image.map(MediaDto::from),
            status: message.status,
            provider: message.provider,
            model: message.model,
            client_id: message.client_id,
            created_at: message.created_at,
        }
    }
}

/// `conversation` of the API, as the caller sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Conversation)]
pub struct ConversationDto {
    /// Id.
    #[schema(schema_with = schemas::uuid)]
    pub id: ConversationId,
    /// `direct` (two people, one per pair) or `group`.
    #[schema(schema_with = schemas::conversation_kind)]
    pub kind: ConversationKind,
    /// A group's title, or null.
    #[schema(required = true)]
    pub title: Option<String>,
    /// The members, the caller included, in the order they joined.
    pub members: Vec<PersonDto>,
    /// Creation time.
    #[serde(serialize_with = "serialize_time")]
    #[schema(schema_with = schemas::time)]
    pub created_at: DateTime<Utc>,
    /// Last activity (a message, a rename, members).
    #[serde(serialize_with = "serialize_time")]
    #[schema(schema_with = schemas::time)]
    pub updated_at: DateTime<Utc>,
    /// The latest message.
    #[schema(required = true)]
    pub last_message: Option<CMessageDto>,
    /// The caller's unread messages (after `last_read_seq`, sent by others).
    pub unread_count: u64,
    /// The caller's read pointer (0: nothing read).
    pub last_read_seq: u64,
}

impl ConversationDto {
    /// The conversation with avatar URLs below the base path of `state`.
    pub fn new(conversation: Conversation, state: &ApiState) -> Self {
        ConversationDto {
            id: conversation.id,
            kind: conversation.kind,
            title: conversation.title,
            members: conversation
                .members
                .into_iter()
                .map(|person| PersonDto::new(person, state))
                .collect(),
            created_at: conversation.created_at,
            updated_at: conversation.updated_at,
            last_message: conversation.last_message.map(CMessageDto::from),
            unread_count: conversation.unread_count,
            last_read_seq: conversation.last_read_seq,
        }
    }
}

/// Body of `PATCH /auth/me`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct UpdateMeBody {
    /// The new display name: trimmed, 1 to 64 characters without control
    /// characters.
    #[schema(schema_with = schemas::display_name)]
    pub display_name: String,
}

/// Body of `PUT /auth/me/avatar` and `POST /media` (`multipart/form-data`):
/// one part, `file`.
// `additionalProperties: false` through serde's `deny_unknown_fields`
// (`Deserialize` is derived for nothing else); the upload guard refuses
// any part but `file` with 422.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Upload)]
pub struct UploadBody {
    /// The image: PNG, JPEG, GIF or WebP, decided by its bytes (the part's
    /// declared type and file name are ignored). Exactly one file part.
    #[schema(schema_with = schemas::binary)]
    pub file: Vec<u8>,
}

/// Body of `POST /conversations`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct CreateConversationBody {
    /// The other members (1 to 99 users; duplicates and the caller's own id
    /// are ignored).
    #[serde(deserialize_with = "deserialize_ids")]
    #[schema(schema_with = schemas::member_ids)]
    pub member_ids: Vec<UserId>,
    /// A title makes a group (even of two people).
    #[serde(default)]
    #[schema(schema_with = schemas::title_or_null, required = false)]
    pub title: Option<String>,
}

/// Body of `POST /conversations/{conversation_id}/members`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct AddMembersBody {
    /// The users to add (at most 100 members in all).
    #[serde(deserialize_with = "deserialize_ids")]
    #[schema(schema_with = schemas::member_ids)]
    pub user_ids: Vec<UserId>,
}

/// Body of `POST /conversations/{conversation_id}/messages`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct SendConversationMessageBody {
    /// The text, stored exactly as sent: at most 32,000 characters, no NUL;
    /// not empty after trimming unless `image_id` is given.
    #[serde(default)]
    #[schema(schema_with = schemas::message_text_or_null, required = false)]
    pub text: Option<String>,
    /// An image the caller uploaded (`POST /media`).
    #[serde(default, deserialize_with = "deserialize_optional_id")]
    #[schema(schema_with = schemas::uuid_or_null, required = false)]
    pub image_id: Option<MediaId>,
    /// An idempotency key (1 to 64 characters): the same key again returns
    /// the first message (200) and stores nothing.
    #[serde(default)]
    #[schema(schema_with = schemas::client_id_or_null, required = false)]
    pub client_id: Option<String>,
}

/// Body of `POST /conversations/{conversation_id}/read`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct ReadBody {
    /// Read up to this `seq` (clamped to the latest; never moves back).
    #[serde(deserialize_with = "deserialize_whole_number")]
    #[schema(minimum = 0)]
    pub seq: u64,
}
