//! A conversation's messages: the append that numbers them, ranges, read
//! pointers.

use chatcore::messenger::{
    AppendedMessage, ConversationMessage, MessageRange, NewConversationMessage, ReadMark,
};
use chatcore::{ConflictKind, ConversationId, StoreError, UserId};

use super::{rows, sql, Backend, Columns, Conn, Stmt};
use crate::error::{backend, is_foreign_key_violation, is_unique_violation};

fn earlier(message: ConversationMessage) -> AppendedMessage {
    AppendedMessage {
        message,
        created: false,
        member_ids: Vec::new(),
    }
}

/// The message `sender` stored in `id` with `client_id`.
async fn by_client_id<C: Conn>(
    conn: &mut C,
    id: ConversationId,
    sender: UserId,
    client_id: &str,
) -> Result<Option<ConversationMessage>, StoreError> {
    let row = conn
        .opt(
            &Stmt::new(sql::BY_CLIENT_ID)
                .id(id)
                .id(sender)
                .text(client_id),
        )
        .await
        .map_err(backend)?;
    Ok(row.as_ref().map(rows::message).transpose()?)
}

pub(crate) async fn append<B: Backend>(
    b: &B,
    new: NewConversationMessage,
) -> Result<AppendedMessage, StoreError> {
    let stored = match B::APPEND_IN_ONE {
        Some(statement) => match append_in_one(b, statement, &new).await? {
            InOne::Stored(appended) => Some(*appended),
            InOne::Lost => None,
            // The transaction tells an earlier send from a missing
            // membership, with the rules of every backend.
            InOne::Nothing => append_once(b, &new).await?,
        },
        None => append_once(b, &new).await?,
    };
    match stored {
        Some(appended) => Ok(appended),
        None => {
            // The backstop: whoever won committed; read their message.
            if let (Some(sender), Some(client_id)) = (new.sender_id, new.client_id.as_deref()) {
                let mut conn = b.reads().acquire().await.map_err(backend)?;
                if let Some(message) =
                    by_client_id(&mut *conn, new.conversation_id, sender, client_id).await?
                {
                    return Ok(earlier(message));
                }
            }
            Err(StoreError::Conflict(ConflictKind::Id))
        }
    }
}

/// `new` bound as `$1…$11` of [`sql::INSERT_MESSAGE`] and
/// [`sql::APPEND_IN_ONE`].
fn message_args(stmt: Stmt, new: &NewConversationMessage) -> Stmt {
    stmt.id(new.id)
        .id(new.conversation_id)
        .text(new.author.as_str())
        .opt_id(new.sender_id)
        .text(new.text.as_str())
        .opt_id(new.image)
        .text(new.status.as_str())
        .opt_text(new.provider.as_deref())
        .opt_text(new.model.as_deref())
        .opt_text(new.client_id.as_deref())
        .time(new.created_at)
}

/// What [`sql::APPEND_IN_ONE`] did.
pub(super) enum InOne {
    Stored(Box<AppendedMessage>),
    /// Nothing stored, for a reason the transaction finds out.
    Nothing,
    /// The insert broke a unique index (as when [`append_once`] is `None`).
    Lost,
}

pub(super) async fn append_in_one<B: Backend>(
    b: &B,
    statement: &'static str,
    new: &NewConversationMessage,
) -> Result<InOne, StoreError> {
    let mut conn = b.writes().acquire().await.map_err(backend)?;
    let rows = conn.all(&message_args(Stmt::new(statement), new)).await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) if is_unique_violation(&e) => return Ok(InOne::Lost),
        Err(e) if is_foreign_key_violation(&e) => return Err(StoreError::NotFound),
        Err(e) => return Err(backend(e)),
    };
    let Some(first) = rows.first() else {
        return Ok(InOne::Nothing);
    };
    let message = rows::message(first)?;
    let member_ids = rows
        .iter()
        .map(|row| Ok(UserId(row.id("member_id")?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(InOne::Stored(Box::new(AppendedMessage {
        message,
        created: true,
        member_ids,
    })))
}

/// One transaction: take the next `seq` (locking the conversation on
/// PostgreSQL), look for an earlier send with the same `client_id` (then
/// roll back: the `seq` is given back), insert, read the message with its
/// image and the members to tell, commit. `None`: the insert broke a unique
/// index (a concurrent send with the same `client_id` won, or the id is
/// taken), nothing was stored.
async fn append_once<B: Backend>(
    b: &B,
    new: &NewConversationMessage,
) -> Result<Option<AppendedMessage>, StoreError> {
    let mut tx = b.begin_write().await.map_err(backend)?;
    let seq = tx
        .opt(
            &Stmt::new(sql::NEXT_SEQ)
                .id(new.conversation_id)
                .time(new.created_at)
                .opt_id(new.sender_id),
        )
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound)?
        .int("seq")?;
    if let (Some(sender), Some(client_id)) = (new.sender_id, new.client_id.as_deref()) {
        if let Some(message) =
            by_client_id(&mut *tx, new.conversation_id, sender, client_id).await?
        {
            tx.rollback().await.map_err(backend)?;
            return Ok(Some(earlier(message)));
        }
    }
    let inserted = tx
        .exec(&message_args(Stmt::new(sql::INSERT_MESSAGE), new).int(seq))
        .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            tx.rollback().await.map_err(backend)?;
            return Ok(None);
        }
        Err(e) if is_foreign_key_violation(&e) => return Err(StoreError::NotFound),
        Err(e) => return Err(backend(e)),
    }
    let message = tx
        .opt(&Stmt::new(sql::MESSAGE_BY_ID).id(new.id))
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound)?;
    let message = rows::message(&message)?;
    let member_ids = tx
        .all(&Stmt::new(sql::CURRENT_MEMBER_IDS).id(new.conversation_id))
        .await
        .map_err(backend)?
        .iter()
        .map(|row| Ok(UserId(row.id("user_id")?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    tx.commit().await.map_err(backend)?;
    Ok(Some(AppendedMessage {
        message,
        created: true,
        member_ids,
    }))
}

/// `viewer`'s read pointer, when a current member.
async fn read_pointer<C: Conn>(
    conn: &mut C,
    viewer: UserId,
    id: ConversationId,
) -> Result<Option<u64>, StoreError> {
    let row = conn
        .opt(&Stmt::new(sql::READ_POINTER).id(id).id(viewer))
        .await
        .map_err(backend)?;
    Ok(row
        .as_ref()
        .map(|row| rows::count(row, "last_read_seq"))
        .transpose()?)
}

pub(crate) async fn list<B: Backend>(
    b: &B,
    viewer: UserId,
    id: ConversationId,
    range: MessageRange,
    limit: u32,
) -> Result<Vec<ConversationMessage>, StoreError> {
    let limit = i64::from(limit);
    let (stmt, newest_first) = match range {
        MessageRange::Latest => (Stmt::new(sql::LATEST).id(id).int(limit), true),
        MessageRange::After(seq) => (Stmt::new(sql::AFTER).id(id).count(seq).int(limit), false),
        MessageRange::Before(seq) => (Stmt::new(sql::BEFORE).id(id).count(seq).int(limit), true),
    };
    let mut conn = b.reads().acquire().await.map_err(backend)?;
    if read_pointer(&mut *conn, viewer, id).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    let mut messages = conn
        .all(&stmt)
        .await
        .map_err(backend)?
        .iter()
        .map(rows::message)
        .collect::<Result<Vec<_>, _>>()?;
    if newest_first {
        messages.reverse();
    }
    Ok(messages)
}

/// One conditional `UPDATE` (forward only, clamped to the latest `seq`);
/// when it changes nothing, the pointer as it is (or `NotFound`).
pub(crate) async fn mark_read<B: Backend>(
    b: &B,
    viewer: UserId,
    id: ConversationId,
    seq: u64,
) -> Result<ReadMark, StoreError> {
    let mut conn = b.writes().acquire().await.map_err(backend)?;
    let moved = conn
        .opt(&Stmt::new(sql::MARK_READ).id(id).id(viewer).count(seq))
        .await
        .map_err(backend)?;
    if let Some(row) = moved {
        return Ok(ReadMark {
            last_read_seq: rows::count(&row, "last_read_seq")?,
            moved: true,
        });
    }
    let last_read_seq = read_pointer(&mut *conn, viewer, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(ReadMark {
        last_read_seq,
        moved: false,
    })
}
