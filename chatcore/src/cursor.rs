//! The opaque paging cursor of the session list (and of any list paged by
//! `(time, id)` descending).
//!
//! A cursor is the position after the last item of a page: its time in
//! microseconds (8 bytes, big-endian) and its id (16 bytes), 24 bytes in
//! URL-safe base64 without padding, so always 32 characters
//! ([`patterns::CURSOR`](crate::patterns::CURSOR)). Every string of that
//! shape decodes to a position, so the set of accepted cursors is exactly
//! what the pattern describes; anything else is 422. A position that was
//! never issued only moves the page within the caller's own list.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::clock;
use crate::error::ServiceError;

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Latest time a cursor can name: 9999-12-31T23:59:59.999999Z (a
/// position past every real item). Earlier than 1970 is clamped to 1970.
const MAX_MICROS: i64 = 253_402_300_799_999_999;

/// The cursor for the position after (`time`, `id`).
pub(crate) fn encode(time: DateTime<Utc>, id: Uuid) -> String {
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&time.timestamp_micros().to_be_bytes());
    bytes[8..].copy_from_slice(id.as_bytes());
    ENGINE.encode(bytes)
}

/// The position a cursor names; `field` names the query parameter in the error.
pub(crate) fn decode(cursor: &str, field: &str) -> Result<(DateTime<Utc>, Uuid), ServiceError> {
    let invalid = || ServiceError::field(field, "is not a valid cursor");
    if cursor.len() != 32 {
        return Err(invalid());
    }
    let bytes = ENGINE.decode(cursor).map_err(|_| invalid())?;
    let (micros, id) = bytes.split_at_checked(8).ok_or_else(invalid)?;
    let micros = i64::from_be_bytes(micros.try_into().map_err(|_| invalid())?);
    let id = Uuid::from_slice(id).map_err(|_| invalid())?;
    Ok((clock::from_micros(micros.clamp(0, MAX_MICROS)), id))
}

/// Checks a page size: `None` is `default`, otherwise 1..=`max` (else 422
/// on the field `limit`).
pub(crate) fn page_limit(limit: Option<i64>, default: u32, max: u32) -> Result<u32, ServiceError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=i64::from(max)).contains(&n) => Ok(n as u32),
        Some(_) => Err(ServiceError::field(
            "limit",
            format!("must be between 1 and {max}"),
        )),
    }
}

/// Cuts a page read with `limit + 1` rows down to `limit` and returns the
/// cursor of the next page when there was one more row; `position` gives
/// an item's `(time, id)`.
pub(crate) fn split_page<T>(
    mut items: Vec<T>,
    limit: u32,
    position: impl Fn(&T) -> (DateTime<Utc>, Uuid),
) -> (Vec<T>, Option<String>) {
    if items.len() <= limit as usize {
        return (items, None);
    }
    items.truncate(limit as usize);
    let next = items.last().map(|item| {
        let (time, id) = position(item);
        encode(time, id)
    });
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn round_trips_at_microsecond_precision() {
        let time = clock::now();
        let id = clock::new_v7();
        let cursor = encode(time, id);
        assert_eq!(cursor.len(), 32);
        assert!(Regex::new(crate::patterns::CURSOR)
            .unwrap()
            .is_match(&cursor));
        assert_eq!(decode(&cursor, "cursor").unwrap(), (time, id));
    }

    #[test]
    fn every_string_of_the_pattern_is_a_position() {
        for cursor in [
            "A".repeat(32),
            "_".repeat(32),
            "-".repeat(32),
            "z9".repeat(16),
        ] {
            let (time, _) = decode(&cursor, "cursor").unwrap();
            assert!(time.timestamp_micros() >= 0);
            assert!(time.timestamp_micros() <= MAX_MICROS);
        }
    }

    #[test]
    fn other_strings_are_refused() {
        for cursor in [
            "",
            "bogus",
            &"A".repeat(31),
            &"A".repeat(33),
            &"+".repeat(32),
            &"=".repeat(32),
        ] {
            let error = decode(cursor, "cursor").unwrap_err();
            assert!(
                error.fields().is_some_and(|f| f.contains_key("cursor")),
                "{cursor:?}"
            );
        }
    }
}
