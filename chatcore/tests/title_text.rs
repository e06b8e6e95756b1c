//! The text rules of session titles: derived titles as the plain text of
//! Markdown, and the cleaning of a provider's answer.
#![allow(clippy::unwrap_used)]

use chatcore::titles::{self, clean_generated_title, derive_title, plain_text};

#[test]
fn derived_titles_of_markdown_are_plain_text() {
    let cases = [
        (
            "Why does this Rust function not compile?\n```rust\nfn main() {}\n```",
            "Why does this Rust function not compile?",
        ),
        (
            "# Setting up *Postgres* on **Debian**",
            "Setting up Postgres on Debian",
        ),
        (
            "Use `cargo fmt` before _every_ commit",
            "Use cargo fmt before every commit",
        ),
        (
            "Read [the book](https://doc.rust-lang.org/book/) ![logo](l.png) now",
            "Read the book now",
        ),
        (
            "<b>Bold</b> <!-- note --> and ~~gone~~ text",
            "Bold and gone text",
        ),
        ("> quoted\n> question?", "quoted question?"),
        ("- one\n- two\n\n1. three", "one two three"),
        (
            "Why is Vec<String> not Copy?",
            "Why is Vec<String> not Copy?",
        ),
        ("How do I   bake\nbread?", "How do I bake bread?"),
        (
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight",
        ),
        ("a | b\n--|--\ncell | more", "a b cell more"),
    ];
    for (message, title) in cases {
        assert_eq!(derive_title(message), title, "{message:?}");
    }
}

#[test]
fn derived_titles_are_cut_at_a_word_boundary() {
    let long = "Supercalifragilistic expialidocious words keep coming until the limit";
    let title = derive_title(long);
    assert_eq!(
        title,
        "Supercalifragilistic expialidocious words keep coming until"
    );
    assert!(title.chars().count() <= titles::MAX_DERIVED_TITLE_CHARS);
    let one_word = "x".repeat(100);
    let title = derive_title(&one_word);
    assert_eq!(title.chars().count(), 60);
    assert!(title.ends_with('…'));
}

#[test]
fn a_message_that_is_only_code_is_titled_by_its_code() {
    assert_eq!(
        derive_title("```rust\nfn main() {\n    println!(\"hi\");\n}\n```"),
        "fn main() { println!(\"hi\"); }"
    );
    assert_eq!(derive_title("```\nunclosed fence"), "unclosed fence");
    assert_eq!(derive_title("![only](an-image.png)"), "New chat");
    assert_eq!(derive_title("<div>\nhtml only\n</div>"), "New chat");
    assert_eq!(derive_title("```\n```"), "New chat");
}

#[test]
fn plain_text_keeps_indented_text_and_drops_fences() {
    assert_eq!(plain_text("    indented question"), "indented question");
    assert_eq!(plain_text("a\n```\nb\n```\nc"), "a c");
    assert_eq!(plain_text("`inline` code"), "inline code");
}

#[test]
fn provider_answers_are_cleaned() {
    let cases = [
        ("Baking sourdough", Some("Baking sourdough")),
        ("  \"Baking sourdough\"  ", Some("Baking sourdough")),
        ("'Baking sourdough'", Some("Baking sourdough")),
        ("“Baking sourdough”", Some("Baking sourdough")),
        ("‘Baking sourdough’", Some("Baking sourdough")),
        ("«Baking sourdough»", Some("Baking sourdough")),
        ("`Baking sourdough`", Some("Baking sourdough")),
        ("Title: Baking sourdough", Some("Baking sourdough")),
        ("title:  \"Baking sourdough.\"", Some("Baking sourdough")),
        ("**Title:** *Baking* sourdough.", Some("Baking sourdough")),
        ("# Baking `sourdough`", Some("Baking sourdough")),
        ("Wait for it...", Some("Wait for it...")),
        ("\nBaking sourdough\n\n", Some("Baking sourdough")),
        ("Baking sourdough\nat home", None),
        ("Title:\nBaking sourdough", None),
        ("", None),
        ("   ", None),
        ("\"\"", None),
        ("Title:", None),
        ("```\n```", None),
        ("![](x.png)", None),
    ];
    for (raw, cleaned) in cases {
        assert_eq!(clean_generated_title(raw).as_deref(), cleaned, "{raw:?}");
    }
}

#[test]
fn over_long_provider_answers_are_cut_at_a_word_boundary() {
    let raw = "A thorough comparison of sourdough starters, hydration levels and baking times";
    assert_eq!(
        clean_generated_title(raw).as_deref(),
        Some("A thorough comparison of sourdough starters, hydration")
    );
    let raw = "Baking bread in a very small apartment oven without any special equipment";
    let cleaned = clean_generated_title(raw).unwrap();
    assert!(cleaned.chars().count() <= 60, "{cleaned}");
    assert!(raw.starts_with(&cleaned));
    assert!(raw[cleaned.len()..].starts_with(' '));
}
