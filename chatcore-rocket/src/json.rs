//! [`ApiJson`]: a JSON body guard with the API's exact error rules.

use rocket::data::{self, ByteUnit, Data, FromData};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::Request;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::error::Category;

use crate::error::ApiError;

/// The largest JSON body accepted by default: 64 KiB.
pub const DEFAULT_JSON_LIMIT: u64 = 64 * 1024;

/// The body-size limit in force, managed by [`crate::Chatcore`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct JsonLimit(pub(crate) u64);

/// A JSON request body.
///
/// Unlike `rocket::serde::json::Json`, its limit does not depend on the
/// application's `limits.json` and its failures are [`ApiError`]s:
/// an empty or syntactically broken body is 400 `bad_request`, valid JSON of
/// the wrong shape (missing field, wrong type) is 422 `validation_error`, a
/// body over the limit (64 KiB by default) is 413 `payload_too_large`.
/// Take it as `Result<ApiJson<T>, ApiError>` and use `?`.
#[derive(Clone, Debug)]
pub struct ApiJson<T>(pub T);

#[rocket::async_trait]
impl<'r, T: DeserializeOwned> FromData<'r> for ApiJson<T> {
    type Error = ApiError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let limit = req
            .rocket()
            .state::<JsonLimit>()
            .map_or(DEFAULT_JSON_LIMIT, |l| l.0);
        match read(data, limit).await {
            Ok(value) => Outcome::Success(ApiJson(value)),
            Err(error) => Outcome::Error((error.status, error)),
        }
    }
}

async fn read<T: DeserializeOwned>(data: Data<'_>, limit: u64) -> Result<T, ApiError> {
    let bytes = data
        .open(ByteUnit::from(limit))
        .into_bytes()
        .await
        .map_err(|_| ApiError::bad_request("the request body could not be read"))?;
    if !bytes.is_complete() {
        return Err(ApiError::new(
            Status::PayloadTooLarge,
            "payload_too_large",
            format!("the JSON body is larger than {limit} bytes"),
        ));
    }
    parse(&bytes.value)
}

/// Parses a body with the API's rules, in this order: an empty body is 400;
/// a body that is not well-formed JSON is 400 whatever it contains (syntax
/// is judged before shape, so a truncated body with a bad value inside is
/// still 400); well-formed JSON that is not an object is 422 (every body of
/// the API is an object, and serde's derived structs would also take an
/// array); then a wrong shape, type or value is 422 naming the field.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(ApiError::bad_request(
            "the request body is empty; expected JSON",
        ));
    };
    serde_json::from_slice::<IgnoredAny>(bytes).map_err(|e| malformed(&e))?;
    if *first != b'{' {
        return Err(ApiError::validation("invalid body: expected a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.classify() != Category::Data {
            return malformed(&inner);
        }
        let text = strip_position(&inner.to_string());
        let nested = path.contains(['.', '[']) && path != ".";
        let mut error = if nested {
            ApiError::validation(format!("invalid body: {path}: {text}"))
        } else {
            ApiError::validation(format!("invalid body: {text}"))
        };
        // `fields` names the body's own field (`member_ids` for a bad
        // `member_ids[3]`); the message has the whole path.
        let field = missing_field(&text)
            .map(|f| (f.to_owned(), "is required".to_owned()))
            .or_else(|| {
                let top = top_level_field(&path);
                (!top.is_empty()).then(|| (top.to_owned(), text.clone()))
            });
        if let Some((field, problem)) = field {
            let mut fields = chatcore::FieldErrors::new();
            fields.insert(field, problem);
            error.fields = Some(fields);
        }
        error
    })
}

fn malformed(error: &serde_json::Error) -> ApiError {
    ApiError::bad_request(format!(
        "malformed JSON: {}",
        strip_position(&error.to_string())
    ))
}

/// `missing field `x` at line 1 column 2` -> `missing field `x``.
fn strip_position(text: &str) -> String {
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text.to_owned(),
    }
}

/// `member_ids[3]` -> `member_ids`, `a.b` -> `a`, `.` -> ``.
fn top_level_field(path: &str) -> &str {
    path.split(['.', '[']).next().unwrap_or_default()
}

fn missing_field(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("missing field `")?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::SendBody;

    #[test]
    fn classifies_errors() {
        assert_eq!(
            parse::<SendBody>(b"").unwrap_err().status,
            Status::BadRequest
        );
        assert_eq!(
            parse::<SendBody>(b"  ").unwrap_err().status,
            Status::BadRequest
        );
        assert_eq!(
            parse::<SendBody>(b"{").unwrap_err().status,
            Status::BadRequest
        );
        assert_eq!(
            parse::<SendBody>(b"{\"a\":}").unwrap_err().status,
            Status::BadRequest
        );
        let missing = parse::<SendBody>(b"{\"content\":\"x\"}").unwrap_err();
        assert_eq!(missing.status, Status::UnprocessableEntity);
        assert!(missing.fields.unwrap().contains_key("session_id"));
        let wrong = parse::<SendBody>(b"{\"session_id\":1,\"content\":\"x\"}").unwrap_err();
        assert_eq!(wrong.status, Status::UnprocessableEntity);
        let not_uuid =
            parse::<SendBody>(b"{\"session_id\":\"nope\",\"content\":\"x\"}").unwrap_err();
        assert_eq!(not_uuid.status, Status::UnprocessableEntity);
        assert!(not_uuid.fields.unwrap().contains_key("session_id"));
        let wrong_type = parse::<SendBody>(
            b"{\"session_id\":\"01a20173-3305-77d0-ab4a-50ca8a658618\",\"content\":5}",
        )
        .unwrap_err();
        assert!(wrong_type.fields.unwrap().contains_key("content"));
        let trailing = parse::<SendBody>(
            b"{\"session_id\":\"01a20173-3305-77d0-ab4a-50ca8a658618\",\"content\":\"x\"} junk",
        )
        .unwrap_err();
        assert_eq!(trailing.status, Status::BadRequest);
        for not_object in [
            &b"[]"[..],
            b"[\"t\"]",
            b"[1,2]",
            b"null",
            b"5",
            b"\"s\"",
            b" true ",
        ] {
            let error = parse::<SendBody>(not_object).unwrap_err();
            assert_eq!(error.status, Status::UnprocessableEntity, "{not_object:?}");
            assert_eq!(error.code, "validation_error");
        }
    }

    #[test]
    fn syntax_is_judged_before_shape() {
        // The bad UUID inside must not win over the missing closing brace.
        let truncated =
            parse::<SendBody>(b"{\"session_id\": \"x\", \"content\": \"hi\"").unwrap_err();
        assert_eq!(truncated.status, Status::BadRequest);
        assert_eq!(truncated.code, "bad_request");
        let trailing = parse::<SendBody>(b"{\"session_id\": \"x\", \"content\": 1} x").unwrap_err();
        assert_eq!(trailing.status, Status::BadRequest);
        let broken_array = parse::<SendBody>(b"[1,").unwrap_err();
        assert_eq!(broken_array.status, Status::BadRequest);
    }
}
