//! Server-sent events: relaying a [`ReplyStream`] owned by the ChatService.
//!
//! The SSE response only *follows* a reply: the generation runs in a task of
//! the [`chatcore::ChatService`], so a client that goes away (Rocket drops
//! this stream at its next write) stops nothing; the reply completes and is
//! stored.

use std::pin::Pin;
use std::time::Duration;

use chatcore::{ChatMessage, ReplyEvent, ReplyStream};
use futures_util::stream::{self, Stream, StreamExt};
use rocket::response::stream::{Event, EventStream};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::dto::{DeltaDto, DoneDto, MessageDto, SnapshotDto, StreamErrorDto};
use crate::openapi::schemas;

/// The boxed event stream every SSE route returns.
pub type SseEvents = Pin<Box<dyn Stream<Item = Event> + Send + 'static>>;

/// A reply as SSE: `first` (the `message` event of /chat/stream), then one
/// event per [`ReplyEvent`]; keep-alive comments every `keepalive` while idle.
pub(crate) fn relay(
    first: Option<Event>,
    events: ReplyStream,
    keepalive: Duration,
) -> EventStream<SseEvents> {
    let events = events.filter_map(|event| std::future::ready(to_event(&event)));
    let stream: SseEvents = Box::pin(stream::iter(first).chain(events));
    EventStream::from(stream).heartbeat(keepalive)
}

/// `event: message` with a stored message.
pub(crate) fn message_event(message: &ChatMessage) -> Event {
    Event::json(&MessageDto::from(message)).event("message")
}

/// The SSE event of one reply event (`snapshot`, `delta`, `done`, `error`).
pub(crate) fn to_event(event: &ReplyEvent) -> Option<Event> {
    let event = match event {
        ReplyEvent::Snapshot { message } => Event::json(&SnapshotDto {
            message: MessageDto::from(message),
        })
        .event("snapshot"),
        ReplyEvent::Delta { message_id, text } => Event::json(&DeltaDto {
            message_id: *message_id,
            text,
        })
        .event("delta"),
        ReplyEvent::Done { message, provider } => Event::json(&DoneDto {
            message: MessageDto::from(message),
            provider: provider.clone(),
        })
        .event("done"),
        ReplyEvent::Error {
            code,
            message,
            message_id,
            ..
        } => Event::json(&StreamErrorDto {
            code,
            message,
            message_id: *message_id,
        })
        .event("error"),
        _ => return None,
    };
    Some(event)
}

/// Adds `T` and what it refers to, for the documentation of an event stream.
fn collect<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

/// The events of `POST /chat/stream` (documentation): `message`, `delta`...,
/// then `done` or `error`.
pub(crate) struct StreamEvents;

impl PartialSchema for StreamEvents {
    fn schema() -> RefOr<Schema> {
        schemas::events(&[
            ("message", &MessageDto::name()),
            ("delta", &DeltaDto::name()),
            ("done", &DoneDto::name()),
            ("error", &StreamErrorDto::name()),
        ])
    }
}

impl ToSchema for StreamEvents {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        collect::<MessageDto>(out);
        collect::<DeltaDto>(out);
        collect::<DoneDto>(out);
        collect::<StreamErrorDto>(out);
    }
}

/// The events of `GET /chat/sessions/{id}/stream` (documentation):
/// `snapshot`, `delta`..., then `done` or `error`.
pub(crate) struct ReattachEvents;

impl PartialSchema for ReattachEvents {
    fn schema() -> RefOr<Schema> {
        schemas::events(&[
            ("snapshot", &SnapshotDto::name()),
            ("delta", &DeltaDto::name()),
            ("done", &DoneDto::name()),
            ("error", &StreamErrorDto::name()),
        ])
    }
}

impl ToSchema for ReattachEvents {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        collect::<SnapshotDto>(out);
        collect::<DeltaDto>(out);
        collect::<DoneDto>(out);
        collect::<StreamErrorDto>(out);
    }
}
