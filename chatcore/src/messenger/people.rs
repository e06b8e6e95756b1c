//! Profiles and people search.

use super::domain::Person;
use super::MessengerService;
use crate::clock;
use crate::cursor;
use crate::domain::User;
use crate::error::ServiceError;
use crate::fold::fold;
use crate::ids::UserId;
use crate::validate;

/// Default number of people a search returns.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// Most people a search returns.
pub const MAX_SEARCH_LIMIT: u32 = 50;

impl MessengerService {
    /// Sets the caller's display name (trimmed, 1..=64 characters, no
    /// control characters).
    pub async fn set_display_name(
        &self,
        user_id: UserId,
        display_name: &str,
    ) -> Result<User, ServiceError> {
        let display_name = validate::display_name(display_name)?;
        let user = self
            .inner
            .store
            .set_display_name(user_id, &display_name, clock::now())
            .await?;
        self.inner.auth.forget_user(user_id);
        Ok(user)
    }

    /// People whose display name or username contains `query`, compared
    /// after [`fold`]ing both (case-insensitive for all
    /// of Unicode), the caller excluded: exact matches first, then prefix
    /// matches, then the rest, each group by display name. `query` is
    /// trimmed, 1..=64 characters; `limit` 1..=50 (default 20).
    pub async fn search_people(
        &self,
        caller: UserId,
        query: &str,
        limit: Option<i64>,
    ) -> Result<Vec<Person>, ServiceError> {
        let query = validate::search_query(query)?;
        let limit = cursor::page_limit(limit, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT)?;
        Ok(self
            .inner
            .store
            .search_people(caller, &fold(&query), limit)
            .await?)
    }

    /// What others see of a user.
    pub async fn person(&self, id: UserId) -> Result<Person, ServiceError> {
        self.inner
            .store
            .people(&[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("user"))
    }
}
