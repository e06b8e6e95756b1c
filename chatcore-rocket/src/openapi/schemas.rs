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

/// A UUID in its hyphenated form, as a pattern (tools that do not apply
/// `format` to a nullable string still know the shape).
const UUID_PATTERN: &str =
    "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";

fn nullable_uuid() -> ObjectBuilder {
    nullable(
        string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .pattern(Some(UUID_PATTERN)),
    )
}

/// A UUID or null.
pub(crate) fn uuid_or_null() -> RefOr<Schema> {
    done(nullable_uuid())
}

/// `avatar_url`: null or the URL path of the avatar.
pub(crate) fn avatar_url() -> RefOr<Schema> {
    done(
        nullable(string().pattern(Some(AVATAR_URL)))
            .description(Some("`/avatars/<name>` below the API's base path, or null")),
    )
}

/// The path of an avatar: `…/avatars/` and a random file name.
const AVATAR_URL: &str = r"/avatars/[0-9a-f]{32}\.(png|jpg|gif|webp)$";

/// The `<name>` of `GET /avatars/{name}`.
pub(crate) fn avatar_name() -> RefOr<Schema> {
    done(string().pattern(Some(r"^[0-9a-f]{32}\.(png|jpg|gif|webp)$")))
}

const DISPLAY_NAME_RULE: &str = "Trimmed, then 1 to 64 characters without control characters";

/// A display name.
pub(crate) fn display_name() -> RefOr<Schema> {
    done(
        string()
            .pattern(Some(patterns::DISPLAY_NAME))
            .description(Some(DISPLAY_NAME_RULE)),
    )
}

/// An optional display name (null or absent: the username).
pub(crate) fn display_name_or_null() -> RefOr<Schema> {
    done(
        nullable(string().pattern(Some(patterns::DISPLAY_NAME)))
            .description(Some(DISPLAY_NAME_RULE)),
    )
}

/// `q` of the people search.
pub(crate) fn search_query() -> RefOr<Schema> {
    done(
        string()
            .pattern(Some(patterns::SEARCH_QUERY))
            .description(Some(
                "Trimmed, then 1 to 64 characters without control characters",
            )),
    )
}

/// The text of a conversation message.
pub(crate) fn message_text_or_null() -> RefOr<Schema> {
    done(
        nullable(
            string()
                .pattern(Some(patterns::MESSAGE_TEXT))
                .max_length(Some(validate::MAX_CONTENT_CHARS)),
        )
        .description(Some(
            "At most 32000 characters as sent, no NUL; not empty after trimming \
             unless `image_id` is given (text or an image is required)",
        )),
    )
}

/// A client's idempotency key.
pub(crate) fn client_id_or_null() -> RefOr<Schema> {
    done(
        nullable(string().pattern(Some(patterns::CLIENT_ID)))
            .description(Some("1 to 64 characters without control characters")),
    )
}

/// A list of user ids (duplicates allowed, and ignored).
pub(crate) fn member_ids() -> RefOr<Schema> {
    let max = chatcore::messenger::DEFAULT_MAX_MEMBERS as usize;
    RefOr::T(Schema::Array(
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))))
            .min_items(Some(1))
            .max_items(Some(max))
            .description(Some(
                "Ids of existing users; duplicates and the caller's own id are ignored",
            ))
            .build(),
    ))
}

/// `kind` of a conversation.
pub(crate) fn conversation_kind() -> RefOr<Schema> {
    use chatcore::messenger::ConversationKind::{Direct, Group};
    let names = |kind: chatcore::messenger::ConversationKind| match kind {
        Direct | Group => kind.as_str(),
    };
    one_of(&[names(Direct), names(Group)])
}

/// `content_type` of an uploaded image.
pub(crate) fn image_type() -> RefOr<Schema> {
    one_of(&["image/png", "image/jpeg", "image/gif", "image/webp"])
}

/// A file part of a multipart body.
pub(crate) fn binary() -> RefOr<Schema> {
    done(
        string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .content_media_type("application/octet-stream"),
    )
}

/// An integer query parameter between `min` and `max`.
pub(crate) fn integer(min: u64, max: Option<u64>) -> RefOr<Schema> {
    done(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min))
            .maximum(max),
    )
}
