//! Query parameters read as the API wants them: each collected as a list
//! so that one given twice is refused (422) rather than silently dropped,
//! numbers checked here and ranges by the service.

use chatcore::ServiceError;
use rocket::FromForm;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{RefOr, Required, Schema};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::openapi::schemas;

/// The one value of a parameter, if given; given twice is 422.
pub(crate) fn single<'r>(values: &[&'r str], field: &str) -> Result<Option<&'r str>, ApiError> {
    match values {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(ServiceError::field(field, "must be given at most once").into()),
    }
}

/// The one value of an integer parameter, if given (`rule` says what is
/// accepted when it is not an integer).
pub(crate) fn integer(values: &[&str], field: &str, rule: &str) -> Result<Option<i64>, ApiError> {
    single(values, field)?
        .map(|text| {
            text.parse::<i64>()
                .map_err(|_| ApiError::from(ServiceError::field(field, rule)))
        })
        .transpose()
}

/// A query parameter of the document.
pub(crate) fn parameter(name: &str, description: String, schema: RefOr<Schema>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// `?q=&limit=` of `GET /users/search`.
#[derive(Debug, FromForm)]
pub(crate) struct SearchQuery<'r> {
    q: Vec<&'r str>,
    limit: Vec<&'r str>,
}

impl<'r> SearchQuery<'r> {
    /// The query as sent (the service trims and checks it).
    pub(crate) fn q(&self) -> Result<&'r str, ApiError> {
        single(&self.q, "q")?.ok_or_else(|| ServiceError::field("q", "is required").into())
    }

    /// How many people, as sent.
    pub(crate) fn limit(&self) -> Result<Option<i64>, ApiError> {
        integer(
            &self.limit,
            "limit",
            &format!(
                "must be a whole number between 1 and {}",
                chatcore::messenger::MAX_SEARCH_LIMIT
            ),
        )
    }
}

impl IntoParams for SearchQuery<'_> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut q = parameter(
            "q",
            "Part of a display name or username, any case (trimmed, 1 to 64 characters)".to_owned(),
            schemas::search_query(),
        );
        q.required = Required::True;
        vec![
            q,
            parameter(
                "limit",
                format!(
                    "How many people, 1 to {} (default {})",
                    chatcore::messenger::MAX_SEARCH_LIMIT,
                    chatcore::messenger::DEFAULT_SEARCH_LIMIT
                ),
                schemas::integer(1, Some(u64::from(chatcore::messenger::MAX_SEARCH_LIMIT))),
            ),
        ]
    }
}

/// `?after=&before=&limit=` of `GET /conversations/{id}/messages`.
#[derive(Debug, FromForm)]
pub(crate) struct MessagesQuery<'r> {
    after: Vec<&'r str>,
    before: Vec<&'r str>,
    limit: Vec<&'r str>,
}

impl MessagesQuery<'_> {
    /// The query for the service.
    pub(crate) fn query(&self) -> Result<chatcore::messenger::MessageQuery, ApiError> {
        const SEQ: &str = "must be a whole number, 0 or more";
        Ok(chatcore::messenger::MessageQuery {
            after: integer(&self.after, "after", SEQ)?,
            before: integer(&self.before, "before", SEQ)?,
            limit: integer(
                &self.limit,
                "limit",
                &format!(
                    "must be a whole number between 1 and {}",
                    chatcore::messenger::MAX_MESSAGES_PAGE
                ),
            )?,
        })
    }
}

impl IntoParams for MessagesQuery<'_> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            parameter(
                "after",
                "The first messages after this `seq` (ascending)".to_owned(),
                schemas::integer(0, None),
            ),
            parameter(
                "before",
                "The last messages before this `seq` (not with `after`)".to_owned(),
                schemas::integer(0, None),
            ),
            parameter(
                "limit",
                format!(
                    "How many messages, 1 to {} (default {})",
                    chatcore::messenger::MAX_MESSAGES_PAGE,
                    chatcore::messenger::DEFAULT_MESSAGES_PAGE
                ),
                schemas::integer(1, Some(u64::from(chatcore::messenger::MAX_MESSAGES_PAGE))),
            ),
        ]
    }
}
