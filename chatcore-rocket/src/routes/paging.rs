//! Paging by cursor, as every paged list of the API does it: `?limit=` and
//! `?cursor=` in, a JSON array and `Link: <…>; rel="next"` out.

use chatcore::ServiceError;
use rocket::http::uri::Origin;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{FromForm, Request};
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::Required;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::openapi::schemas;
use crate::routes::query::single;

/// `?limit=&cursor=` of a paged list. Both are collected as lists so that a
/// parameter given twice is refused rather than silently dropped.
#[derive(Debug, FromForm)]
pub(crate) struct PageQuery<'r> {
    limit: Vec<&'r str>,
    cursor: Vec<&'r str>,
}

impl<'r> PageQuery<'r> {
    /// The page size as sent (the service checks its range).
    pub(crate) fn limit(&self) -> Result<Option<i64>, ApiError> {
        single(&self.limit, "limit")?
            .map(|text| {
                text.parse::<i64>().map_err(|_| {
                    ApiError::from(ServiceError::field(
                        "limit",
                        format!(
                            "must be a whole number between 1 and {}",
                            chatcore::MAX_PAGE_SIZE
                        ),
                    ))
                })
            })
            .transpose()
    }

    /// The cursor as sent (the service decodes it).
    pub(crate) fn cursor(&self) -> Result<Option<&'r str>, ApiError> {
        single(&self.cursor, "cursor")
    }
}

impl IntoParams for PageQuery<'_> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("limit")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(format!(
                    "Page size, 1 to {} (default {})",
                    chatcore::MAX_PAGE_SIZE,
                    chatcore::DEFAULT_PAGE_SIZE
                )))
                .schema(Some(schemas::page_size()))
                .build(),
            ParameterBuilder::new()
                .name("cursor")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("The cursor of the `Link` header of the previous page"))
                .schema(Some(schemas::cursor()))
                .build(),
        ]
    }
}

/// A page of a list: the items as a JSON array and, when more follow,
/// `Link: <path?limit=N&cursor=…>; rel="next"` (always with `limit`).
pub(crate) struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

impl<T> Page<T> {
    /// The page at `origin`'s path, of the size asked for (or the default).
    pub(crate) fn new(
        items: Vec<T>,
        origin: &Origin<'_>,
        limit: Option<i64>,
        next_cursor: Option<String>,
    ) -> Self {
        let size = limit.unwrap_or(i64::from(chatcore::DEFAULT_PAGE_SIZE));
        let next = next_cursor.map(|cursor| {
            format!(
                "<{}?limit={size}&cursor={cursor}>; rel=\"next\"",
                origin.path()
            )
        });
        Page { items, next }
    }
}

impl<'r, T: Serialize> Responder<'r, 'static> for Page<T> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Json(self.items).respond_to(req)?;
        if let Some(link) = self.next {
            response.set_raw_header("Link", link);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query<'a>(limit: &[&'a str], cursor: &[&'a str]) -> PageQuery<'a> {
        PageQuery {
            limit: limit.to_vec(),
            cursor: cursor.to_vec(),
        }
    }

    #[test]
    fn limits() {
        assert_eq!(query(&[], &[]).limit().unwrap(), None);
        assert_eq!(query(&["5"], &[]).limit().unwrap(), Some(5));
        assert_eq!(query(&["0"], &[]).limit().unwrap(), Some(0));
        for bad in [&["x"][..], &[""], &[" 5"], &["5", "5"], &["null", "null"]] {
            let error = query(bad, &[]).limit().unwrap_err();
            assert_eq!(error.code, "validation_error", "{bad:?}");
            assert!(error.fields.unwrap().contains_key("limit"));
        }
    }

    #[test]
    fn a_cursor_given_twice_is_refused() {
        assert_eq!(query(&[], &["c"]).cursor().unwrap(), Some("c"));
        assert!(query(&[], &["c", "d"]).cursor().is_err());
    }
}
