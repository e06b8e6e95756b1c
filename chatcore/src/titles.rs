//! Session titles: every rule about them except the one for titles people
//! type ([`crate::validate::title`], 1..=200 characters).
//!
//! - A session created without a title is [`DEFAULT_TITLE`] until its first
//!   message, which gives it a **derived title** ([`derive_title`]): the
//!   first words of that message as plain text.
//! - After the session's first reply completes, the provider is asked for a
//!   **generated title** ([`title_request`]) when the service is configured
//!   for it ([`crate::ChatConfig::title_timeout`]); its answer is cleaned by
//!   [`clean_generated_title`] and replaces the derived title, unless the
//!   session was renamed or deleted in the meantime. An answer that failed,
//!   came too late, was cut by the token limit or cleans to nothing keeps
//!   the derived title.
//!
//! Both kinds are at most [`MAX_TITLE_WORDS`] words and
//! [`MAX_DERIVED_TITLE_CHARS`] characters, cut at a word boundary.

use std::time::Duration;

use crate::domain::Role;
use crate::llm::{LlmMessage, LlmRequest};
use crate::validate;

mod job;
mod markdown;

pub(crate) use job::TitleJob;
use markdown::extract;

/// Title of a session created without one, until its first message.
pub const DEFAULT_TITLE: &str = "New chat";
/// Most words in a derived or generated title.
pub const MAX_TITLE_WORDS: usize = 8;
/// Most characters in a derived or generated title.
pub const MAX_DERIVED_TITLE_CHARS: usize = 60;
/// Default time limit of the title request ([`crate::ChatConfig::title_timeout`]).
pub const DEFAULT_TITLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of the first message and of the reply the title request quotes,
/// in characters, each.
pub const TITLE_CONTEXT_CHARS: usize = 2_000;
/// Output-token bound of the title request: room for a few words and for
/// the thinking that models such as Gemini 2.5 Flash count against the same
/// bound (with 32 they often answer nothing); the answer is cut to
/// [`MAX_TITLE_WORDS`] words anyway.
pub const TITLE_MAX_OUTPUT_TOKENS: u32 = 256;
/// Sampling temperature of the title request.
pub const TITLE_TEMPERATURE: f32 = 0.2;
/// The system instruction of the title request.
pub const TITLE_INSTRUCTION: &str = "You name chat conversations. Answer with one title of \
    two to six words that says what the conversation is about, in the language of the \
    user's message. Plain text on one line: no quotes, no Markdown, no label such as \
    \"Title:\", no final period.";

/// The text a reader sees in a Markdown message, white space collapsed:
/// fenced code blocks, images, HTML tags and comments are dropped; headings,
/// emphasis, inline code, link text, lists, quotes and tables keep their
/// text without the syntax. Indented code blocks count as text (a message
/// that starts with four spaces is not code to its writer). Something that
/// looks like a tag but is no lower-case HTML element, such as the `<String>`
/// of `Vec<String>`, is kept as written.
///
/// ```
/// use chatcore::titles::plain_text;
///
/// assert_eq!(plain_text("## Use `Vec<u8>` and [links](https://x.io) *here*"),
///            "Use Vec<u8> and links here");
/// ```
pub fn plain_text(markdown: &str) -> String {
    extract(markdown).text
}

/// A session's title from its first message: the first words of the
/// message as [`plain_text`], at most [`MAX_TITLE_WORDS`] words and
/// [`MAX_DERIVED_TITLE_CHARS`] characters, cut at a word boundary (a single
/// longer word is cut and ends with `…`).
///
/// When no text is left (a message that is only a code block), the first
/// words of the code, without its fence lines, are used; when that is empty
/// too (only an image, only HTML), the title stays [`DEFAULT_TITLE`].
///
/// ```
/// use chatcore::titles::derive_title;
///
/// let message = "Why does this Rust function not compile?\n```rust\nfn main() {}\n```";
/// assert_eq!(derive_title(message), "Why does this Rust function not compile?");
/// assert_eq!(derive_title("```\nlet x = 1;\n```"), "let x = 1;");
/// ```
pub fn derive_title(first_message: &str) -> String {
    let extracted = extract(first_message);
    let source = if extracted.text.is_empty() {
        extracted.code
    } else {
        extracted.text
    };
    let title = shorten(&source);
    if title.is_empty() {
        DEFAULT_TITLE.to_owned()
    } else {
        title
    }
}

/// The request that asks a provider for a session's title: the
/// [`TITLE_INSTRUCTION`], then one user turn quoting the first message and
/// the start of the reply (each at most [`TITLE_CONTEXT_CHARS`] characters),
/// [`TITLE_MAX_OUTPUT_TOKENS`], [`TITLE_TEMPERATURE`] and `timeout` as the
/// request's time limit.
pub fn title_request(first_message: &str, reply: &str, timeout: Duration) -> LlmRequest {
    let prompt = format!(
        "Write the title of this conversation.\n\nThe user wrote:\n{}\n\nThe assistant's reply \
         began:\n{}",
        clip(first_message.trim()),
        clip(reply.trim()),
    );
    LlmRequest {
        system: Some(TITLE_INSTRUCTION.to_owned()),
        messages: vec![LlmMessage {
            role: Role::User,
            content: prompt,
        }],
        temperature: Some(TITLE_TEMPERATURE),
        max_output_tokens: Some(TITLE_MAX_OUTPUT_TOKENS),
        timeout: Some(timeout),
    }
}

/// A provider's answer to [`title_request`] as a title, or `None` when it is
/// not usable. The answer is trimmed; an answer with more than one non-empty
/// line is rejected; Markdown syntax is removed ([`plain_text`]); surrounding
/// quotes (`"…"`, `'…'`, `“…”`, `‘…’`, `«…»`, `` `…` ``), a leading `Title:`
/// label and one trailing period are stripped (repeatedly, in any order);
/// the rest is cut like a derived title and must pass
/// [`validate::title`]. An empty result is rejected.
///
/// ```
/// use chatcore::titles::clean_generated_title;
///
/// assert_eq!(clean_generated_title("Title: \"Baking bread.\"").as_deref(), Some("Baking bread"));
/// assert_eq!(clean_generated_title("Bread\nand butter"), None);
/// ```
pub fn clean_generated_title(answer: &str) -> Option<String> {
    let answer = answer.trim();
    let lines = answer.lines().filter(|l| !l.trim().is_empty()).count();
    if lines != 1 {
        return None;
    }
    let mut title = plain_text(answer);
    loop {
        let next = strip_decoration(&title);
        if next == title {
            break;
        }
        title = next;
    }
    let title = shorten(&title);
    if title.is_empty() {
        return None;
    }
    validate::title(&title).ok()
}

/// One round of stripping: surrounding quotes, a `Title:` label, a trailing
/// period (not the last dot of an ellipsis).
fn strip_decoration(title: &str) -> String {
    const QUOTES: [(char, char); 6] = [
        ('"', '"'),
        ('\'', '\''),
        ('“', '”'),
        ('‘', '’'),
        ('«', '»'),
        ('`', '`'),
    ];
    const LABEL: &str = "title:";
    let mut rest = title.trim();
    if let Some(inner) = QUOTES.iter().find_map(|(open, close)| {
        rest.strip_prefix(*open)
            .and_then(|r| r.strip_suffix(*close))
    }) {
        rest = inner.trim();
    }
    if let Some(tail) = rest
        .get(..LABEL.len())
        .filter(|head| head.eq_ignore_ascii_case(LABEL))
        .and_then(|_| rest.get(LABEL.len()..))
    {
        rest = tail.trim_start();
    }
    if !rest.ends_with("..") {
        rest = rest.strip_suffix('.').unwrap_or(rest);
    }
    rest.trim().to_owned()
}

/// At most [`MAX_TITLE_WORDS`] words and [`MAX_DERIVED_TITLE_CHARS`]
/// characters of `text`, cut at a word boundary; a first word that alone is
/// too long is cut and ends with `…`.
fn shorten(text: &str) -> String {
    let mut title = String::new();
    let mut chars = 0;
    for word in text.split_whitespace().take(MAX_TITLE_WORDS) {
        let len = word.chars().count();
        let extra = usize::from(!title.is_empty()) + len;
        if chars + extra > MAX_DERIVED_TITLE_CHARS {
            if title.is_empty() {
                title = word.chars().take(MAX_DERIVED_TITLE_CHARS - 1).collect();
                title.push('…');
            }
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
        chars += extra;
    }
    title
}

/// At most [`TITLE_CONTEXT_CHARS`] characters, `…` marking a cut.
fn clip(text: &str) -> String {
    match text.char_indices().nth(TITLE_CONTEXT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
