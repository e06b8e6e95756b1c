//! Input rules of the API ("Precise rules"), one function per field.
//!
//! Lengths count Unicode scalar values; trimming is [`str::trim`].

use std::sync::LazyLock;

use regex::Regex;

use crate::error::ServiceError;
use crate::patterns;

/// Longest accepted message, in characters, as sent.
pub const MAX_CONTENT_CHARS: usize = 32_000;
/// Longest accepted title, in characters, after trimming.
pub const MAX_TITLE_CHARS: usize = 200;
/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in characters.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Shortest username.
pub const MIN_USERNAME_CHARS: usize = 3;
/// Longest username.
pub const MAX_USERNAME_CHARS: usize = 32;
/// Longest display name, after trimming.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// Longest people-search query, after trimming.
pub const MAX_SEARCH_QUERY_CHARS: usize = 64;
/// Longest idempotency key of a conversation message.
pub const MAX_CLIENT_ID_CHARS: usize = 64;
/// Longest email (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Trims and lower-cases an email and checks that it is a valid address as
/// browsers define it, with a dot in the domain ([`patterns::EMAIL`]), of at
/// most 254 characters.
pub fn email(raw: &str) -> Result<String, ServiceError> {
    static EMAIL: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(patterns::EMAIL).ok());
    let email = raw.trim();
    if email.is_empty() {
        return Err(ServiceError::field("email", "is required"));
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(ServiceError::field(
            "email",
            format!("must be at most {MAX_EMAIL_CHARS} characters"),
        ));
    }
    if !EMAIL.as_ref().is_some_and(|re| re.is_match(email)) {
        return Err(ServiceError::field("email", "is not a valid email address"));
    }
    Ok(email.to_ascii_lowercase())
}

/// Checks a password's length (8..=128 characters).
pub fn password(raw: &str) -> Result<(), ServiceError> {
    let len = raw.chars().count();
    if len < MIN_PASSWORD_CHARS {
        return Err(ServiceError::field(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if len > MAX_PASSWORD_CHARS {
        return Err(ServiceError::field(
            "password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Checks a chosen username: 3..=32 of `[A-Za-z0-9_.-]` (not trimmed: spaces are invalid).
pub fn username(raw: &str) -> Result<String, ServiceError> {
    if raw.is_empty() {
        return Err(ServiceError::field("username", "must not be empty"));
    }
    let len = raw.chars().count();
    if !(MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&len) {
        return Err(ServiceError::field(
            "username",
            format!("must be {MIN_USERNAME_CHARS} to {MAX_USERNAME_CHARS} characters"),
        ));
    }
    if !raw.chars().all(is_username_char) {
        return Err(ServiceError::field(
            "username",
            "may only contain letters, digits, '_', '.' and '-'",
        ));
    }
    Ok(raw.to_owned())
}

/// A username derived from an email's local part: the allowed characters,
/// at most 24 of them (room for a suffix), at least 3 (padded with `user`).
pub fn username_from_email(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut base: String = local
        .chars()
        .filter(|c| is_username_char(*c))
        .take(24)
        .collect();
    if base.chars().count() < MIN_USERNAME_CHARS {
        base = format!("{base}user");
    }
    base
}

/// Checks message content: not empty after trimming, at most 32,000
/// characters as sent, no NUL. Returns it unchanged.
pub fn content(raw: &str) -> Result<&str, ServiceError> {
    content_of("content", raw)
}

fn content_of<'a>(field: &str, raw: &'a str) -> Result<&'a str, ServiceError> {
    if raw.trim().is_empty() {
        return Err(ServiceError::field(field, "must not be empty"));
    }
    text_of(field, raw)
}

fn text_of<'a>(field: &str, raw: &'a str) -> Result<&'a str, ServiceError> {
    if raw.chars().count() > MAX_CONTENT_CHARS {
        return Err(ServiceError::field(
            field,
            format!("must be at most {MAX_CONTENT_CHARS} characters"),
        ));
    }
    if raw.contains('\0') {
        return Err(ServiceError::field(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(raw)
}

/// Checks the text of a conversation message: the content rules, except
/// that it may be empty (or only white space) when the message has an image.
pub fn message_text(raw: &str, has_image: bool) -> Result<&str, ServiceError> {
    if has_image {
        text_of("text", raw)
    } else {
        content_of("text", raw)
    }
}

/// Trims a display name and checks it is 1..=64 characters without control
/// characters.
pub fn display_name(raw: &str) -> Result<String, ServiceError> {
    bounded_line("display_name", raw.trim(), MAX_DISPLAY_NAME_CHARS)
}

/// Trims a people-search query and checks it is 1..=64 characters without
/// control characters.
pub fn search_query(raw: &str) -> Result<String, ServiceError> {
    bounded_line("q", raw.trim(), MAX_SEARCH_QUERY_CHARS)
}

/// Checks a client's idempotency key: 1..=64 characters without control
/// characters, kept exactly as sent.
pub fn client_id(raw: &str) -> Result<String, ServiceError> {
    bounded_line("client_id", raw, MAX_CLIENT_ID_CHARS)
}

fn bounded_line(field: &str, value: &str, max: usize) -> Result<String, ServiceError> {
    if value.is_empty() {
        return Err(ServiceError::field(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ServiceError::field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ServiceError::field(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Trims a title and checks it is 1..=200 characters without NUL.
pub fn title(raw: &str) -> Result<String, ServiceError> {
    let title = raw.trim();
    if title.is_empty() {
        return Err(ServiceError::field("title", "must not be empty"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ServiceError::field(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        ));
    }
    if title.contains('\0') {
        return Err(ServiceError::field(
            "title",
            "must not contain NUL characters",
        ));
    }
    Ok(title.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email("  Alice@Example.COM ").unwrap(), "alice@example.com");
        assert_eq!(
            email("a.b+c@x-y.example.org").unwrap(),
            "a.b+c@x-y.example.org"
        );
        let longest = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - 12));
        assert_eq!(email(&longest).unwrap().chars().count(), MAX_EMAIL_CHARS);
        assert!(email(&format!("a{longest}")).is_err());
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "a b@example.com",
            "alice@@example.com",
            "alice@-example.com",
            "alice@example-.com",
            "alice@example..com",
            "\"alice\"@example.com",
            "Alice <alice@example.com>",
            "alice@[127.0.0.1]",
            "josé@example.com",
        ] {
            assert!(email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn password_length_counts_characters() {
        assert!(password("1234567").is_err());
        assert!(password("12345678").is_ok());
        assert!(password(&"é".repeat(128)).is_ok());
        assert!(password(&"é".repeat(129)).is_err());
        assert!(password("ééééééé").is_err());
    }

    #[test]
    fn usernames_follow_the_rules() {
        assert!(username("ab").is_err());
        assert!(username("").is_err());
        assert!(username("al ice").is_err());
        assert!(username("alice.b-c_d").is_ok());
        assert!(username(&"a".repeat(33)).is_err());
        assert_eq!(username_from_email("Jo+tag@example.com"), "Jotag");
        assert_eq!(username_from_email("x@example.com"), "xuser");
        assert_eq!(
            username_from_email(&format!("{}@example.com", "a".repeat(40))).len(),
            24
        );
    }

    #[test]
    fn messenger_lines_are_trimmed_bounded_and_printable() {
        assert_eq!(display_name("  Élodie Martin ").unwrap(), "Élodie Martin");
        assert!(display_name("   ").is_err());
        assert!(display_name(&"é".repeat(64)).is_ok());
        assert!(display_name(&"é".repeat(65)).is_err());
        assert!(display_name("a\u{7}b").is_err());
        assert!(display_name("a\nb").is_err());
        assert_eq!(search_query(" ÉLO ").unwrap(), "ÉLO");
        assert!(search_query("").is_err());
        assert_eq!(client_id(" a ").unwrap(), " a ");
        assert!(client_id("").is_err());
        assert!(client_id(&"x".repeat(65)).is_err());
    }

    #[test]
    fn message_text_may_be_empty_only_with_an_image() {
        assert!(message_text("", false).is_err());
        assert!(message_text("  ", false).is_err());
        assert_eq!(message_text("", true).unwrap(), "");
        assert!(message_text("a\0", true).is_err());
        assert!(message_text(&"x".repeat(32_001), true).is_err());
        assert_eq!(message_text(" hi ", false).unwrap(), " hi ");
    }

    #[test]
    fn content_rules() {
        assert!(content("   \n\t").is_err());
        assert!(content("a\0b").is_err());
        assert_eq!(content("  hi  ").unwrap(), "  hi  ");
        assert!(content(&"é".repeat(32_000)).is_ok());
        assert!(content(&"é".repeat(32_001)).is_err());
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(title("  Trip plans ").unwrap(), "Trip plans");
        assert!(title("   ").is_err());
        assert!(title(&"t".repeat(200)).is_ok());
        assert!(title(&"t".repeat(201)).is_err());
    }
}
