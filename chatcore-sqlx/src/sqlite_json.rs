//! Multi-row reads on SQLite as one JSON row.
//!
//! sqlx's SQLite driver runs each connection on its own thread and hands
//! every result row to the async caller through a channel, one message (and
//! often one thread wake-up) per row, copying each column value on the way:
//! about 10 µs per row, 500 µs for a 50-message history (`benches/benches/store.rs`).
//! The hot multi-row reads therefore let SQLite build the whole result as one
//! JSON array (`json_group_array(json_object(…) ORDER BY …)`, SQLite ≥ 3.44)
//! and parse it here: one row crosses the thread boundary whatever the count.
//! Ids travel as hex (`hex(id)` of the 16-byte blob), times as integer
//! microseconds, so nothing is lost.

use chatcore::{ChatMessage, ChatSession, MessageId, SessionId, UserId};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::Error;
use crate::rows;

/// `json_object(…)` of a `chat_messages` row, for [`messages`].
pub(crate) const MESSAGE_OBJECT: &str =
    "json_object('id', hex(id), 'session_id', hex(session_id), \
     'role', role, 'content', content, 'status', status, 'provider', provider, 'model', model, \
     'prompt_tokens', prompt_tokens, 'completion_tokens', completion_tokens, \
     'timestamp', timestamp)";

/// `json_object(…)` of a `chat_sessions` row, for [`sessions`].
pub(crate) const SESSION_OBJECT: &str = "json_object('id', hex(id), 'user_id', hex(user_id), \
     'title', title, 'title_explicit', title_explicit, 'created_at', created_at, \
     'updated_at', updated_at)";

#[derive(Deserialize)]
struct MessageJson {
    id: String,
    session_id: String,
    role: String,
    content: String,
    status: String,
    provider: Option<String>,
    model: Option<String>,
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
    timestamp: i64,
}

#[derive(Deserialize)]
struct SessionJson {
    id: String,
    user_id: String,
    title: String,
    title_explicit: i64,
    created_at: i64,
    updated_at: i64,
}

fn uuid(hex: &str) -> Result<Uuid, Error> {
    Uuid::try_parse(hex).map_err(|_| Error::InvalidRow(format!("invalid id `{hex}`")))
}

fn array<T: for<'de> Deserialize<'de>>(json: &str) -> Result<Vec<T>, Error> {
    serde_json::from_str(json).map_err(|e| Error::InvalidRow(format!("invalid JSON rows: {e}")))
}

/// The messages of a `json_group_array` of [`MESSAGE_OBJECT`].
pub(crate) fn messages(json: &str) -> Result<Vec<ChatMessage>, Error> {
    array::<MessageJson>(json)?
        .into_iter()
        .map(|m| {
            Ok(ChatMessage {
                id: MessageId(uuid(&m.id)?),
                session_id: SessionId(uuid(&m.session_id)?),
                role: rows::role(&m.role)?,
                content: m.content,
                status: rows::status(&m.status)?,
                provider: m.provider,
                model: m.model,
                usage: rows::usage(m.prompt_tokens, m.completion_tokens)?,
                timestamp: rows::time_from_micros(m.timestamp)?,
            })
        })
        .collect()
}

/// The sessions of a `json_group_array` of [`SESSION_OBJECT`].
pub(crate) fn sessions(json: &str) -> Result<Vec<ChatSession>, Error> {
    array::<SessionJson>(json)?
        .into_iter()
        .map(|s| {
            Ok(ChatSession {
                id: SessionId(uuid(&s.id)?),
                user_id: UserId(uuid(&s.user_id)?),
                title: s.title,
                title_explicit: rows::flag(s.title_explicit),
                created_at: rows::time_from_micros(s.created_at)?,
                updated_at: rows::time_from_micros(s.updated_at)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_upper_case_hex_ids_and_nulls() {
        let json = r#"[{"id":"01A22E28BF2A720CBF83A179B6891320","session_id":"01A22E28BF2A720CBF83A179B6891321",
            "role":"assistant","content":"héllo \"x\"","status":"complete","provider":null,"model":null,
            "prompt_tokens":null,"completion_tokens":null,"timestamp":1763771554654321}]"#;
        let parsed = messages(json).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(
            parsed[0].id.0.to_string(),
            "01a22e28-bf2a-720c-bf83-a179b6891320"
        );
        assert_eq!(parsed[0].content, "héllo \"x\"");
        assert_eq!(parsed[0].usage, None);
        assert_eq!(
            parsed[0].timestamp.timestamp_micros(),
            1_763_771_554_654_321
        );
    }

    #[test]
    fn rejects_bad_rows() {
        assert!(messages("[{}]").is_err());
        assert!(sessions(r#"[{"id":"zz","user_id":"zz","title":"t","title_explicit":0,"created_at":0,"updated_at":0}]"#).is_err());
        assert!(sessions("[]").unwrap().is_empty());
    }
}
