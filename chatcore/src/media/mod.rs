//! Uploaded images: the rules they pass, the names they are stored under and
//! the stores that hold them.
//!
//! - [`process_image`] and [`process_avatar`] (and their `_off_thread`
//!   variants for async code) take the bytes a client sent and return a new
//!   image: its type decided by the bytes alone, its size checked from the
//!   header before anything is decoded, decoded with bounded memory, turned
//!   upright and re-encoded without any metadata (EXIF, GPS, ICC, text).
//! - [`MediaKey`] names a stored blob: 128 random bits in hex and the
//!   extension of its format. It has no constructor that takes a client's
//!   name, and [`MediaKey::parse`] accepts only that exact shape, so no path
//!   separator, dot-dot or encoded character can reach a store.
//! - [`MediaStore`] keeps blobs by key: [`LocalDirMedia`] in a directory
//!   (atomic writes), [`InMemoryMedia`] in memory.
//!
//! # The image rules
//!
//! 1. **Type from the bytes.** Only the magic bytes decide (PNG, JPEG, GIF,
//!    WebP); a declared content type or file name is never consulted. SVG,
//!    HTML, BMP, TIFF, empty input … are [`ImageError::Unsupported`].
//! 2. **Size from the header, before decoding.** The width and height are
//!    read from the header (for PNG straight from `IHDR`, for the others by
//!    the decoder's header parse) and anything over [`MAX_SIDE`] a side or
//!    [`MAX_PIXELS`] in all is [`ImageError::TooLarge`] before any pixel
//!    buffer exists. The decoder then runs with `image::Limits` (the same
//!    sides, and at most [`MAX_PIXELS`] × 4 bytes plus a margin of
//!    allocations) as a second line; so an image with more than 4 bytes a
//!    pixel (16-bit PNG) is limited to fewer pixels (about 24 million for
//!    16-bit RGBA), also refused from its header. A GIF is limited to 12.5
//!    million pixels (the `gif` decoder's fixed 50 MB frame buffer).
//! 3. **A new image.** The pixels are decoded, turned upright by their EXIF
//!    orientation (JPEG, WebP, PNG `eXIf`) and encoded again: same format
//!    (PNG, JPEG at quality 85, GIF, lossless WebP, the only WebP the `image`
//!    crate writes), same size after orientation, and nothing else: no EXIF
//!    (so no GPS), no ICC profile, no XMP, no text chunks, no comments.
//! 4. **Truncated or corrupt is [`ImageError::Undecodable`]**, including a
//!    JPEG whose data ends before its end-of-image marker (the JPEG decoder
//!    would otherwise fill the missing part with grey).
//!
//! **Animation is not kept**: an animated GIF or WebP becomes its first
//! frame, a still image in the same format. That bounds the work by one
//! frame's pixels (no frames × pixels bomb) and keeps the encoders simple;
//! clients show a still.
//!
//! **Avatars** are centre-cropped to a square (side = the shorter side),
//! shrunk to at most [`AVATAR_SIDE`] pixels a side with Lanczos3 (never
//! enlarged) and encoded as JPEG when the upload was a JPEG (photos), as PNG
//! otherwise (keeps transparency, no palette loss for GIF, PNG is shown
//! everywhere).
//!
//! **Off the async threads.** The work costs up to a second of CPU on a
//! large photo, so async code calls [`process_image_off_thread`] and
//! [`process_avatar_off_thread`]. They run it on a dedicated rayon pool with
//! one thread per core, started on first use (like password hashing): a
//! flood of uploads queues there, first come first served, instead of
//! occupying tokio's workers, and at most that many images are decoded at
//! once, which bounds memory to threads × one image's buffers. A panic in a
//! decoder becomes [`ImageError::Undecodable`] and the pool lives on.
//! Dropping the future does not cancel a job already queued or running.
//!
//! # Example
//!
//! ```
//! use chatcore::media::{process_avatar_off_thread, ImageFormat};
//! use chatcore::{InMemoryMedia, MediaKey, MediaStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mut upload = std::io::Cursor::new(Vec::new());
//! # image::DynamicImage::new_rgb8(600, 400).write_to(&mut upload, image::ImageFormat::Png)?;
//! # let upload: Vec<u8> = upload.into_inner();
//! let store = InMemoryMedia::new();
//! // `upload`: the bytes of the multipart file field, whatever it claimed to be.
//! let avatar = process_avatar_off_thread(upload).await?; // error.http_status(): 415 / 422
//! assert_eq!((avatar.format, avatar.width, avatar.height), (ImageFormat::Png, 256, 256));
//! let key = MediaKey::random(avatar.format);
//! store.put(&key, avatar.bytes).await?;
//! let avatar_url = format!("/avatars/{key}");
//!
//! // Serving: a name from the URL is parsed, never joined to a path.
//! let name = avatar_url.trim_start_matches("/avatars/");
//! let key = MediaKey::parse(name).ok_or("404")?;
//! let bytes = store.get(&key).await?.ok_or("404")?;
//! assert_eq!(key.format().content_type(), "image/png");
//! # assert!(!bytes.is_empty());
//! assert!(MediaKey::parse("../../etc/passwd").is_none());
//! # Ok(())
//! # }
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod images;
mod jpeg;
mod local_dir;
mod memory;
mod off_thread;
#[cfg(test)]
mod test_images;

pub use images::{
    process_avatar, process_image, sniff, ImageError, ImageFormat, ProcessedImage, AVATAR_SIDE,
    MAX_PIXELS, MAX_SIDE,
};
pub use local_dir::LocalDirMedia;
pub use memory::InMemoryMedia;
pub use off_thread::{process_avatar_off_thread, process_image_off_thread};

/// Hex digits in a key's random part (128 bits).
const KEY_HEX_LEN: usize = 32;

/// The name of a stored blob: 32 lowercase hex digits (128 random bits), a
/// dot and the extension of its format (`png`, `jpg`, `gif`, `webp`), e.g.
/// `3f2a…9c.png`.
///
/// The only constructors are [`MediaKey::random`] and [`MediaKey::parse`]
/// (and deserialising, which parses): nothing a client sent can become part
/// of a key other than by matching that shape exactly, so a key is always a
/// safe single file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaKey {
    name: String,
    format: ImageFormat,
}

impl MediaKey {
    /// A new key with 128 bits from the thread-local CSPRNG (seeded by the OS).
    pub fn random(format: ImageFormat) -> MediaKey {
        let bits: u128 = rand::random();
        MediaKey {
            name: format!("{bits:032x}.{}", format.extension()),
            format,
        }
    }

    /// The key spelled `name`, if `name` has exactly the shape of a key:
    /// 32 characters `0-9a-f`, a dot, and one of `png`, `jpg`, `gif`,
    /// `webp`. Anything else (uppercase, other extensions, other lengths,
    /// slashes, dots, percent signs, …) is `None`.
    pub fn parse(name: &str) -> Option<MediaKey> {
        let (stem, extension) = name.split_once('.')?;
        let hex = stem.len() == KEY_HEX_LEN
            && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let format = ImageFormat::from_extension(extension)?;
        hex.then(|| MediaKey {
            name: name.to_owned(),
            format,
        })
    }

    /// The key as a file name.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The format named by the key's extension.
    pub fn format(&self) -> ImageFormat {
        self.format
    }
}

impl fmt::Display for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl AsRef<str> for MediaKey {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

impl Serialize for MediaKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for MediaKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        MediaKey::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("not a media key: {name:?}")))
    }
}

/// Why a [`MediaStore`] could not do what was asked ("not found" is not an
/// error: [`MediaStore::get`] returns `None`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The backend failed (I/O error, unreachable service, …).
    #[error("media store failure: {0}")]
    Backend(Box<dyn StdError + Send + Sync>),
}

impl MediaError {
    /// Wraps a backend's error.
    pub fn backend(error: impl Into<Box<dyn StdError + Send + Sync>>) -> MediaError {
        MediaError::Backend(error.into())
    }
}

/// A place that keeps blobs by [`MediaKey`]: a directory, a bucket, memory.
///
/// Keys are random, so a `put` never meets an existing blob in normal use;
/// if it does, the new bytes replace the old ones.
#[async_trait]
pub trait MediaStore: Send + Sync + 'static {
    /// Stores `bytes` under `key`, entirely or not at all: a failed or
    /// interrupted `put` leaves nothing readable under `key`.
    async fn put(&self, key: &MediaKey, bytes: Vec<u8>) -> Result<(), MediaError>;

    /// The bytes stored under `key`, `None` when there are none.
    async fn get(&self, key: &MediaKey) -> Result<Option<Vec<u8>>, MediaError>;

    /// Removes the blob under `key`; removing an absent blob is `Ok`.
    async fn delete(&self, key: &MediaKey) -> Result<(), MediaError>;
}

#[async_trait]
impl<T: MediaStore + ?Sized> MediaStore for Arc<T> {
    async fn put(&self, key: &MediaKey, bytes: Vec<u8>) -> Result<(), MediaError> {
        (**self).put(key, bytes).await
    }

    async fn get(&self, key: &MediaKey) -> Result<Option<Vec<u8>>, MediaError> {
        (**self).get(key).await
    }

    async fn delete(&self, key: &MediaKey) -> Result<(), MediaError> {
        (**self).delete(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_have_the_key_shape_and_differ() {
        let a = MediaKey::random(ImageFormat::Png);
        let b = MediaKey::random(ImageFormat::Png);
        assert_ne!(a, b);
        let (stem, ext) = a.as_str().split_once('.').unwrap();
        assert_eq!(stem.len(), 32);
        assert!(stem
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(ext, "png");
        for (format, ext) in [
            (ImageFormat::Jpeg, "jpg"),
            (ImageFormat::Gif, "gif"),
            (ImageFormat::Webp, "webp"),
        ] {
            let key = MediaKey::random(format);
            assert!(key.as_str().ends_with(&format!(".{ext}")), "{key}");
            assert_eq!(key.format(), format);
        }
    }

    #[test]
    fn parse_accepts_its_own_output() {
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::Webp,
        ] {
            let key = MediaKey::random(format);
            assert_eq!(MediaKey::parse(key.as_str()), Some(key.clone()));
            assert_eq!(key.to_string(), key.as_str());
        }
    }

    #[test]
    fn parse_rejects_everything_else() {
        let hex = "0123456789abcdef0123456789abcdef";
        for bad in [
            String::new(),
            "../../etc/passwd".to_owned(),
            "%2e%2e%2fx.png".to_owned(),
            format!("{}.png", hex.to_uppercase()),
            "ABCDEF0123456789ABCDEF0123456789.png".to_owned(),
            format!("{hex}.svg"),
            format!("{hex}.jpeg"),
            format!("{hex}.PNG"),
            format!("{hex}.png.png"),
            format!("{hex}."),
            hex.to_owned(),
            format!("{}.png", &hex[..31]),
            format!("{hex}0.png"),
            format!("../{}.png", &hex[3..]),
            format!("{}/.png", &hex[..31]),
            format!("{}%2f.png", &hex[..29]),
            format!(" {}.png", &hex[1..]),
            format!("{hex}.png\0"),
            format!("{hex}.png/"),
            format!("{}g.png", &hex[..31]),
            format!(".{hex}.png"),
        ] {
            assert_eq!(MediaKey::parse(&bad), None, "{bad:?}");
        }
        assert!(MediaKey::parse(&format!("{hex}.webp")).is_some());
    }

    #[test]
    fn serde_is_a_validated_string() {
        let key = MediaKey::random(ImageFormat::Gif);
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{key}\""));
        assert_eq!(serde_json::from_str::<MediaKey>(&json).unwrap(), key);
        assert!(serde_json::from_str::<MediaKey>("\"../../etc/passwd\"").is_err());
        assert!(serde_json::from_str::<MediaKey>("42").is_err());
    }

    #[tokio::test]
    async fn arc_forwards() {
        let store = Arc::new(InMemoryMedia::new());
        let key = MediaKey::random(ImageFormat::Png);
        MediaStore::put(&store, &key, b"x".to_vec()).await.unwrap();
        assert_eq!(
            MediaStore::get(&store, &key).await.unwrap(),
            Some(b"x".to_vec())
        );
        MediaStore::delete(&store, &key).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), None);
    }
}
