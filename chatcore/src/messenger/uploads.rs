//! Avatars and images: the upload rules and the bytes' lifecycle.
//!
//! An upload is checked for size, sniffed, decoded within the pixel limits
//! and re-encoded without metadata off the async threads
//! ([`media::images`](crate::media::images)), written under a fresh random
//! [`MediaKey`], and only then recorded in the store. When the record
//! fails, the file is removed again, so a rejected upload leaves nothing
//! behind; a replaced or removed avatar's file is deleted.

use std::sync::Arc;

use super::domain::Media;
use super::MessengerService;
use crate::clock;
use crate::domain::User;
use crate::error::ServiceError;
use crate::ids::{MediaId, UserId};
use crate::media::{self as images, ImageError, ImageFormat, ProcessedImage};
use crate::media::{MediaError, MediaKey, MediaStore};

/// Bytes read back from a [`MediaStore`], with their type.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredBytes {
    /// The image.
    pub bytes: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

impl std::fmt::Debug for StoredBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredBytes")
            .field("bytes", &self.bytes.len())
            .field("content_type", &self.content_type)
            .finish()
    }
}

impl MessengerService {
    /// Replaces the caller's avatar with `upload` (at most
    /// [`avatar_max_bytes`](super::MessengerConfig::avatar_max_bytes)):
    /// centre-cropped to a square of at most 256 x 256 and re-encoded. The
    /// previous avatar's file is deleted.
    pub async fn set_avatar(&self, user_id: UserId, upload: Vec<u8>) -> Result<User, ServiceError> {
        check_size(upload.len(), self.inner.config.avatar_max_bytes)?;
        let image = images::process_avatar_off_thread(upload)
            .await
            .map_err(image_error)?;
        let avatars = &self.inner.media.avatars;
        let key = put(avatars, image.format, image.bytes).await?;
        match self
            .inner
            .store
            .set_avatar(user_id, Some(key.as_str()), clock::now())
            .await
        {
            Ok((user, previous)) => {
                self.inner.auth.forget_user(user_id);
                remove_avatar_file(avatars, previous).await;
                Ok(user)
            }
            Err(error) => {
                discard(avatars, &key).await;
                Err(error.into())
            }
        }
    }

    /// Removes the caller's avatar (and its file).
    pub async fn remove_avatar(&self, user_id: UserId) -> Result<User, ServiceError> {
        let (user, previous) = self
            .inner
            .store
            .set_avatar(user_id, None, clock::now())
            .await?;
        self.inner.auth.forget_user(user_id);
        remove_avatar_file(&self.inner.media.avatars, previous).await;
        Ok(user)
    }

    /// The avatar named `name` (public: avatars are shown to anyone).
    /// Anything but a media key, or an unknown one: `NotFound`.
    pub async fn avatar(&self, name: &str) -> Result<StoredBytes, ServiceError> {
        let key = MediaKey::parse(name).ok_or_else(|| ServiceError::not_found("avatar"))?;
        read(&self.inner.media.avatars, &key, "avatar").await
    }

    /// Stores an image for the caller to attach to messages (at most
    /// [`media_max_bytes`](super::MessengerConfig::media_max_bytes)),
    /// re-encoded without metadata at its own size.
    pub async fn upload_image(
        &self,
        owner: UserId,
        upload: Vec<u8>,
    ) -> Result<Media, ServiceError> {
        check_size(upload.len(), self.inner.config.media_max_bytes)?;
        let image = images::process_image_off_thread(upload)
            .await
            .map_err(image_error)?;
        let images = &self.inner.media.images;
        let ProcessedImage {
            bytes,
            format,
            width,
            height,
        } = image;
        let size = bytes.len() as u64;
        let key = put(images, format, bytes).await?;
        let media = Media {
            id: MediaId::new(),
            owner_id: owner,
            content_type: format.content_type().to_owned(),
            width,
            height,
            bytes: size,
            key: key.as_str().to_owned(),
            created_at: clock::now(),
        };
        match self.inner.store.create_media(media).await {
            Ok(media) => Ok(media),
            Err(error) => {
                discard(images, &key).await;
                Err(error.into())
            }
        }
    }

    /// An image and its bytes, for its uploader and for the members of a
    /// conversation that has a message with it; anyone else: `NotFound`.
    pub async fn image(
        &self,
        viewer: UserId,
        id: MediaId,
    ) -> Result<(Media, StoredBytes), ServiceError> {
        let media = self
            .inner
            .store
            .visible_media(viewer, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("image"))?;
        let key = MediaKey::parse(&media.key).ok_or_else(|| {
            ServiceError::internal(MediaError::backend(format!(
                "stored media key of {id} is malformed"
            )))
        })?;
        let bytes = read(&self.inner.media.images, &key, "image").await?;
        Ok((media, bytes))
    }
}

fn check_size(len: usize, max: usize) -> Result<(), ServiceError> {
    if len > max {
        return Err(ServiceError::PayloadTooLarge(format!(
            "the file is larger than {max} bytes"
        )));
    }
    Ok(())
}

fn image_error(error: ImageError) -> ServiceError {
    match error {
        ImageError::Unsupported => ServiceError::UnsupportedMediaType(
            "the file is not a PNG, JPEG, GIF or WebP image".to_owned(),
        ),
        ImageError::Unavailable(detail) => ServiceError::Unavailable(detail),
        other => ServiceError::field("file", other.to_string()),
    }
}

/// Writes encoded bytes under a new random key for `format`.
async fn put(
    store: &Arc<dyn MediaStore>,
    format: ImageFormat,
    bytes: Vec<u8>,
) -> Result<MediaKey, ServiceError> {
    let key = MediaKey::random(format);
    store
        .put(&key, bytes)
        .await
        .map_err(ServiceError::internal)?;
    Ok(key)
}

async fn read(
    store: &Arc<dyn MediaStore>,
    key: &MediaKey,
    what: &str,
) -> Result<StoredBytes, ServiceError> {
    let bytes = store
        .get(key)
        .await
        .map_err(ServiceError::internal)?
        .ok_or_else(|| ServiceError::not_found(what))?;
    Ok(StoredBytes {
        bytes,
        content_type: key.format().content_type(),
    })
}

async fn discard(store: &Arc<dyn MediaStore>, key: &MediaKey) {
    if let Err(error) = store.delete(key).await {
        tracing::warn!(key = %key, %error, "could not remove the file of a rejected upload");
    }
}

async fn remove_avatar_file(store: &Arc<dyn MediaStore>, previous: Option<String>) {
    if let Some(key) = previous.as_deref().and_then(MediaKey::parse) {
        discard(store, &key).await;
    }
}
