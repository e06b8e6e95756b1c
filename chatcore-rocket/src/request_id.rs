//! Request ids (`X-Request-Id`) and one structured log line per request.

use std::convert::Infallible;
use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::{Data, Response};

/// The request-id header, read and written.
pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

/// The id of the current request: the client's `X-Request-Id` when it is
/// sane (1..=128 characters of `A-Z a-z 0-9 - _ . :`), else a new UUID.
/// Usable as a request guard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

#[derive(Debug)]
struct Started {
    id: RequestId,
    at: Instant,
}

fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn started<'r>(req: &'r Request<'_>) -> &'r Started {
    req.local_cache(|| {
        let id = req
            .headers()
            .get_one(REQUEST_ID_HEADER)
            .filter(|id| is_sane(id))
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        Started {
            id: RequestId(id),
            at: Instant::now(),
        }
    })
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r RequestId {
    type Error = Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        Outcome::Success(&started(req).id)
    }
}

/// The fairing: assigns the id, sets `X-Request-Id` on every response and
/// logs `method`, `path` (no query), `status`, `duration_ms` and
/// `request_id` at INFO (target `chatcore_rocket::http`). Never headers or
/// bodies.
#[derive(Debug, Default)]
pub struct RequestLog;

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "chatcore request id and log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let _ = started(req);
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let started = started(req);
        res.set_raw_header(REQUEST_ID_HEADER, started.id.0.clone());
        let elapsed = started.at.elapsed();
        let status = res.status().code;
        let method = req.method().as_str();
        let path = req.uri().path().as_str();
        let duration_ms = elapsed.as_micros() as f64 / 1000.0;
        let request_id = started.id.0.as_str();
        if status >= 500 {
            tracing::warn!(target: "chatcore_rocket::http", method, path, status, duration_ms, request_id, "request");
        } else {
            tracing::info!(target: "chatcore_rocket::http", method, path, status, duration_ms, request_id, "request");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_sane;

    #[test]
    fn sane_ids() {
        assert!(is_sane("abc-123_x.y:z"));
        assert!(!is_sane(""));
        assert!(!is_sane("a b"));
        assert!(!is_sane("<script>"));
        assert!(!is_sane(&"a".repeat(129)));
    }
}
