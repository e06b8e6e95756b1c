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
use serde_json::json;

use crate::dto::MessageDto;

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

/// The `data` of a `delta` event (typed: one is written per word).
#[derive(serde::Serialize)]
struct DeltaDto<'a> {
    message_id: chatcore::MessageId,
    text: &'a str,
}

/// `event: message` with a stored message.
pub(crate) fn message_event(message: &ChatMessage) -> Event {
    Event::json(&MessageDto::from(message)).event("message")
}

/// The SSE event of one reply event (`snapshot`, `delta`, `done`, `error`).
pub(crate) fn to_event(event: &ReplyEvent) -> Option<Event> {
    let event = match event {
        ReplyEvent::Snapshot { message } => {
            Event::json(&json!({ "message": MessageDto::from(message) })).event("snapshot")
        }
        ReplyEvent::Delta { message_id, text } => Event::json(&DeltaDto {
            message_id: *message_id,
            text,
        })
        .event("delta"),
        ReplyEvent::Done { message, provider } => Event::json(&json!({
            "message": MessageDto::from(message),
            "provider": provider,
        }))
        .event("done"),
        ReplyEvent::Error {
            code,
            message,
            message_id,
            ..
        } => Event::json(&json!({
            "code": code,
            "message": message,
            "message_id": message_id,
        }))
        .event("error"),
        _ => return None,
    };
    Some(event)
}
