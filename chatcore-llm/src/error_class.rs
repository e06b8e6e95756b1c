//! Error classification shared by the Gemini and OpenAI providers.
//!
//! | what | kind | chain behaviour |
//! |---|---|---|
//! | 400 (Gemini `API_KEY_INVALID` → Auth), 404, other 4xx | `BadRequest` | not retried |
//! | 401, 403 | `Auth` | not retried on this provider |
//! | 429 `insufficient_quota` (OpenAI) or a per-day `RESOURCE_EXHAUSTED` quota (Gemini) | `QuotaExhausted` | not retried on this provider |
//! | other 429 | `RateLimited` | retried after `retry-after-ms` / `Retry-After` / `RetryInfo.retryDelay` / "retry in Ns" |
//! | 408, timeouts | `Timeout` | |
//! | 5xx, connection refused or reset | `Unavailable` | retried with backoff |
//!
//! The same rules apply to an error object that arrives inside a 200 stream
//! (`data: {"error":...}` or Gemini's raw JSON error tail).

use std::time::Duration;

use chatcore::{LlmError, LlmErrorKind};
use serde_json::Value;

/// The useful parts of a Gemini or OpenAI `{"error": {...}}` body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// Numeric `code` (Gemini puts the HTTP status here).
    pub numeric_code: Option<u16>,
    /// String `code` (OpenAI: `insufficient_quota`, `rate_limit_exceeded`, ...).
    pub code: Option<String>,
    /// `status` (Gemini: `RESOURCE_EXHAUSTED`, `UNAVAILABLE`, ...).
    pub status: Option<String>,
    /// `type` (OpenAI: `insufficient_quota`, `server_error`, ...).
    pub error_type: Option<String>,
    /// `message`.
    pub message: String,
    /// `ErrorInfo.reason` values from Gemini's `details`.
    pub reasons: Vec<String>,
    /// `QuotaFailure.violations[].quotaId` values from Gemini's `details`.
    pub quota_ids: Vec<String>,
    /// `RetryInfo.retryDelay` from Gemini's `details`.
    pub retry_delay: Option<Duration>,
}

impl ErrorBody {
    /// Parses a whole body of the form `{"error": ...}`.
    pub fn parse(text: &str) -> Option<ErrorBody> {
        let value: Value = serde_json::from_str(text.trim()).ok()?;
        // Gemini's non-SSE streaming form wraps responses in an array.
        let value = match value {
            Value::Array(mut items) if items.len() == 1 => items.pop()?,
            other => other,
        };
        Self::from_error_value(value.get("error")?)
    }

    /// Reads the value of an `error` key.
    pub fn from_error_value(error: &Value) -> Option<ErrorBody> {
        let object = match error {
            Value::Object(object) => object,
            Value::String(message) => {
                return Some(ErrorBody {
                    message: message.clone(),
                    ..ErrorBody::default()
                })
            }
            _ => return None,
        };
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut body = ErrorBody {
            numeric_code: object
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok()),
            code: text("code"),
            status: text("status"),
            error_type: text("type"),
            message: text("message").unwrap_or_default(),
            ..ErrorBody::default()
        };
        for detail in object
            .get("details")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(reason) = detail.get("reason").and_then(Value::as_str) {
                body.reasons.push(reason.to_owned());
            }
            for violation in detail
                .get("violations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = violation.get("quotaId").and_then(Value::as_str) {
                    body.quota_ids.push(id.to_owned());
                }
            }
            if let Some(delay) = detail.get("retryDelay").and_then(Value::as_str) {
                body.retry_delay = parse_go_duration(delay);
            }
        }
        Some(body)
    }

    fn names(&self, name: &str) -> bool {
        [&self.code, &self.status, &self.error_type]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(name)))
    }

    fn is_quota_exhausted(&self) -> bool {
        self.names("insufficient_quota")
            || self
                .quota_ids
                .iter()
                .any(|id| id.to_ascii_lowercase().contains("perday"))
    }
}

/// Classifies a failure. `http_status` is the response status (None for an
/// error object inside a 200 stream), `retry_after` the hint from response
/// headers ([`header_retry_after`]).
pub fn classify(
    provider: &str,
    http_status: Option<u16>,
    body: Option<&ErrorBody>,
    retry_after: Option<Duration>,
) -> LlmError {
    let empty = ErrorBody::default();
    let body = body.unwrap_or(&empty);
    let code = http_status.or(body.numeric_code);
    let kind = match code {
        Some(400) if body.reasons.iter().any(|r| r == "API_KEY_INVALID") => LlmErrorKind::Auth,
        Some(401) | Some(403) => LlmErrorKind::Auth,
        Some(408) => LlmErrorKind::Timeout,
        Some(429) if body.is_quota_exhausted() => LlmErrorKind::QuotaExhausted,
        Some(429) => LlmErrorKind::RateLimited,
        Some(500..=599) => LlmErrorKind::Unavailable,
        Some(400..=499) => LlmErrorKind::BadRequest,
        _ => classify_by_name(body),
    };
    let what = match kind {
        LlmErrorKind::Auth => "the API key was refused",
        LlmErrorKind::QuotaExhausted => "the quota or credits are exhausted",
        LlmErrorKind::RateLimited => "rate limited",
        LlmErrorKind::Unavailable => "the service is unavailable",
        LlmErrorKind::Timeout => "the request timed out",
        LlmErrorKind::BadRequest => "the request was rejected",
        _ => "the provider reported an error",
    };
    let mut message = what.to_owned();
    if let Some(status) = http_status {
        message.push_str(&format!(" (HTTP {status}"));
    } else {
        message.push_str(" (in the stream");
    }
    for label in [&body.status, &body.code, &body.error_type]
        .into_iter()
        .flatten()
    {
        if !message.contains(label.as_str()) {
            message.push_str(&format!(" {label}"));
        }
    }
    message.push(')');
    if !body.message.is_empty() {
        message.push_str(": ");
        message.push_str(&truncate(&body.message, 300));
    }
    let retry_after = if kind == LlmErrorKind::RateLimited || kind == LlmErrorKind::Unavailable {
        retry_after
            .or(body.retry_delay)
            .or_else(|| retry_hint_in_message(&body.message))
    } else {
        None
    };
    LlmError::new(provider, kind, message).with_retry_after(retry_after)
}

fn classify_by_name(body: &ErrorBody) -> LlmErrorKind {
    if body.is_quota_exhausted() {
        LlmErrorKind::QuotaExhausted
    } else if body.names("rate_limit_exceeded") || body.names("RESOURCE_EXHAUSTED") {
        LlmErrorKind::RateLimited
    } else if [
        "server_error",
        "UNAVAILABLE",
        "INTERNAL",
        "overloaded_error",
    ]
    .iter()
    .any(|n| body.names(n))
    {
        LlmErrorKind::Unavailable
    } else if body.names("DEADLINE_EXCEEDED") {
        LlmErrorKind::Timeout
    } else if [
        "invalid_api_key",
        "authentication_error",
        "PERMISSION_DENIED",
        "UNAUTHENTICATED",
    ]
    .iter()
    .any(|n| body.names(n))
    {
        LlmErrorKind::Auth
    } else if body.names("invalid_request_error") || body.names("INVALID_ARGUMENT") {
        LlmErrorKind::BadRequest
    } else {
        LlmErrorKind::Other
    }
}

/// The retry hint of response headers: `retry-after-ms` (milliseconds) first,
/// then `retry-after` in seconds or as an HTTP date.
pub fn header_retry_after(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
) -> Option<Duration> {
    if let Some(ms) = retry_after_ms.and_then(|v| v.trim().parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let value = retry_after?.trim();
    match value.parse::<f64>() {
        Ok(secs) => (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs)),
        Err(_) => {
            let when = httpdate::parse_http_date(value).ok()?;
            let now = std::time::SystemTime::now();
            Some(when.duration_since(now).unwrap_or(Duration::ZERO))
        }
    }
}

/// Parses Go / protobuf style durations: `47s`, `45.837906927s`, `20ms`,
/// `6m0s`, `1h2m`.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += number * factor;
        rest = &rest[unit_len..];
    }
    total.is_finite().then(|| Duration::from_secs_f64(total))
}

/// Finds "retry in 47.43s" / "try again in 1.574s" / "try again in 20ms" in
/// a provider message.
fn retry_hint_in_message(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    for marker in ["retry in ", "try again in "] {
        if let Some(start) = lower.find(marker) {
            let tail = &lower[start + marker.len()..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
                .unwrap_or(tail.len());
            let candidate = tail[..end].trim_end_matches('.');
            if let Some(duration) = parse_go_duration(candidate) {
                return Some(duration);
            }
        }
    }
    None
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max_chars).collect();
        out.push('…');
        out
    }
}

#[cfg(any(feature = "gemini", feature = "openai"))]
pub(crate) use transport::{classify_response, classify_transport};

#[cfg(any(feature = "gemini", feature = "openai"))]
mod transport {
    use std::error::Error as _;

    use chatcore::{LlmError, LlmErrorKind};

    use super::{classify, header_retry_after, truncate, ErrorBody};

    /// Most of an error body that is read (bodies are small; this bounds a
    /// misbehaving server).
    const MAX_ERROR_BODY: usize = 64 * 1024;

    /// Turns a non-success response into a classified error.
    pub(crate) async fn classify_response(provider: &str, response: reqwest::Response) -> LlmError {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header_retry_after(
            header("retry-after-ms").as_deref(),
            header("retry-after").as_deref(),
        );
        let request_id = header("x-request-id");
        let mut response = response;
        let mut bytes = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_ERROR_BODY {
                break;
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let body = ErrorBody::parse(&text).or_else(|| {
            let trimmed = text.trim();
            (!trimmed.is_empty()).then(|| ErrorBody {
                message: truncate(trimmed, 200),
                ..ErrorBody::default()
            })
        });
        let mut error = classify(provider, Some(status), body.as_ref(), retry_after);
        if let Some(id) = request_id {
            error.message.push_str(&format!(" [request id {id}]"));
        }
        error
    }

    /// Turns a transport failure (connect, reset, timeout, body) into a
    /// classified error. The URL is left out of the message.
    pub(crate) fn classify_transport(provider: &str, error: reqwest::Error) -> LlmError {
        let kind = if error.is_timeout() {
            LlmErrorKind::Timeout
        } else if error.is_connect() || error.is_request() || error.is_body() || error.is_decode() {
            // A body or decode error while streaming is a dropped or reset
            // connection (the body is read as raw bytes, never decoded).
            LlmErrorKind::Unavailable
        } else {
            LlmErrorKind::Other
        };
        let what = if error.is_connect() {
            "could not connect"
        } else if error.is_timeout() {
            "timed out"
        } else if error.is_body() || error.is_decode() {
            "the connection failed while reading the response"
        } else {
            "the request failed"
        };
        let mut detail = String::new();
        let error = error.without_url();
        let mut source = error.source();
        while let Some(cause) = source {
            detail = cause.to_string();
            source = cause.source();
        }
        let message = if detail.is_empty() {
            format!("{what}: {error}")
        } else {
            format!("{what}: {detail}")
        };
        LlmError::new(provider, kind, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_text(status: Option<u16>, text: &str) -> LlmError {
        classify("p", status, ErrorBody::parse(text).as_ref(), None)
    }

    #[test]
    fn openai_insufficient_quota_is_fatal() {
        let e = classify_text(
            Some(429),
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        );
        assert_eq!(e.kind, LlmErrorKind::QuotaExhausted);
        assert!(!e.is_retryable());
        // Older shape: code null, only type.
        let e = classify_text(
            Some(429),
            r#"{"error":{"message":"x","type":"insufficient_quota","code":null}}"#,
        );
        assert_eq!(e.kind, LlmErrorKind::QuotaExhausted);
    }

    #[test]
    fn openai_rate_limit_reads_message_hint() {
        let e = classify_text(
            Some(429),
            r#"{"error":{"message":"Rate limit reached ... Please try again in 1.574s. Visit ...","type":"tokens","code":"rate_limit_exceeded"}}"#,
        );
        assert_eq!(e.kind, LlmErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(Duration::from_millis(1574)));
    }

    #[test]
    fn header_hint_wins() {
        let hint = header_retry_after(Some("250"), Some("3"));
        assert_eq!(hint, Some(Duration::from_millis(250)));
        assert_eq!(
            header_retry_after(None, Some("3")),
            Some(Duration::from_secs(3))
        );
        // An HTTP date in the past means "now"; one in the future is the wait.
        assert_eq!(
            header_retry_after(None, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let dated = header_retry_after(None, Some(&httpdate::fmt_http_date(later))).unwrap();
        assert!(dated > Duration::from_secs(100) && dated <= Duration::from_secs(120));
        assert_eq!(header_retry_after(None, Some("soon")), None);
        let e = classify("p", Some(429), None, hint);
        assert_eq!(e.retry_after, Some(Duration::from_millis(250)));
    }

    #[test]
    fn gemini_rate_limit_and_daily_quota() {
        let per_minute = r#"{"error":{"code":429,"message":"Please retry in 47.43s.","status":"RESOURCE_EXHAUSTED","details":[
            {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateContentPaidTierInputTokensPerModelPerMinute"}]},
            {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"45.5s"}]}}"#;
        let e = classify_text(Some(429), per_minute);
        assert_eq!(e.kind, LlmErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(Duration::from_millis(45_500)));
        let per_day = per_minute.replace("PerMinute", "PerDay");
        assert_eq!(
            classify_text(Some(429), &per_day).kind,
            LlmErrorKind::QuotaExhausted
        );
    }

    #[test]
    fn gemini_bad_key_is_auth() {
        let e = classify_text(
            Some(400),
            r#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#,
        );
        assert_eq!(e.kind, LlmErrorKind::Auth);
        let e = classify_text(
            Some(400),
            r#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#,
        );
        assert_eq!(e.kind, LlmErrorKind::BadRequest);
    }

    #[test]
    fn status_codes() {
        for (status, kind) in [
            (401, LlmErrorKind::Auth),
            (403, LlmErrorKind::Auth),
            (404, LlmErrorKind::BadRequest),
            (408, LlmErrorKind::Timeout),
            (500, LlmErrorKind::Unavailable),
            (503, LlmErrorKind::Unavailable),
            (504, LlmErrorKind::Unavailable),
        ] {
            let e = classify("gemini", Some(status), None, None);
            assert_eq!(e.kind, kind, "{status}");
            assert_eq!(e.provider, "gemini");
            assert!(e.message.contains(&status.to_string()));
        }
    }

    #[test]
    fn in_stream_errors() {
        let e = classify_text(
            None,
            r#"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#,
        );
        assert_eq!(e.kind, LlmErrorKind::Unavailable);
        let e = classify_text(
            None,
            r#"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#,
        );
        assert_eq!(e.kind, LlmErrorKind::Unavailable);
        assert!(e.message.contains("in the stream"));
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("47s"), Some(Duration::from_secs(47)));
        assert_eq!(parse_go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(parse_go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_go_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_go_duration("soon"), None);
        assert_eq!(parse_go_duration(""), None);
    }
}
