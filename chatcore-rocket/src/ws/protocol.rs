//! The JSON frames of `/ws`: what clients send ([`ClientFrame`]) and what the
//! server sends ([`ServerFrame`]), with the parsing rules of API.md.

use chatcore::{
    ChatMessage, ChatSession, ConversationId, MediaId, MessageId, SessionId, User, UserId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dto::{
    deserialize_id, deserialize_optional_id, serialize_time, CMessageDto, ConversationDto,
    MessageDto, SessionDto, UserDto,
};
use crate::error::ApiError;
use crate::state::ApiState;

/// Longest `request_id` accepted (characters of a string id).
pub(crate) const MAX_REQUEST_ID_CHARS: usize = 256;

/// The client's correlation id, echoed in the frames that answer it.
/// A string or a number, sent back exactly as received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum RequestId {
    /// `"request_id": "abc"`.
    Text(String),
    /// `"request_id": 7`.
    Number(serde_json::Number),
}

/// A frame from the client.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ClientFrame {
    /// `{"type": "auth", "token"}`: the first frame, or a re-auth.
    Auth {
        /// The access token (JWT).
        token: String,
    },
    /// `{"type": "send", "request_id", "session_id", "content"}`.
    Send {
        /// Echoed in every frame about this reply.
        #[serde(default)]
        request_id: Option<RequestId>,
        /// Session to write in.
        session_id: SessionId,
        /// The user's message.
        content: String,
    },
    /// `{"type": "stop", "session_id"}`.
    Stop {
        /// Echoed in an error frame.
        #[serde(default)]
        request_id: Option<RequestId>,
        /// Session whose reply to stop.
        session_id: SessionId,
    },
    /// `{"type": "subscribe", "session_id"}`.
    Subscribe {
        /// Echoed in the frames of the followed reply.
        #[serde(default)]
        request_id: Option<RequestId>,
        /// Session whose running reply to follow.
        session_id: SessionId,
    },
    /// `{"type": "ping"}`.
    Ping {
        /// Echoed in the `pong`.
        #[serde(default)]
        request_id: Option<RequestId>,
    },
    /// `{"type": "conversation_send", "request_id"?, "conversation_id",
    /// "text"?, "image_id"?, "client_id"?}`: as `POST
    /// /conversations/{id}/messages`.
    ConversationSend {
        /// Echoed in the `conversation_message` (or `error`) answering it.
        #[serde(default)]
        request_id: Option<RequestId>,
        /// The conversation to write in.
        #[serde(deserialize_with = "deserialize_id")]
        conversation_id: ConversationId,
        /// The text.
        #[serde(default)]
        text: Option<String>,
        /// An image the sender uploaded.
        #[serde(default, deserialize_with = "deserialize_optional_id")]
        image_id: Option<MediaId>,
        /// The idempotency key.
        #[serde(default)]
        client_id: Option<String>,
    },
    /// `{"type": "typing", "conversation_id"}`.
    Typing {
        /// Echoed in an error frame.
        #[serde(default)]
        request_id: Option<RequestId>,
        /// The conversation the user types in.
        #[serde(deserialize_with = "deserialize_id")]
        conversation_id: ConversationId,
    },
}

/// Every `type` a client may send.
const CLIENT_TYPES: [&str; 7] = [
    "auth",
    "send",
    "stop",
    "subscribe",
    "ping",
    "conversation_send",
    "typing",
];

/// Why a text frame could not be used.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FrameError {
    /// Not JSON, not an object, or an unknown / missing `type` (`bad_request`).
    BadRequest {
        /// What is wrong.
        message: String,
        /// The frame's `request_id`, when it had a usable one.
        request_id: Option<RequestId>,
    },
    /// A known `type` with missing or mistyped fields (`validation_error`).
    Validation {
        /// What is wrong.
        message: String,
        /// The frame's `request_id`, when it had a usable one.
        request_id: Option<RequestId>,
    },
}

impl FrameError {
    /// The error frame that answers it.
    pub(crate) fn into_frame(self) -> ServerFrame {
        let (code, message, request_id) = match self {
            FrameError::BadRequest {
                message,
                request_id,
            } => ("bad_request", message, request_id),
            FrameError::Validation {
                message,
                request_id,
            } => ("validation_error", message, request_id),
        };
        ServerFrame::Error(ErrorFrame::new(request_id, code, message))
    }
}

/// Parses one text frame. Never panics, whatever the input.
pub(crate) fn parse(text: &str) -> Result<ClientFrame, FrameError> {
    let value: Value = serde_json::from_str(text).map_err(|_| FrameError::BadRequest {
        message: "the frame is not valid JSON".to_owned(),
        request_id: None,
    })?;
    let request_id = value
        .get("request_id")
        .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok())
        .filter(valid_request_id);
    if !value.is_object() {
        return Err(FrameError::BadRequest {
            message: "the frame must be a JSON object with a \"type\"".to_owned(),
            request_id,
        });
    }
    let kind = match value.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        _ => {
            return Err(FrameError::BadRequest {
                message: "the frame has no \"type\" string".to_owned(),
                request_id,
            })
        }
    };
    if !CLIENT_TYPES.contains(&kind) {
        let mut shown: String = kind.chars().take(64).collect();
        if shown.len() < kind.len() {
            shown.push('…');
        }
        return Err(FrameError::BadRequest {
            message: format!("unknown frame type \"{shown}\""),
            request_id,
        });
    }
    if let Some(id) = value.get("request_id") {
        if !id.is_null() && request_id.is_none() {
            return Err(FrameError::Validation {
                message: format!(
                    "request_id: must be a string of at most {MAX_REQUEST_ID_CHARS} characters or a number"
                ),
                request_id: None,
            });
        }
    }
    serde_json::from_value::<ClientFrame>(value).map_err(|error| FrameError::Validation {
        message: error.to_string(),
        request_id,
    })
}

fn valid_request_id(id: &RequestId) -> bool {
    match id {
        RequestId::Text(text) => text.chars().count() <= MAX_REQUEST_ID_CHARS,
        RequestId::Number(_) => true,
    }
}

/// `{"type": "error", ...}`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ErrorFrame {
    /// The request it answers, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<RequestId>,
    /// API error code (`bad_request`, `not_found`, `rate_limited`, ...).
    pub(crate) code: String,
    /// Human-readable text.
    pub(crate) message: String,
    /// The session concerned (reply failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session_id: Option<SessionId>,
    /// The assistant message concerned (reply failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message_id: Option<MessageId>,
    /// Seconds to wait (`rate_limited`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retry_after: Option<u64>,
    /// Per-field detail (`validation_error`, `conflict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fields: Option<chatcore::FieldErrors>,
}

impl ErrorFrame {
    /// An error with a code and a message.
    pub(crate) fn new(
        request_id: Option<RequestId>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ErrorFrame {
            request_id,
            code: code.into(),
            message: message.into(),
            session_id: None,
            message_id: None,
            retry_after: None,
            fields: None,
        }
    }

    /// The error frame of a failed service call (same code, message,
    /// `Retry-After` and fields as the REST error body).
    pub(crate) fn from_service(
        request_id: Option<RequestId>,
        error: chatcore::ServiceError,
    ) -> Self {
        Self::from_api(request_id, ApiError::from(error))
    }

    /// The error frame of an API error.
    pub(crate) fn from_api(request_id: Option<RequestId>, api: ApiError) -> Self {
        ErrorFrame {
            retry_after: api.retry_after,
            fields: api.fields,
            ..ErrorFrame::new(request_id, api.code, api.message)
        }
    }
}

/// A frame from the server.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ServerFrame {
    /// Authenticated (first auth or re-auth).
    Ready {
        /// The signed-in user.
        user: UserDto,
        /// When the token expires.
        #[serde(serialize_with = "serialize_time")]
        expires_at: DateTime<Utc>,
    },
    /// A stored message.
    Message {
        /// The `send` it belongs to.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<RequestId>,
        /// The message.
        message: MessageDto,
    },
    /// The text so far of a reply being followed.
    Snapshot {
        /// The `subscribe` it answers, when it had an id.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<RequestId>,
        /// Its session.
        session_id: SessionId,
        /// The assistant message with the text so far.
        message: MessageDto,
    },
    /// The next piece of a reply.
    Delta {
        /// The `send` / `subscribe` it belongs to.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<RequestId>,
        /// Its session.
        session_id: SessionId,
        /// The assistant message.
        message_id: MessageId,
        /// Text to append.
        text: String,
    },
    /// A reply ended (`complete` or `stopped`).
    Done {
        /// The `send` / `subscribe` it belongs to.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<RequestId>,
        /// Its session.
        session_id: SessionId,
        /// The assistant message as stored.
        message: MessageDto,
        /// The provider that answered (null when none did).
        provider: Option<String>,
    },
    /// Something failed.
    Error(ErrorFrame),
    /// A session was created or changed.
    SessionUpdated {
        /// The session.
        session: SessionDto,
    },
    /// A session was deleted.
    SessionDeleted {
        /// Its id.
        session_id: SessionId,
    },
    /// The token expires soon; re-auth to keep the socket.
    TokenExpiring {
        /// When it expires.
        #[serde(serialize_with = "serialize_time")]
        expires_at: DateTime<Utc>,
    },
    /// Answer to `ping`.
    Pong {
        /// The ping's id, when it had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<RequestId>,
    },
    /// A message of a conversation the user is a member of.
    ConversationMessage {
        /// The `conversation_send` it answers (on that socket only).
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<RequestId>,
        /// The message.
        message: CMessageDto,
    },
    /// A conversation was created, renamed or its members changed.
    ConversationUpdated {
        /// The conversation as this user sees it.
        conversation: ConversationDto,
    },
    /// A member moved their read pointer.
    Read {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who read.
        user_id: UserId,
        /// Their read pointer now.
        seq: u64,
    },
    /// Another member is typing.
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who types.
        user_id: UserId,
    },
}

impl ServerFrame {
    /// `ready`.
    pub(crate) fn ready(user: &User, expires_at: DateTime<Utc>, state: &ApiState) -> Self {
        ServerFrame::Ready {
            user: UserDto::new(user, state),
            expires_at,
        }
    }

    /// `conversation_message`.
    pub(crate) fn conversation_message(
        request_id: Option<RequestId>,
        message: chatcore::messenger::ConversationMessage,
    ) -> Self {
        ServerFrame::ConversationMessage {
            request_id,
            message: CMessageDto::from(message),
        }
    }

    /// `message`.
    pub(crate) fn message(request_id: Option<RequestId>, message: &ChatMessage) -> Self {
        ServerFrame::Message {
            request_id,
            message: MessageDto::from(message),
        }
    }

    /// `session_updated`.
    pub(crate) fn session_updated(session: &ChatSession) -> Self {
        ServerFrame::SessionUpdated {
            session: SessionDto::from(session),
        }
    }

    /// The JSON text of the frame.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|error| {
            tracing::error!(%error, "could not serialise a websocket frame");
            r#"{"type":"error","code":"internal","message":"internal server error"}"#.to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bad_request(text: &str) -> bool {
        matches!(parse(text), Err(FrameError::BadRequest { .. }))
    }

    fn validation(text: &str) -> bool {
        matches!(parse(text), Err(FrameError::Validation { .. }))
    }

    #[test]
    fn known_frames_parse() {
        let session = SessionId::new();
        assert_eq!(
            parse(r#"{"type":"auth","token":"t"}"#),
            Ok(ClientFrame::Auth { token: "t".into() })
        );
        let send =
            json!({"type": "send", "request_id": "r1", "session_id": session, "content": "hi"});
        assert_eq!(
            parse(&send.to_string()),
            Ok(ClientFrame::Send {
                request_id: Some(RequestId::Text("r1".into())),
                session_id: session,
                content: "hi".into()
            })
        );
        let stop = json!({"type": "stop", "session_id": session, "extra": 1});
        assert!(matches!(
            parse(&stop.to_string()),
            Ok(ClientFrame::Stop { .. })
        ));
        let sub = json!({"type": "subscribe", "session_id": session, "request_id": 5});
        assert!(matches!(
            parse(&sub.to_string()),
            Ok(ClientFrame::Subscribe {
                request_id: Some(RequestId::Number(_)),
                ..
            })
        ));
        assert_eq!(
            parse(r#"{"type":"ping"}"#),
            Ok(ClientFrame::Ping { request_id: None })
        );
    }

    #[test]
    fn malformed_json_unknown_or_missing_type_is_bad_request() {
        for text in [
            "",
            "{",
            "not json",
            "[1,2]",
            "\"ping\"",
            "42",
            "null",
            "{}",
            r#"{"type":7}"#,
            r#"{"type":"PING"}"#,
            r#"{"type":"launch_missiles"}"#,
            "\u{0}",
        ] {
            assert!(bad_request(text), "{text:?} should be bad_request");
        }
    }

    #[test]
    fn known_type_of_the_wrong_shape_is_a_validation_error() {
        assert!(validation(
            r#"{"type":"send","session_id":"nope","content":"x"}"#
        ));
        assert!(validation(r#"{"type":"send","content":"x"}"#));
        assert!(validation(r#"{"type":"auth"}"#));
        assert!(validation(r#"{"type":"auth","token":5}"#));
        assert!(validation(r#"{"type":"ping","request_id":[1]}"#));
        let long = "x".repeat(MAX_REQUEST_ID_CHARS + 1);
        assert!(validation(
            &json!({"type": "ping", "request_id": long}).to_string()
        ));
    }

    #[test]
    fn request_id_is_echoed_in_errors() {
        let text = r#"{"type":"send","request_id":"abc","session_id":"x","content":"y"}"#;
        let frame = parse(text).err().map(FrameError::into_frame);
        let json: Value = serde_json::from_str(&frame.map(|f| f.to_json()).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(json["type"], "error");
        assert_eq!(json["code"], "validation_error");
        assert_eq!(json["request_id"], "abc");
    }

    #[test]
    fn frames_serialise_with_their_type_and_without_absent_ids() {
        let pong = ServerFrame::Pong { request_id: None }.to_json();
        assert_eq!(pong, r#"{"type":"pong"}"#);
        let deleted = ServerFrame::SessionDeleted {
            session_id: SessionId::new(),
        }
        .to_json();
        assert!(deleted.starts_with(r#"{"type":"session_deleted","session_id":""#));
        let expiring = ServerFrame::TokenExpiring {
            expires_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
        };
        assert_eq!(
            expiring.to_json(),
            r#"{"type":"token_expiring","expires_at":"2027-01-15T08:00:00.000Z"}"#
        );
        let done = ServerFrame::Done {
            request_id: Some(RequestId::Number(3.into())),
            session_id: SessionId::new(),
            message: MessageDto::from(&ChatMessage {
                id: MessageId::new(),
                session_id: SessionId::new(),
                role: chatcore::Role::Assistant,
                content: "x".into(),
                status: chatcore::MessageStatus::Stopped,
                provider: None,
                model: None,
                usage: None,
                timestamp: Utc::now(),
            }),
            provider: None,
        };
        let json: Value = serde_json::from_str(&done.to_json()).unwrap_or_default();
        assert_eq!(json["request_id"], 3);
        assert_eq!(json["provider"], Value::Null);
        assert_eq!(json["message"]["status"], "stopped");
    }
}
