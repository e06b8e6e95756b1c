//! Conversions between stored column values and domain values, shared by
//! both backends.

use chatcore::{MessageStatus, Role, Usage};
use chrono::{DateTime, TimeZone, Utc};

use crate::error::Error;

/// Parses a stored role.
pub(crate) fn role(value: &str) -> Result<Role, Error> {
    value
        .parse()
        .map_err(|_| Error::InvalidRow(format!("unknown role `{value}`")))
}

/// Parses a stored status.
pub(crate) fn status(value: &str) -> Result<MessageStatus, Error> {
    value
        .parse()
        .map_err(|_| Error::InvalidRow(format!("unknown message status `{value}`")))
}

/// Token counts from their two nullable columns (both or neither).
pub(crate) fn usage(prompt: Option<i64>, completion: Option<i64>) -> Result<Option<Usage>, Error> {
    match (prompt, completion) {
        (Some(prompt), Some(completion)) => Ok(Some(Usage {
            prompt_tokens: tokens(prompt)?,
            completion_tokens: tokens(completion)?,
        })),
        _ => Ok(None),
    }
}

fn tokens(value: i64) -> Result<u32, Error> {
    u32::try_from(value).map_err(|_| Error::InvalidRow(format!("token count {value} out of range")))
}

/// The two nullable token columns of a usage.
pub(crate) fn usage_columns(usage: Option<Usage>) -> (Option<i64>, Option<i64>) {
    match usage {
        Some(u) => (
            Some(i64::from(u.prompt_tokens)),
            Some(i64::from(u.completion_tokens)),
        ),
        None => (None, None),
    }
}

/// A 0/1 flag column.
pub(crate) fn flag(value: i64) -> bool {
    value != 0
}

/// A time stored as microseconds since the Unix epoch (SQLite, and the
/// messenger's tables on both backends).
pub(crate) fn time_from_micros(micros: i64) -> Result<DateTime<Utc>, Error> {
    Utc.timestamp_micros(micros)
        .single()
        .ok_or_else(|| Error::InvalidRow(format!("timestamp {micros} out of range")))
}

/// The people-search keys of a new user: the folded display name and
/// username (see `migrations/*/20261201000001_messenger_users.sql`).
pub(crate) fn search_keys(display_name: &str, username: &str) -> (String, String) {
    (
        chatcore::fold::fold(display_name),
        chatcore::fold::fold(username),
    )
}
