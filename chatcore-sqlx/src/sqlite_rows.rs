//! SQLite rows and the statements shared by the store and its group-commit
//! writer: column lists, row decoding, and the two reply-path writes.

use chatcore::{ChatMessage, ChatSession, MessageId, MessageUpdate, SessionId, User, UserId};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::error::Error;
use crate::rows;

pub(crate) const USER_COLUMNS: &str =
    "id, email, username, display_name, avatar, password_hash, created_at, updated_at";
pub(crate) const SESSION_COLUMNS: &str =
    "id, user_id, title, title_explicit, created_at, updated_at";
pub(crate) const MESSAGE_COLUMNS: &str = "id, session_id, role, content, status, provider, model, \
                               prompt_tokens, completion_tokens, timestamp";

pub(crate) fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

pub(crate) fn user_from_row(row: &SqliteRow) -> Result<User, Error> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        email: row.try_get("email")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        avatar: row.try_get("avatar")?,
        created_at: rows::time_from_micros(row.try_get("created_at")?)?,
        updated_at: rows::time_from_micros(row.try_get("updated_at")?)?,
    })
}

pub(crate) fn session_from_row(row: &SqliteRow) -> Result<ChatSession, Error> {
    Ok(ChatSession {
        id: SessionId(row.try_get("id")?),
        user_id: UserId(row.try_get("user_id")?),
        title: row.try_get("title")?,
        title_explicit: rows::flag(row.try_get("title_explicit")?),
        created_at: rows::time_from_micros(row.try_get("created_at")?)?,
        updated_at: rows::time_from_micros(row.try_get("updated_at")?)?,
    })
}

pub(crate) fn message_from_row(row: &SqliteRow) -> Result<ChatMessage, Error> {
    Ok(ChatMessage {
        id: MessageId(row.try_get("id")?),
        session_id: SessionId(row.try_get("session_id")?),
        role: rows::role(row.try_get("role")?)?,
        content: row.try_get("content")?,
        status: rows::status(row.try_get("status")?)?,
        provider: row.try_get("provider")?,
        model: row.try_get("model")?,
        usage: rows::usage(
            row.try_get("prompt_tokens")?,
            row.try_get("completion_tokens")?,
        )?,
        timestamp: rows::time_from_micros(row.try_get("timestamp")?)?,
    })
}

/// `INSERT INTO chat_messages … VALUES (…), (…)` for `rows` messages, with
/// numbered parameters (`$1`…`$10` for the first row, and so on).
pub(crate) fn insert_messages_sql(rows: usize) -> String {
    const COLUMNS: usize = 10;
    let mut sql = String::from(
        "INSERT INTO chat_messages (id, session_id, role, content, status, provider, model, \
         prompt_tokens, completion_tokens, timestamp) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..COLUMNS {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * COLUMNS + column + 1));
        }
        sql.push(')');
    }
    sql
}

/// Appends `messages` in one multi-row `INSERT` on `conn` (the trigger moves
/// their sessions' `updated_at`).
pub(crate) async fn exec_append(
    conn: &mut SqliteConnection,
    messages: &[ChatMessage],
) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let sql = insert_messages_sql(messages.len());
    let mut query = sqlx::query(&sql);
    for message in messages {
        let (prompt_tokens, completion_tokens) = rows::usage_columns(message.usage);
        query = query
            .bind(message.id.0)
            .bind(message.session_id.0)
            .bind(message.role.as_str())
            .bind(&message.content)
            .bind(message.status.as_str())
            .bind(&message.provider)
            .bind(&message.model)
            .bind(prompt_tokens)
            .bind(completion_tokens)
            .bind(micros(message.timestamp));
    }
    query.execute(conn).await.map(|_| ())
}

/// Rewrites a message on `conn`; `None` when no message has that id.
pub(crate) async fn exec_update(
    conn: &mut SqliteConnection,
    id: MessageId,
    update: &MessageUpdate,
) -> Result<Option<ChatMessage>, sqlx::Error> {
    let (prompt_tokens, completion_tokens) = rows::usage_columns(update.usage);
    let sql = format!(
        "UPDATE chat_messages SET content = $1, status = $2, provider = $3, model = $4, \
         prompt_tokens = $5, completion_tokens = $6 WHERE id = $7 \
         RETURNING {MESSAGE_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(&update.content)
        .bind(update.status.as_str())
        .bind(&update.provider)
        .bind(&update.model)
        .bind(prompt_tokens)
        .bind(completion_tokens)
        .bind(id.0)
        .fetch_optional(conn)
        .await?;
    row.as_ref()
        .map(message_from_row)
        .transpose()
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}
