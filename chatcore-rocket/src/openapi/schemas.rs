//! Schemas of the fields whose rules live in chatcore: each is built from
//! chatcore's own constants and patterns ([`chatcore::patterns`],
//! [`chatcore::validate`]), so the document states exactly what the
//! server accepts and cannot drift from it.

use chatcore::{patterns, validate, MessageStatus, Role};
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, Ref, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{RefOr, Schema};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable(builder: ObjectBuilder) -> ObjectBuilder {
    builder.schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn done(builder: ObjectBuilder) -> RefOr<Schema> {
    RefOr::T(Schema::Object(builder.build()))
}

/// A UUID in its hyphenated form (the only one the server reads).
pub(crate) fn uuid() -> RefOr<Schema> {
    done(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))))
}

/// An RFC 3339 time in UTC.
pub(crate) fn time() -> RefOr<Schema> {
    done(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
}

fn email_builder() -> ObjectBuilder {
    string()
        .pattern(Some(patterns::EMAIL))
        .max_length(Some(validate::MAX_EMAIL_CHARS))
}

/// An email to register with (trimmed and lower-cased by the server).
pub(crate) fn email() -> RefOr<Schema> {
    done(email_builder().description(Some(
        "A valid email address as browsers define it, with a dot in the domain; stored lower-cased",
    )))
}

/// A new password.
pub(crate) fn password() -> RefOr<Schema> {
    done(
        string()
            .min_length(Some(validate::MIN_PASSWORD_CHARS))
            .max_length(Some(validate::MAX_PASSWORD_CHARS)),
    )
}

/// An optional chosen username (null or absent: derived from the email).
pub(crate) fn username_or_null() -> RefOr<Schema> {
    done(nullable(string().pattern(Some(patterns::USERNAME))))
}

/// Message content, stored exactly as sent.
pub(crate) fn content() -> RefOr<Schema> {
    done(
        string()
            .pattern(Some(patterns::CONTENT))
            .max_length(Some(validate::MAX_CONTENT_CHARS))
            .description(Some(
                "Not empty after trimming, at most 32000 characters as sent, no NUL",
            )),
    )
}

const TITLE_RULE: &str = "Trimmed, then 1 to 200 characters without NUL";

/// A title.
pub(crate) fn title() -> RefOr<Schema> {
    done(
        string()
            .pattern(Some(patterns::TITLE))
            .description(Some(TITLE_RULE)),
    )
}

/// An optional title (null or absent: "New chat" until the first message names it).
pub(crate) fn title_or_null() -> RefOr<Schema> {
    done(nullable(string().pattern(Some(patterns::TITLE))).description(Some(TITLE_RULE)))
}

/// The paging cursor of a `Link` header.
pub(crate) fn cursor() -> RefOr<Schema> {
    done(string().pattern(Some(patterns::CURSOR)))
}

fn one_of(values: &[&'static str]) -> RefOr<Schema> {
    done(one_of_values(values))
}

/// `token_type`: always `bearer`.
pub(crate) fn bearer() -> RefOr<Schema> {
    one_of(&["bearer"])
}

/// `role` of a message.
pub(crate) fn role() -> RefOr<Schema> {
    // Exhaustive: a new variant does not compile until it is listed.
    let names = |role: Role| match role {
        Role::User | Role::Assistant => role.as_str(),
    };
    one_of(&[names(Role::User), names(Role::Assistant)])
}

/// `status` of a message.
pub(crate) fn status() -> RefOr<Schema> {
    use MessageStatus::{Complete, Error, Interrupted, Stopped, Streaming};
    let names = |status: MessageStatus| match status {
        Complete | Streaming | Stopped | Interrupted | Error => status.as_str(),
    };
    one_of(&[
        names(Complete),
        names(Streaming),
        names(Stopped),
        names(Interrupted),
        names(Error),
    ])
}

/// `state` of a provider in `/health`.
pub(crate) fn provider_state() -> RefOr<Schema> {
    one_of(&["ok", "cooling_down"])
}

/// `status` of `/health`.
pub(crate) fn health_status() -> RefOr<Schema> {
    one_of(&["ok", "unavailable"])
}

/// `fields` of an error: field name -> problem.
pub(crate) fn field_errors() -> RefOr<Schema> {
    done(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(string())),
    )
}

/// `limit` of a paged list.
pub(crate) fn page_size() -> RefOr<Schema> {
    done(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(chatcore::MAX_PAGE_SIZE)),
    )
}

/// One server-sent event of a stream: `{"event": name, "data": <JSON text
/// of the named schema>}` for each `(name, schema)` (the shape schemathesis
/// and other tools read an event as, with `contentSchema` for `data`).
pub(crate) fn events(events: &[(&'static str, &str)]) -> RefOr<Schema> {
    let mut one_of = OneOfBuilder::new();
    for (event, schema) in events {
        let data = string()
            .content_media_type("application/json")
            .content_schema(Some(Ref::from_schema_name(*schema)));
        one_of = one_of.item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("event", one_of_values(&[event]))
                .property("data", data)
                .required("event")
                .required("data"),
        );
    }
    RefOr::T(Schema::OneOf(one_of.build()))
}

fn one_of_values(values: &[&'static str]) -> ObjectBuilder {
    string().enum_values(Some(values.iter().copied()))
}
