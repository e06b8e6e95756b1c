//! The plain text of a Markdown message, from pulldown-cmark's events.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// What a Markdown message shows: its text, and the text of its fenced
/// code blocks apart (both with white space collapsed).
pub(super) struct Extracted {
    pub(super) text: String,
    pub(super) code: String,
}

pub(super) fn extract(markdown: &str) -> Extracted {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut text = String::new();
    let mut code = String::new();
    let mut in_fence = false;
    let mut in_image = 0usize;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => in_fence = true,
            Event::Start(Tag::Image { .. }) => in_image += 1,
            Event::End(TagEnd::Image) => in_image = in_image.saturating_sub(1),
            Event::Text(piece) | Event::Code(piece) if in_fence => {
                code.push_str(&piece);
                code.push(' ');
            }
            Event::Text(piece) | Event::Code(piece) if in_image == 0 => text.push_str(&piece),
            Event::InlineHtml(html) if in_image == 0 && !is_html_markup(&html) => {
                text.push_str(&html)
            }
            Event::End(end) if !is_inline(end) => {
                if end == TagEnd::CodeBlock {
                    in_fence = false;
                }
                text.push(' ');
            }
            Event::SoftBreak | Event::HardBreak | Event::Rule => text.push(' '),
            _ => {}
        }
    }
    Extracted {
        text: collapse(&text),
        code: collapse(&code),
    }
}

fn is_inline(end: TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

/// Whether inline "HTML" is markup a reader does not see: a comment, a
/// declaration or a tag of a known element written in lower case. `<T>`,
/// `<String>` or `<A>` (type parameters) are text.
fn is_html_markup(html: &str) -> bool {
    const ELEMENTS: &[&str] = &[
        "a",
        "abbr",
        "audio",
        "b",
        "big",
        "blockquote",
        "br",
        "button",
        "center",
        "cite",
        "code",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "font",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "iframe",
        "img",
        "input",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "picture",
        "pre",
        "q",
        "s",
        "samp",
        "script",
        "small",
        "source",
        "span",
        "strike",
        "strong",
        "style",
        "sub",
        "summary",
        "sup",
        "svg",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "video",
        "wbr",
    ];
    let Some(inner) = html.strip_prefix('<') else {
        return false;
    };
    if inner.starts_with('!') || inner.starts_with('?') {
        return true;
    }
    let inner = inner.strip_prefix('/').unwrap_or(inner);
    let name: String = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    name.chars().all(|c| !c.is_ascii_uppercase()) && ELEMENTS.contains(&name.as_str())
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
