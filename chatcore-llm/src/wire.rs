//! The HTTP side shared by the Gemini and OpenAI providers: the API key
//! wrapper, the client builder and the driver that turns an SSE response
//! into an [`LlmStream`] through a vendor-specific [`WireParser`].

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use chatcore::{LlmError, LlmEvent, LlmStream};
use futures_core::Stream;
use futures_util::StreamExt;

use crate::error_class::classify_transport;
use crate::sse::SseDecoder;

/// Default TCP/TLS connect timeout of the providers' HTTP clients.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An API key. Its `Debug` output is redacted so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself (only for building the request header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the key in `text` with `[redacted]`.
    pub(crate) fn redact(&self, text: &str) -> String {
        if self.0.len() >= 4 && text.contains(&self.0) {
            text.replace(&self.0, "[redacted]")
        } else {
            text.to_owned()
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// Builds the HTTP client the providers use by default.
pub(crate) fn build_client(connect_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .build()
        .unwrap_or_default()
}

/// Joins a base URL and a path without doubling or losing the `/`.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Where parsed events go.
pub(crate) type Outbox = VecDeque<Result<LlmEvent, LlmError>>;

/// The vendor-specific half of a stream: turns SSE `data` payloads into
/// events.
pub(crate) trait WireParser: Send + 'static {
    /// Handles one event's data.
    fn on_data(&mut self, data: &str, out: &mut Outbox);
    /// True once the stream is complete (no more input is read).
    fn is_done(&self) -> bool;
    /// The body ended (cleanly when `transport_error` is None). `raw_tail`
    /// holds the lines that were not SSE fields.
    fn on_end(&mut self, raw_tail: &str, transport_error: Option<LlmError>, out: &mut Outbox);
}

/// A response body: chunks of bytes, or the classified transport failure.
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, LlmError>> + Send>>;

struct Driver<P> {
    provider: String,
    key: ApiKey,
    body: ByteStream,
    decoder: SseDecoder,
    parser: P,
    out: Outbox,
    events: Vec<crate::sse::SseEvent>,
    sent: bool,
    ended: bool,
}

impl<P: WireParser> Driver<P> {
    async fn next(&mut self) -> Option<Result<LlmEvent, LlmError>> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(self.deliver(item));
            }
            if self.ended {
                return None;
            }
            if self.parser.is_done() {
                self.ended = true;
                continue;
            }
            match self.body.next().await {
                Some(Ok(chunk)) => {
                    self.decoder.feed_into(&chunk, &mut self.events);
                    for event in self.events.drain(..) {
                        self.parser.on_data(&event.data, &mut self.out);
                        if self.parser.is_done() {
                            break;
                        }
                    }
                    self.events.clear();
                }
                Some(Err(error)) => self.end(Some(error)),
                None => self.end(None),
            }
        }
    }

    fn end(&mut self, transport_error: Option<LlmError>) {
        if transport_error.is_none() {
            if let Some(event) = self.decoder.finish() {
                self.parser.on_data(&event.data, &mut self.out);
            }
        }
        if !self.parser.is_done() {
            self.parser
                .on_end(self.decoder.raw_tail(), transport_error, &mut self.out);
        }
        self.ended = true;
    }

    fn deliver(&mut self, item: Result<LlmEvent, LlmError>) -> Result<LlmEvent, LlmError> {
        match item {
            Ok(LlmEvent::Delta(text)) => {
                self.sent = true;
                Ok(LlmEvent::Delta(text))
            }
            Ok(LlmEvent::Finished(finish)) => {
                tracing::debug!(provider = %self.provider, reason = ?finish.reason, usage = ?finish.usage, "stream finished");
                self.out.clear();
                self.ended = true;
                Ok(LlmEvent::Finished(finish))
            }
            Err(mut error) => {
                error.message = self.key.redact(&error.message);
                tracing::warn!(provider = %self.provider, kind = ?error.kind, output_sent = self.sent, message = %error.message, "stream failed");
                self.out.clear();
                self.ended = true;
                Err(error.with_output_sent(self.sent))
            }
        }
    }
}

/// The body of a successful (2xx) response, transport errors classified.
pub(crate) fn response_body(provider: &str, response: reqwest::Response) -> ByteStream {
    let provider = provider.to_owned();
    Box::pin(
        response
            .bytes_stream()
            .map(move |item| item.map_err(|e| classify_transport(&provider, e))),
    )
}

/// A body from elsewhere (recorded traffic, a proxy); I/O errors count as
/// a lost connection.
pub(crate) fn foreign_body<S>(provider: &str, body: S) -> ByteStream
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let provider = provider.to_owned();
    Box::pin(body.map(move |item| {
        item.map_err(|e| {
            LlmError::new(
                &provider,
                chatcore::LlmErrorKind::Unavailable,
                format!("the connection failed while reading the response: {e}"),
            )
        })
    }))
}

/// Turns an SSE body into a stream of events. Dropping the stream drops
/// the body, which closes the connection.
pub(crate) fn sse_stream<P: WireParser>(
    provider: &str,
    key: &ApiKey,
    body: ByteStream,
    parser: P,
) -> LlmStream {
    let driver = Driver {
        provider: provider.to_owned(),
        key: key.clone(),
        body,
        decoder: SseDecoder::new(),
        parser,
        out: VecDeque::new(),
        events: Vec::new(),
        sent: false,
        ended: false,
    };
    Box::pin(futures_util::stream::unfold(
        driver,
        |mut driver| async move {
            let item = driver.next().await?;
            Some((item, driver))
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_redacted() {
        let key = ApiKey::new("sk-secret-123");
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
        assert_eq!(key.redact("bad key sk-secret-123!"), "bad key [redacted]!");
    }

    #[test]
    fn urls_join() {
        assert_eq!(join_url("http://h/v1/", "/chat"), "http://h/v1/chat");
        assert_eq!(join_url("http://h/v1", "chat"), "http://h/v1/chat");
    }
}
