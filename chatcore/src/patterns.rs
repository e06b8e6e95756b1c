//! The input rules of [`crate::validate`] as regular expressions, for
//! documents that describe the API to its clients (the OpenAPI document's
//! `pattern`s): a client that sends a string matching the pattern (and the
//! field's `maxLength`, where one is given) is accepted, and one that does
//! not is refused with 422.
//!
//! The patterns use only the syntax shared by ECMA-262 (JSON Schema),
//! Python's `re` and Rust's `regex`: classes, `\xHH` and `\uHHHH` escapes,
//! bounded repetition, non-capturing groups; no look-around. The tests of
//! this module check each against its rule in `validate`, so the two cannot
//! drift apart; the email rule *is* its pattern.

/// Unicode `White_Space` (what [`str::trim`] removes) as the body of a
/// character class.
macro_rules! white_space {
    () => {
        r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

/// A valid email address as the WHATWG HTML standard defines it (what a
/// browser's `<input type="email">` accepts: an ASCII dot-atom-like local
/// part, `@`, LDH labels of at most 63 characters) whose domain has at least
/// two labels. Checked after trimming; at most
/// [`MAX_EMAIL_CHARS`](crate::validate::MAX_EMAIL_CHARS) characters.
pub const EMAIL: &str = concat!(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@",
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
);

/// A chosen username: 3..=32 of `[A-Za-z0-9_.-]`, not trimmed.
pub const USERNAME: &str = r"^[A-Za-z0-9_.-]{3,32}$";

/// Message content (with `maxLength` 32,000 as sent): at least one
/// character that is not white space, and no NUL.
pub const CONTENT: &str = concat!(r"^[^\x00]*[^\x00", white_space!(), r"][^\x00]*$");

/// A title: after trimming, 1..=200 characters without NUL; any white space
/// around them is allowed (it is trimmed away).
pub const TITLE: &str = concat!(
    "^[",
    white_space!(),
    r"]*[^\x00",
    white_space!(),
    r"](?:[^\x00]{0,198}[^\x00",
    white_space!(),
    "])?[",
    white_space!(),
    "]*$"
);

/// Control characters (what [`char::is_control`] matches: Unicode `Cc`) as
/// the body of a character class.
macro_rules! control {
    () => {
        r"\x00-\x1F\x7F-\x9F"
    };
}

/// A line of 1..=64 characters after trimming, without control characters
/// (white space around it, even a control character such as a tab, is
/// trimmed away).
macro_rules! trimmed_line_64 {
    () => {
        concat!(
            "^[",
            white_space!(),
            "]*[^",
            control!(),
            white_space!(),
            "](?:[^",
            control!(),
            "]{0,62}[^",
            control!(),
            white_space!(),
            "])?[",
            white_space!(),
            "]*$"
        )
    };
}

/// A display name: after trimming, 1..=64 characters
/// ([`MAX_DISPLAY_NAME_CHARS`](crate::validate::MAX_DISPLAY_NAME_CHARS))
/// without control characters.
pub const DISPLAY_NAME: &str = trimmed_line_64!();

/// A people-search query: after trimming, 1..=64 characters
/// ([`MAX_SEARCH_QUERY_CHARS`](crate::validate::MAX_SEARCH_QUERY_CHARS))
/// without control characters.
pub const SEARCH_QUERY: &str = trimmed_line_64!();

/// A client's idempotency key: 1..=64 characters
/// ([`MAX_CLIENT_ID_CHARS`](crate::validate::MAX_CLIENT_ID_CHARS)) without
/// control characters, not trimmed.
pub const CLIENT_ID: &str = concat!("^[^", control!(), "]{1,64}$");

/// The text of a conversation message that has an image (with `maxLength`
/// 32,000 as sent): anything without NUL, even empty. Without an image the
/// text follows [`CONTENT`].
pub const MESSAGE_TEXT: &str = r"^[^\x00]*$";

/// A paging cursor: 32 characters of the URL-safe base64 alphabet (the
/// 24 bytes of a position in a list). The server issues only these.
pub const CURSOR: &str = r"^[A-Za-z0-9_-]{32}$";

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;
    use crate::validate;

    /// Every string of up to `len` characters over `alphabet`.
    fn strings(alphabet: &[char], len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..len {
            last = last
                .iter()
                .flat_map(|s| {
                    alphabet.iter().map(move |c| {
                        let mut next = s.clone();
                        next.push(*c);
                        next
                    })
                })
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    /// White space of every kind, characters that look like it but are not
    /// (U+200B, U+001C), NUL, control characters, letters.
    const TRICKY: &[char] = &[
        'a', ' ', '\t', '\n', '\u{85}', '\u{a0}', '\u{3000}', '\u{200b}', '\u{1c}', '\0', '\u{7f}',
        'é',
    ];

    #[test]
    fn white_space_is_what_trim_removes() {
        let class = Regex::new(concat!("^[", white_space!(), "]$")).unwrap();
        for code in 0..=0x10FFFFu32 {
            if let Some(c) = char::from_u32(code) {
                assert_eq!(
                    class.is_match(c.encode_utf8(&mut [0; 4])),
                    c.is_whitespace(),
                    "U+{code:04X}"
                );
            }
        }
    }

    #[test]
    fn content_pattern_is_the_content_rule() {
        let pattern = Regex::new(CONTENT).unwrap();
        for text in strings(TRICKY, 3) {
            assert_eq!(
                pattern.is_match(&text),
                validate::content(&text).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn title_pattern_is_the_title_rule() {
        let pattern = Regex::new(TITLE).unwrap();
        for text in strings(TRICKY, 3) {
            assert_eq!(
                pattern.is_match(&text),
                validate::title(&text).is_ok(),
                "{text:?}"
            );
        }
        for (len, ok) in [(199, true), (200, true), (201, false)] {
            let text = format!(" \u{3000}t t{} \n", "t".repeat(len - 3));
            assert_eq!(pattern.is_match(&text), ok, "{len}");
            assert_eq!(validate::title(&text).is_ok(), ok, "{len}");
        }
    }

    #[test]
    fn username_pattern_is_the_username_rule() {
        let pattern = Regex::new(USERNAME).unwrap();
        let alphabet = ['a', 'Z', '0', '_', '.', '-', ' ', 'é', '\n'];
        for text in strings(&alphabet, 4) {
            assert_eq!(
                pattern.is_match(&text),
                validate::username(&text).is_ok(),
                "{text:?}"
            );
        }
        assert!(pattern.is_match(&"a".repeat(32)));
        assert!(!pattern.is_match(&"a".repeat(33)));
    }

    #[test]
    fn display_name_and_search_patterns_are_their_rules() {
        let display = Regex::new(DISPLAY_NAME).unwrap();
        let search = Regex::new(SEARCH_QUERY).unwrap();
        for text in strings(TRICKY, 3) {
            assert_eq!(
                display.is_match(&text),
                validate::display_name(&text).is_ok(),
                "{text:?}"
            );
            assert_eq!(
                search.is_match(&text),
                validate::search_query(&text).is_ok(),
                "{text:?}"
            );
        }
        for (len, ok) in [(63, true), (64, true), (65, false)] {
            let text = format!("\t \u{3000}n n{} \n", "n".repeat(len - 3));
            assert_eq!(display.is_match(&text), ok, "{len}");
            assert_eq!(validate::display_name(&text).is_ok(), ok, "{len}");
            assert_eq!(search.is_match(&text), ok, "{len}");
            assert_eq!(validate::search_query(&text).is_ok(), ok, "{len}");
        }
    }

    #[test]
    fn client_id_pattern_is_the_client_id_rule() {
        let pattern = Regex::new(CLIENT_ID).unwrap();
        for text in strings(TRICKY, 3) {
            assert_eq!(
                pattern.is_match(&text),
                validate::client_id(&text).is_ok(),
                "{text:?}"
            );
        }
        for (len, ok) in [(64, true), (65, false)] {
            let text = "é".repeat(len);
            assert_eq!(pattern.is_match(&text), ok, "{len}");
            assert_eq!(validate::client_id(&text).is_ok(), ok, "{len}");
        }
    }

    #[test]
    fn message_text_pattern_is_the_rule_for_text_with_an_image() {
        let pattern = Regex::new(MESSAGE_TEXT).unwrap();
        for text in strings(TRICKY, 3) {
            assert_eq!(
                pattern.is_match(&text),
                validate::message_text(&text, true).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in [
            EMAIL,
            USERNAME,
            CONTENT,
            TITLE,
            CURSOR,
            DISPLAY_NAME,
            SEARCH_QUERY,
            CLIENT_ID,
            MESSAGE_TEXT,
        ] {
            Regex::new(pattern).unwrap();
        }
    }
}
