//! Records of uploaded images.

use chatcore::messenger::Media;
use chatcore::{ConflictKind, MediaId, StoreError, UserId};

use super::{rows, sql, Backend, Conn, Stmt};
use crate::error::{backend, is_foreign_key_violation, is_unique_violation};

pub(crate) async fn create_media<B: Backend>(b: &B, media: Media) -> Result<Media, StoreError> {
    let mut conn = b.writes().acquire().await.map_err(backend)?;
    let stored = conn
        .exec(
            &Stmt::new(sql::INSERT_MEDIA)
                .id(media.id)
                .id(media.owner_id)
                .text(media.content_type.as_str())
                .int(i64::from(media.width))
                .int(i64::from(media.height))
                .count(media.bytes)
                .text(media.key.as_str())
                .time(media.created_at),
        )
        .await;
    match stored {
        Ok(_) => Ok(media),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(ConflictKind::Id)),
        Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound),
        Err(e) => Err(backend(e)),
    }
}

pub(crate) async fn own_media<B: Backend>(
    b: &B,
    owner: UserId,
    id: MediaId,
) -> Result<Option<Media>, StoreError> {
    one(b, Stmt::new(sql::OWN_MEDIA).id(id).id(owner)).await
}

pub(crate) async fn visible_media<B: Backend>(
    b: &B,
    viewer: UserId,
    id: MediaId,
) -> Result<Option<Media>, StoreError> {
    one(b, Stmt::new(sql::VISIBLE_MEDIA).id(id).id(viewer)).await
}

async fn one<B: Backend>(b: &B, stmt: Stmt) -> Result<Option<Media>, StoreError> {
    let mut conn = b.reads().acquire().await.map_err(backend)?;
    match conn.opt(&stmt).await.map_err(backend)? {
        Some(row) => Ok(rows::media(&row)?),
        None => Ok(None),
    }
}
