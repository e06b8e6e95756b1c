//! Uploaded images: the rules they pass.
//!
//! - [`process_image`] and [`process_avatar`] (and their `_off_thread`
//!   variants for async code) take the bytes a client sent and return a new
//!   image: its type decided by the bytes alone, its size checked from the
//!   header before anything is decoded, decoded with bounded memory, turned
//!   upright and re-encoded without any metadata (EXIF, GPS, ICC, text).
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
//!    16-bit RGBA), also refused from its header.
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

mod images;
mod jpeg;
mod off_thread;
#[cfg(test)]
mod test_images;

pub use images::{
    process_avatar, process_image, sniff, ImageError, ImageFormat, ProcessedImage, AVATAR_SIDE,
    MAX_PIXELS, MAX_SIDE,
};
pub use off_thread::{process_avatar_off_thread, process_image_off_thread};
