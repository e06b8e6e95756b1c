//! A byte-level Server-Sent Events decoder shared by the Gemini and OpenAI
//! providers.
//!
//! It follows the WHATWG event-stream rules: lines end in LF, CRLF or CR (a
//! CR at the end of one network chunk and the LF at the start of the next
//! count as one line end), `data:` may or may not be followed by a space,
//! several `data:` lines of one event are joined with `\n`, lines starting
//! with `:` are comments (keep-alives), and a blank line dispatches the event.
//!
//! Input is buffered as bytes until a line is complete, so a network chunk
//! may end anywhere: inside a UTF-8 character, inside a JSON object, between
//! `\r` and `\n`. Lines that are not SSE fields (for example the
//! pretty-printed `{"error": ...}` body Gemini sometimes leaves at the end of
//! a 200 stream) are kept as a *raw tail* that the caller can inspect at the
//! end of the stream.
//!
//! ```
//! use chatcore_llm::sse::SseDecoder;
//!
//! let mut decoder = SseDecoder::new();
//! let mut events = decoder.feed(b"data: {\"a\":");
//! assert!(events.is_empty());
//! events = decoder.feed(b"1}\r\n\r\n");
//! assert_eq!(events[0].data, "{\"a\":1}");
//! ```

/// One dispatched event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when one was given.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The `id:` field, when one was given.
    pub id: Option<String>,
}

/// Incremental SSE decoder: feed it network chunks, get complete events.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`; a leading `\n` must be skipped.
    after_cr: bool,
    /// Whether any line was seen (to strip a leading BOM once).
    started: bool,
    /// Data of the event being built (lines joined with `\n`).
    data: String,
    /// Whether the event being built has at least one `data` line.
    has_data: bool,
    event: Option<String>,
    id: Option<String>,
    /// Lines that were not SSE fields.
    raw: String,
    comments: u64,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one network chunk and returns the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.feed_into(chunk, &mut out);
        out
    }

    /// Like [`SseDecoder::feed`], appending to `out` (no allocation when no
    /// event completes).
    pub fn feed_into(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) {
        if self.after_cr {
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
            if !chunk.is_empty() {
                self.after_cr = false;
            }
        }
        while let Some(pos) = chunk.iter().position(|b| *b == b'\n' || *b == b'\r') {
            let (head, tail) = chunk.split_at(pos);
            let was_cr = tail[0] == b'\r';
            let mut rest = &tail[1..];
            if was_cr {
                if rest.is_empty() {
                    self.after_cr = true;
                } else if let Some(after_lf) = rest.strip_prefix(b"\n") {
                    rest = after_lf;
                }
            }
            if self.line.is_empty() {
                self.process_line_bytes(head, out);
            } else {
                self.line.extend_from_slice(head);
                let line = std::mem::take(&mut self.line);
                self.process_line_bytes(&line, out);
                self.line = line;
                self.line.clear();
            }
            chunk = rest;
        }
        self.line.extend_from_slice(chunk);
    }

    /// Ends the stream: a final line without its line end is processed, and
    /// an event whose blank line never came is dispatched (lenient: a
    /// truncated JSON payload then fails to parse, which callers treat as a
    /// protocol error).
    pub fn finish(&mut self) -> Option<SseEvent> {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line_bytes(&line, &mut out);
        }
        self.dispatch(&mut out);
        out.pop()
    }

    /// Lines seen so far that were not SSE fields, joined with `\n`.
    pub fn raw_tail(&self) -> &str {
        &self.raw
    }

    /// Bytes buffered in an unfinished line (not yet processed).
    pub fn pending_bytes(&self) -> &[u8] {
        &self.line
    }

    /// Number of comment lines (keep-alives) seen.
    pub fn comments(&self) -> u64 {
        self.comments
    }

    fn process_line_bytes(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) {
        // Line ends never occur inside a UTF-8 sequence, so a complete line
        // is complete UTF-8 unless the server sent invalid bytes.
        let text = String::from_utf8_lossy(bytes);
        let mut line: &str = &text;
        if !self.started {
            self.started = true;
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        self.process_line(line, out);
    }

    fn process_line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            self.comments += 1;
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            "id" => self.id = Some(value.to_owned()),
            "retry" => {}
            _ => {
                if !self.raw.is_empty() {
                    self.raw.push('\n');
                }
                self.raw.push_str(line);
            }
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
                id: self.id.take(),
            });
        } else {
            self.event = None;
        }
        self.has_data = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(parts: &[&[u8]]) -> (Vec<SseEvent>, String) {
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        for part in parts {
            events.extend(decoder.feed(part));
        }
        events.extend(decoder.finish());
        (events, decoder.raw_tail().to_owned())
    }

    fn datas(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    /// Splits `input` at every single offset and at every pair of offsets
    /// and checks that the result never changes.
    fn assert_split_invariant(input: &[u8]) -> (Vec<SseEvent>, String) {
        let whole = decode_all(&[input]);
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            assert_eq!(decode_all(&[a, b]), whole, "split at {i}");
            for j in i..=input.len() {
                let (b1, c) = b.split_at(j - i);
                assert_eq!(decode_all(&[a, b1, c]), whole, "split at {i},{j}");
            }
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(decode_all(&bytes), whole, "byte by byte");
        whole
    }

    #[test]
    fn lf_and_crlf_and_cr() {
        for sep in ["\n", "\r\n", "\r"] {
            let input = format!("data: a{sep}{sep}data:b{sep}{sep}");
            let (events, _) = assert_split_invariant(input.as_bytes());
            assert_eq!(datas(&events), ["a", "b"], "sep {sep:?}");
        }
    }

    #[test]
    fn multi_line_data_comments_and_fields() {
        let input = b": keep-alive\r\nevent: message\r\nid: 7\r\ndata: one\r\ndata:two\r\ndata\r\n\r\n: ping\r\n\r\n";
        let (events, raw) = assert_split_invariant(input);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "one\ntwo\n");
        assert_eq!(events[0].event.as_deref(), Some("message"));
        assert_eq!(events[0].id.as_deref(), Some("7"));
        assert!(raw.is_empty());
    }

    #[test]
    fn utf8_split_inside_characters() {
        let input = "data: {\"text\":\"héllo wörld — 日本語 🦀\"}\r\n\r\ndata: {\"x\":\"ü\"}\n\n";
        let (events, _) = assert_split_invariant(input.as_bytes());
        assert_eq!(
            datas(&events),
            ["{\"text\":\"héllo wörld — 日本語 🦀\"}", "{\"x\":\"ü\"}"]
        );
    }

    #[test]
    fn gemini_like_stream_split_everywhere() {
        let input = concat!(
            "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hé\"}]}}]}\r\n\r\n",
            "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"llo\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n"
        );
        let (events, raw) = assert_split_invariant(input.as_bytes());
        assert_eq!(events.len(), 2);
        for event in &events {
            assert!(serde_json::from_str::<serde_json::Value>(&event.data).is_ok());
        }
        assert!(raw.is_empty());
    }

    #[test]
    fn raw_json_error_tail_is_kept() {
        let input = "data: {\"a\":1}\n\n{\n  \"error\": {\n    \"code\": 503,\n    \"status\": \"UNAVAILABLE\"\n  }\n}\n";
        let (events, raw) = assert_split_invariant(input.as_bytes());
        assert_eq!(datas(&events), ["{\"a\":1}"]);
        let value: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(value["error"]["code"], 503);
    }

    #[test]
    fn raw_tail_without_final_newline() {
        let (events, raw) = decode_all(&[b"data: x\n\n{\"error\":{\"code\":500}}"]);
        assert_eq!(datas(&events), ["x"]);
        assert_eq!(raw, "{\"error\":{\"code\":500}}");
    }

    #[test]
    fn unterminated_event_is_dispatched_at_finish() {
        let (events, _) = decode_all(&[b"data: [DONE]"]);
        assert_eq!(datas(&events), ["[DONE]"]);
    }

    #[test]
    fn bom_is_stripped_and_empty_data_events_skipped() {
        let (events, _) = decode_all(&["\u{feff}data: a\n\nevent: x\n\n".as_bytes()]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "a");
        assert_eq!(events[0].event, None);
    }

    #[test]
    fn cr_then_lf_in_next_chunk_is_one_line_end() {
        let (events, _) = decode_all(&[b"data: a\r", b"\n\r", b"\n"]);
        assert_eq!(datas(&events), ["a"]);
        let (events, _) = decode_all(&[b"data: a\r", b"", b"\ndata: b\r\n\r\n"]);
        assert_eq!(datas(&events), ["a\nb"]);
    }
}
