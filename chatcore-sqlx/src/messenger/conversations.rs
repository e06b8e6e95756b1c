//! Conversations, their members, and the views of them (four queries for a
//! whole page: heads, members, last messages, unread counts).

use std::collections::HashSet;

use chatcore::messenger::{Conversation, ConversationCursor, NewConversation};
use chatcore::{ConflictKind, ConversationId, StoreError, UserId};
use chrono::{DateTime, Utc};

use super::people::ensure_users;
use super::rows::{self, Head, Parts};
use super::{sql, Backend, Columns, Conn, Stmt};
use crate::error::{backend, is_foreign_key_violation, is_unique_violation};

/// The members, last messages and unread counts of `heads`, as `viewer`
/// sees them.
async fn complete<C: Conn>(
    conn: &mut C,
    viewer: UserId,
    heads: Vec<Head>,
) -> Result<Vec<Conversation>, StoreError> {
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let with_ids = |stmt: Stmt| heads.iter().fold(stmt, |stmt, head| stmt.id(head.id));
    let n = heads.len();
    let mut parts = Parts::default();
    for row in conn
        .all(&with_ids(Stmt::new(sql::members_of(n))))
        .await
        .map_err(backend)?
    {
        let conversation = ConversationId(row.id("conversation_id")?);
        parts.members.push((conversation, rows::person(&row)?));
    }
    for row in conn
        .all(&with_ids(Stmt::new(sql::last_messages_of(n))))
        .await
        .map_err(backend)?
    {
        parts.last_messages.push(rows::message(&row)?);
    }
    for row in conn
        .all(&with_ids(Stmt::new(sql::unread_of(n)).id(viewer)))
        .await
        .map_err(backend)?
    {
        let conversation = ConversationId(row.id("conversation_id")?);
        parts
            .unread
            .push((conversation, rows::count(&row, "unread")?));
    }
    Ok(rows::assemble(heads, parts))
}

/// Conversation `id` as `viewer` sees it, when a current member.
async fn view<C: Conn>(
    conn: &mut C,
    viewer: UserId,
    id: ConversationId,
) -> Result<Option<Conversation>, StoreError> {
    let Some(row) = conn
        .opt(&Stmt::new(sql::HEAD).id(viewer).id(id))
        .await
        .map_err(backend)?
    else {
        return Ok(None);
    };
    let heads = vec![rows::head(&row)?];
    Ok(complete(conn, viewer, heads).await?.pop())
}

pub(crate) async fn get<B: Backend>(
    b: &B,
    viewer: UserId,
    id: ConversationId,
) -> Result<Option<Conversation>, StoreError> {
    let mut conn = b.reads().acquire().await.map_err(backend)?;
    view(&mut *conn, viewer, id).await
}

pub(crate) async fn list<B: Backend>(
    b: &B,
    viewer: UserId,
    limit: u32,
    cursor: Option<ConversationCursor>,
) -> Result<Vec<Conversation>, StoreError> {
    let stmt = match cursor {
        None => Stmt::new(sql::HEADS_FIRST).id(viewer),
        Some(cursor) => Stmt::new(sql::HEADS_AFTER)
            .id(viewer)
            .time(cursor.updated_at)
            .id(cursor.id),
    }
    .int(i64::from(limit));
    let mut conn = b.reads().acquire().await.map_err(backend)?;
    let heads = conn
        .all(&stmt)
        .await
        .map_err(backend)?
        .iter()
        .map(rows::head)
        .collect::<Result<Vec<_>, _>>()?;
    complete(&mut *conn, viewer, heads).await
}

/// Adds `members` (not current members, no duplicates) to `id` at `at`.
async fn upsert_members<C: Conn>(
    conn: &mut C,
    id: ConversationId,
    members: &[UserId],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if members.is_empty() {
        return Ok(());
    }
    let stmt = members.iter().fold(
        Stmt::new(sql::upsert_members(members.len()))
            .id(id)
            .time(at),
        |stmt, user| stmt.id(*user),
    );
    match conn.exec(&stmt).await {
        Ok(_) => Ok(()),
        Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound),
        Err(e) => Err(backend(e)),
    }
}

pub(crate) async fn create<B: Backend>(
    b: &B,
    new: NewConversation,
) -> Result<(Conversation, bool), StoreError> {
    let direct_key = new.direct_key();
    let mut tx = b.begin_write().await.map_err(backend)?;
    ensure_users(&mut *tx, &new.member_ids).await?;
    let inserted = tx
        .opt(
            &Stmt::new(sql::INSERT_CONVERSATION)
                .id(new.id)
                .text(new.kind.as_str())
                .opt_text(new.title.as_deref())
                .opt_text(direct_key.as_deref())
                .time(new.created_at),
        )
        .await;
    let (id, created) = match inserted {
        Ok(Some(_)) => {
            let mut unique = HashSet::with_capacity(new.member_ids.len());
            let members: Vec<UserId> = new
                .member_ids
                .iter()
                .copied()
                .filter(|m| unique.insert(*m))
                .collect();
            upsert_members(&mut *tx, new.id, &members, new.created_at).await?;
            (new.id, true)
        }
        // The pair already has its direct conversation (possibly created
        // by a transaction that committed while this one waited).
        Ok(None) => {
            let key = direct_key.ok_or(StoreError::NotFound)?;
            let row = tx
                .opt(&Stmt::new(sql::DIRECT_CONVERSATION).text(key))
                .await
                .map_err(backend)?
                .ok_or(StoreError::NotFound)?;
            (ConversationId(row.id("id")?), false)
        }
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict(ConflictKind::Id)),
        Err(e) => return Err(backend(e)),
    };
    let conversation = view(&mut *tx, new.creator, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await.map_err(backend)?;
    Ok((conversation, created))
}

pub(crate) async fn rename<B: Backend>(
    b: &B,
    viewer: UserId,
    id: ConversationId,
    title: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Conversation, StoreError> {
    let mut tx = b.begin_write().await.map_err(backend)?;
    let changed = tx
        .exec(
            &Stmt::new(sql::RENAME)
                .opt_text(title)
                .time(at)
                .id(id)
                .id(viewer),
        )
        .await
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    let conversation = view(&mut *tx, viewer, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await.map_err(backend)?;
    Ok(conversation)
}

async fn current_members<C: Conn>(
    conn: &mut C,
    id: ConversationId,
) -> Result<Vec<UserId>, StoreError> {
    conn.all(&Stmt::new(sql::CURRENT_MEMBER_IDS).id(id))
        .await
        .map_err(backend)?
        .iter()
        .map(|row| Ok(UserId(row.id("user_id")?)))
        .collect()
}

pub(crate) async fn add_members<B: Backend>(
    b: &B,
    viewer: UserId,
    id: ConversationId,
    user_ids: &[UserId],
    max_members: u32,
    at: DateTime<Utc>,
) -> Result<Conversation, StoreError> {
    let mut tx = b.begin_write().await.map_err(backend)?;
    // First: checks the viewer and locks the conversation's row until commit,
    // so that two additions cannot both pass the member limit.
    let touched = tx
        .exec(&Stmt::new(sql::TOUCH_AS_MEMBER).id(id).time(at).id(viewer))
        .await
        .map_err(backend)?;
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    ensure_users(&mut *tx, user_ids).await?;
    let current: HashSet<UserId> = current_members(&mut *tx, id).await?.into_iter().collect();
    let mut seen = HashSet::new();
    let joining: Vec<UserId> = user_ids
        .iter()
        .copied()
        .filter(|u| !current.contains(u) && seen.insert(*u))
        .collect();
    if current.len() + joining.len() > max_members as usize {
        return Err(StoreError::Conflict(ConflictKind::MemberLimit));
    }
    upsert_members(&mut *tx, id, &joining, at).await?;
    let conversation = view(&mut *tx, viewer, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await.map_err(backend)?;
    Ok(conversation)
}

pub(crate) async fn leave<B: Backend>(
    b: &B,
    user_id: UserId,
    id: ConversationId,
    at: DateTime<Utc>,
) -> Result<Vec<UserId>, StoreError> {
    let mut tx = b.begin_write().await.map_err(backend)?;
    // The conversation's row first, as every write of it does (no deadlock).
    let touched = tx
        .exec(&Stmt::new(sql::TOUCH_AS_MEMBER).id(id).time(at).id(user_id))
        .await
        .map_err(backend)?;
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    tx.exec(&Stmt::new(sql::LEAVE).id(id).id(user_id).time(at))
        .await
        .map_err(backend)?;
    let remaining = current_members(&mut *tx, id).await?;
    tx.commit().await.map_err(backend)?;
    Ok(remaining)
}

pub(crate) async fn member_ids<B: Backend>(
    b: &B,
    id: ConversationId,
) -> Result<Vec<UserId>, StoreError> {
    let mut conn = b.reads().acquire().await.map_err(backend)?;
    current_members(&mut *conn, id).await
}
