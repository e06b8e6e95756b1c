//! Decoding the messenger's rows (the same columns on both backends) and
//! putting conversation views together.

use std::collections::HashMap;

use chatcore::messenger::{Conversation, ConversationKind, ConversationMessage, Media, Person};
use chatcore::{ConversationId, ConversationMessageId, MediaId, User, UserId};
use chrono::{DateTime, Utc};

use super::Columns;
use crate::error::Error;
use crate::rows::{role, status, time_from_micros};

fn time(row: &impl Columns, column: &str) -> Result<DateTime<Utc>, Error> {
    time_from_micros(row.int(column)?)
}

/// A stored `seq`, read pointer or count.
pub(crate) fn count(row: &impl Columns, column: &str) -> Result<u64, Error> {
    let value = row.int(column)?;
    u64::try_from(value).map_err(|_| Error::InvalidRow(format!("{column} {value} is negative")))
}

fn dimension(row: &impl Columns, column: &str) -> Result<u32, Error> {
    let value = row.int(column)?;
    u32::try_from(value).map_err(|_| Error::InvalidRow(format!("{column} {value} out of range")))
}

/// `id, username, display_name, avatar`.
pub(crate) fn person(row: &impl Columns) -> Result<Person, Error> {
    Ok(Person {
        id: UserId(row.id("id")?),
        username: row.text("username")?,
        display_name: row.text("display_name")?,
        avatar: row.opt_text("avatar")?,
    })
}

/// `sql::user_columns!`.
pub(crate) fn user(row: &impl Columns) -> Result<User, Error> {
    Ok(User {
        id: UserId(row.id("id")?),
        email: row.text("email")?,
        username: row.text("username")?,
        display_name: row.text("display_name")?,
        avatar: row.opt_text("avatar")?,
        created_at: row.user_time("created_at")?,
        updated_at: row.user_time("updated_at")?,
    })
}

/// `sql::media_columns!`; `None` when the row has no image.
pub(crate) fn media(row: &impl Columns) -> Result<Option<Media>, Error> {
    let Some(id) = row.opt_id("media_id")? else {
        return Ok(None);
    };
    Ok(Some(Media {
        id: MediaId(id),
        owner_id: UserId(row.id("media_owner_id")?),
        content_type: row.text("media_content_type")?,
        width: dimension(row, "media_width")?,
        height: dimension(row, "media_height")?,
        bytes: count(row, "media_bytes")?,
        key: row.text("media_key")?,
        created_at: time(row, "media_created_at")?,
    }))
}

/// `sql::message_select!`.
pub(crate) fn message(row: &impl Columns) -> Result<ConversationMessage, Error> {
    Ok(ConversationMessage {
        id: ConversationMessageId(row.id("id")?),
        conversation_id: ConversationId(row.id("conversation_id")?),
        seq: count(row, "seq")?,
        author: role(&row.text("author")?)?,
        sender_id: row.opt_id("sender_id")?.map(UserId),
        text: row.text("text")?,
        image: media(row)?,
        status: status(&row.text("status")?)?,
        provider: row.opt_text("provider")?,
        model: row.opt_text("model")?,
        client_id: row.opt_text("client_id")?,
        created_at: time(row, "created_at")?,
    })
}

/// A conversation as its viewer sees it, before members and messages
/// (`sql::head_select!`).
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) id: ConversationId,
    kind: ConversationKind,
    title: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_read_seq: u64,
}

pub(crate) fn head(row: &impl Columns) -> Result<Head, Error> {
    let kind = row.text("kind")?;
    Ok(Head {
        id: ConversationId(row.id("id")?),
        kind: kind
            .parse()
            .map_err(|_| Error::InvalidRow(format!("unknown conversation kind `{kind}`")))?,
        title: row.opt_text("title")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        last_read_seq: count(row, "last_read_seq")?,
    })
}

/// The rows that complete a page of [`Head`]s.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    /// `(conversation, member)` in join order.
    pub(crate) members: Vec<(ConversationId, Person)>,
    pub(crate) last_messages: Vec<ConversationMessage>,
    pub(crate) unread: Vec<(ConversationId, u64)>,
}

/// The conversations of `heads`, in their order.
pub(crate) fn assemble(heads: Vec<Head>, parts: Parts) -> Vec<Conversation> {
    let mut members: HashMap<ConversationId, Vec<Person>> = HashMap::new();
    for (id, person) in parts.members {
        members.entry(id).or_default().push(person);
    }
    let mut last: HashMap<ConversationId, ConversationMessage> = parts
        .last_messages
        .into_iter()
        .map(|m| (m.conversation_id, m))
        .collect();
    let unread: HashMap<ConversationId, u64> = parts.unread.into_iter().collect();
    heads
        .into_iter()
        .map(|head| Conversation {
            id: head.id,
            kind: head.kind,
            title: head.title,
            members: members.remove(&head.id).unwrap_or_default(),
            created_at: head.created_at,
            updated_at: head.updated_at,
            last_message: last.remove(&head.id),
            unread_count: unread.get(&head.id).copied().unwrap_or(0),
            last_read_seq: head.last_read_seq,
        })
        .collect()
}
