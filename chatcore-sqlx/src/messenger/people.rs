//! Profiles: display names, avatars, people by id, and the connect-time
//! backfill of the search keys.

use std::collections::HashSet;

use chatcore::fold::fold;
use chatcore::messenger::Person;
use chatcore::{StoreError, User, UserId};
use chrono::{DateTime, Utc};

use super::{rows, sql, Backend, Columns, Conn, Stmt};
use crate::error::{backend, Error};

/// Most ids in one `IN (…)` list.
const MAX_IDS_PER_STATEMENT: usize = 500;

pub(crate) async fn set_display_name<B: Backend>(
    b: &B,
    user_id: UserId,
    display_name: &str,
    at: DateTime<Utc>,
) -> Result<User, StoreError> {
    let mut conn = b.writes().acquire().await.map_err(backend)?;
    let row = conn
        .opt(
            &Stmt::new(sql::SET_DISPLAY_NAME)
                .text(display_name)
                .text(fold(display_name))
                .user_time(at)
                .id(user_id),
        )
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound)?;
    Ok(rows::user(&row)?)
}

/// Reads the avatar, then replaces it only if it is still the one read
/// (compare and set), so the key returned as replaced is the one this write
/// replaced even when two changes race.
pub(crate) async fn set_avatar<B: Backend>(
    b: &B,
    user_id: UserId,
    avatar: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(User, Option<String>), StoreError> {
    const ATTEMPTS: usize = 16;
    let mut conn = b.writes().acquire().await.map_err(backend)?;
    for _ in 0..ATTEMPTS {
        let previous = conn
            .opt(&Stmt::new(sql::AVATAR_OF).id(user_id))
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?
            .opt_text("avatar")?;
        let updated = conn
            .opt(
                &Stmt::new(sql::SET_AVATAR)
                    .opt_text(avatar)
                    .user_time(at)
                    .id(user_id)
                    .opt_text(previous.clone()),
            )
            .await
            .map_err(backend)?;
        if let Some(row) = updated {
            return Ok((rows::user(&row)?, previous));
        }
    }
    Err(StoreError::from(Error::Contended(format!(
        "the avatar of user {user_id} changed {ATTEMPTS} times during one update"
    ))))
}

pub(crate) async fn people<B: Backend>(b: &B, ids: &[UserId]) -> Result<Vec<Person>, StoreError> {
    let mut conn = b.reads().acquire().await.map_err(backend)?;
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_IDS_PER_STATEMENT) {
        let mut stmt = Stmt::new(sql::people(chunk.len()));
        for id in chunk {
            stmt = stmt.id(*id);
        }
        for row in conn.all(&stmt).await.map_err(backend)? {
            found.push(rows::person(&row)?);
        }
    }
    Ok(found)
}

/// `NotFound` unless every one of `ids` is a user.
pub(crate) async fn ensure_users<C: Conn>(conn: &mut C, ids: &[UserId]) -> Result<(), StoreError> {
    let wanted: HashSet<UserId> = ids.iter().copied().collect();
    let mut seen = HashSet::with_capacity(wanted.len());
    let unique: Vec<UserId> = wanted.iter().copied().collect();
    for chunk in unique.chunks(MAX_IDS_PER_STATEMENT) {
        let mut stmt = Stmt::new(sql::existing_users(chunk.len()));
        for id in chunk {
            stmt = stmt.id(*id);
        }
        for row in conn.all(&stmt).await.map_err(backend)? {
            seen.insert(UserId(row.id("id")?));
        }
    }
    if seen.len() == wanted.len() {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Fills `display_name_key` and `username_key` of the users that have none
/// (rows from before the messenger's migration), in batches, each in its
/// own write transaction and in id order (so that two processes starting at
/// once lock rows in the same order). Cheap when there is nothing to do:
/// one lookup in a partial index that is empty.
pub(crate) async fn backfill_search_keys<B: Backend>(b: &B) -> Result<(), Error> {
    const BATCH: i64 = 500;
    // Each round fills the rows it read unless a name changed meanwhile;
    // such a row is read again, with its new names, by the next round.
    const MAX_ROUNDS: usize = 1_000_000;
    for _ in 0..MAX_ROUNDS {
        let mut tx = b.begin_write().await?;
        let missing = tx
            .all(&Stmt::new(sql::MISSING_SEARCH_KEYS).int(BATCH))
            .await?;
        if missing.is_empty() {
            tx.commit().await?;
            return Ok(());
        }
        for row in &missing {
            let display_name = row.text("display_name")?;
            let username = row.text("username")?;
            tx.exec(
                &Stmt::new(sql::FILL_SEARCH_KEYS)
                    .text(fold(&display_name))
                    .text(fold(&username))
                    .id(row.id("id")?)
                    .text(display_name)
                    .text(username),
            )
            .await?;
        }
        tx.commit().await?;
    }
    Err(Error::Contended(
        "the names of users kept changing during the search-key backfill".to_owned(),
    ))
}
