//! The rules an uploaded image passes, and the new image made from it.
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
//!    pixel (16-bit PNG) is limited to fewer pixels ([`MAX_PIXELS`] / 2 for
//!    16-bit RGBA).
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
//! The work costs CPU for up to a second on a large photo, so async code
//! calls [`process_image_off_thread`] / [`process_avatar_off_thread`]: they
//! run on a dedicated pool with one thread per core (like password hashing),
//! so a flood of uploads queues there instead of taking the async workers,
//! and at most that many images are decoded at once (memory bound: threads ×
//! a few decoded images). A panic in a decoder is [`ImageError::Undecodable`].

use std::io::Cursor;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use image::codecs::gif::{GifDecoder, GifEncoder};
use image::codecs::jpeg::{JpegDecoder, JpegEncoder};
use image::codecs::png::{PngDecoder, PngEncoder};
use image::codecs::webp::{WebPDecoder, WebPEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, Limits};
use rayon::{ThreadPool, ThreadPoolBuilder};

/// The largest accepted width or height, in pixels.
pub const MAX_SIDE: u32 = 8192;
/// The largest accepted width × height.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The largest side of an avatar, in pixels.
pub const AVATAR_SIDE: u32 = 256;

/// Quality of re-encoded JPEGs (1..=100).
const JPEG_QUALITY: u8 = 85;
/// NeuQuant sampling of the GIF encoder (1 = slowest, 30 = fastest); 10 is
/// the `gif` crate's usual trade-off, 1 takes seconds on large frames.
const GIF_SPEED: i32 = 10;
/// The decoders' allocation ceiling: a [`MAX_PIXELS`] RGBA8 buffer and a
/// margin for their working buffers.
const MAX_DECODE_ALLOC: u64 = MAX_PIXELS * 4 + 32 * 1024 * 1024;

/// The image formats accepted from clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF (stored as its first frame).
    Gif,
    /// WebP (stored lossless, first frame).
    Webp,
}

impl ImageFormat {
    /// The MIME type: `image/png`, `image/jpeg`, `image/gif`, `image/webp`.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Webp => "image/webp",
        }
    }

    /// The file extension, without a dot: `png`, `jpg`, `gif`, `webp`.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Gif => "gif",
            ImageFormat::Webp => "webp",
        }
    }

    /// The format of a MIME type given by [`content_type`](Self::content_type)
    /// (ASCII case and parameters such as `; charset=…` ignored). Only for
    /// labelling what is already known: an upload's type is decided by
    /// [`sniff`], never by this.
    pub fn from_content_type(content_type: &str) -> Option<ImageFormat> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::Webp,
        ]
        .into_iter()
        .find(|format| format.content_type().eq_ignore_ascii_case(essence))
    }

    /// The format of an extension given by [`extension`](Self::extension),
    /// exactly (lowercase, `jpg` only).
    pub(crate) fn from_extension(extension: &str) -> Option<ImageFormat> {
        match extension {
            "png" => Some(ImageFormat::Png),
            "jpg" => Some(ImageFormat::Jpeg),
            "gif" => Some(ImageFormat::Gif),
            "webp" => Some(ImageFormat::Webp),
            _ => None,
        }
    }
}

/// An image re-encoded by [`process_image`] or [`process_avatar`].
#[derive(Clone, PartialEq, Eq)]
pub struct ProcessedImage {
    /// The encoded image, without metadata.
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: ImageFormat,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

impl std::fmt::Debug for ProcessedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessedImage")
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// Why an upload is not accepted as an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The bytes are not PNG, JPEG, GIF or WebP (HTTP 415).
    #[error("not a PNG, JPEG, GIF or WebP image")]
    Unsupported,
    /// Over [`MAX_SIDE`] pixels a side or [`MAX_PIXELS`] pixels (HTTP 422).
    #[error("image of {width} x {height} pixels is too large (at most {MAX_SIDE} a side and {MAX_PIXELS} pixels)")]
    TooLarge {
        /// The width the header declares.
        width: u32,
        /// The height the header declares.
        height: u32,
    },
    /// Truncated, corrupt, or the decoder failed (HTTP 422).
    #[error("the image could not be decoded: {0}")]
    Undecodable(String),
    /// The image threads could not be started (HTTP 503; not the upload's fault).
    #[error("the image processing threads could not be started: {0}")]
    Unavailable(String),
}

impl ImageError {
    /// The HTTP status this error means: 415 for [`Unsupported`](Self::Unsupported),
    /// 503 for [`Unavailable`](Self::Unavailable), 422 for the others.
    pub fn http_status(&self) -> u16 {
        match self {
            ImageError::Unsupported => 415,
            ImageError::Unavailable(_) => 503,
            ImageError::TooLarge { .. } | ImageError::Undecodable(_) => 422,
        }
    }
}

/// The format of `bytes` by their magic bytes alone, if it is one of the
/// accepted ones.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    match image::guess_format(bytes).ok()? {
        image::ImageFormat::Png => Some(ImageFormat::Png),
        image::ImageFormat::Jpeg => Some(ImageFormat::Jpeg),
        image::ImageFormat::Gif => Some(ImageFormat::Gif),
        image::ImageFormat::WebP => Some(ImageFormat::Webp),
        _ => None,
    }
}

/// Checks an upload and re-encodes it in its own format, upright, size kept,
/// without metadata (see the [module docs](self) for every rule).
pub fn process_image(bytes: &[u8]) -> Result<ProcessedImage, ImageError> {
    let (image, format) = decode(bytes)?;
    encode(&image, format)
}

/// Checks an upload like [`process_image`], then makes an avatar of it: the
/// centred square, at most [`AVATAR_SIDE`] a side, JPEG for a JPEG upload
/// and PNG for the others.
pub fn process_avatar(bytes: &[u8]) -> Result<ProcessedImage, ImageError> {
    let (image, format) = decode(bytes)?;
    let (width, height) = (image.width(), image.height());
    let side = width.min(height);
    let square = image.crop_imm((width - side) / 2, (height - side) / 2, side, side);
    let avatar = if side > AVATAR_SIDE {
        square.resize_exact(AVATAR_SIDE, AVATAR_SIDE, FilterType::Lanczos3)
    } else {
        square
    };
    let format = match format {
        ImageFormat::Jpeg => ImageFormat::Jpeg,
        _ => ImageFormat::Png,
    };
    encode(&avatar, format)
}

/// [`process_image`] on the image threads, off the async workers.
pub async fn process_image_off_thread(bytes: Vec<u8>) -> Result<ProcessedImage, ImageError> {
    run_off_thread(move || process_image(&bytes)).await
}

/// [`process_avatar`] on the image threads, off the async workers.
pub async fn process_avatar_off_thread(bytes: Vec<u8>) -> Result<ProcessedImage, ImageError> {
    run_off_thread(move || process_avatar(&bytes)).await
}

/// The image threads: one per core, started on first use.
fn pool() -> Result<&'static ThreadPool, ImageError> {
    static POOL: OnceLock<Result<ThreadPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("chatcore-image-{i}"))
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| ImageError::Unavailable(e.clone()))
}

async fn run_off_thread(
    work: impl FnOnce() -> Result<ProcessedImage, ImageError> + Send + 'static,
) -> Result<ProcessedImage, ImageError> {
    let (done, result) = tokio::sync::oneshot::channel();
    pool()?.spawn(move || {
        // A panic must not take the pool's thread down (rayon would abort).
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
            Err(ImageError::Undecodable(
                "the image decoder failed".to_owned(),
            ))
        });
        let _ = done.send(outcome);
    });
    result
        .await
        .map_err(|_| ImageError::Undecodable("the image task was lost".to_owned()))?
}

fn check_dimensions(width: u32, height: u32) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::Undecodable(format!(
            "empty image ({width} x {height})"
        )));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    Ok(())
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    limits
}

/// The dimensions in a PNG's `IHDR`, which must be the first chunk (read
/// here so that even a PNG with nothing after its header is measured).
fn png_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let ihdr = bytes.get(8..24)?;
    if ihdr[..8] != [0, 0, 0, 13, b'I', b'H', b'D', b'R'] {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&ihdr[8..12]), be(&ihdr[12..16])))
}

/// Sniffs, measures, then decodes with limits and turns upright.
fn decode(bytes: &[u8]) -> Result<(DynamicImage, ImageFormat), ImageError> {
    let format = sniff(bytes).ok_or(ImageError::Unsupported)?;
    if let Some((width, height)) = png_dimensions(bytes) {
        check_dimensions(width, height)?;
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(ImageError::Undecodable(
            "JPEG data ends before its end-of-image marker".to_owned(),
        ));
    }
    let undecodable = |e: image::ImageError| ImageError::Undecodable(e.to_string());
    let reader = Cursor::new(bytes);
    let mut decoder: Box<dyn ImageDecoder + '_> = match format {
        ImageFormat::Png => {
            Box::new(PngDecoder::with_limits(reader, limits()).map_err(undecodable)?)
        }
        ImageFormat::Jpeg => Box::new(JpegDecoder::new(reader).map_err(undecodable)?),
        ImageFormat::Gif => Box::new(GifDecoder::new(reader).map_err(undecodable)?),
        ImageFormat::Webp => Box::new(WebPDecoder::new(reader).map_err(undecodable)?),
    };
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;
    let too_large = |_| ImageError::TooLarge { width, height };
    let mut limits = limits();
    limits.reserve(decoder.total_bytes()).map_err(too_large)?;
    decoder.set_limits(limits).map_err(too_large)?;
    // Unreadable EXIF is no reason to refuse the pixels: shown as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => ImageError::TooLarge { width, height },
        e => undecodable(e),
    })?;
    image.apply_orientation(orientation);
    Ok((image, format))
}

/// Encodes `image` with no metadata at all: the encoders write only what is
/// set on them, and nothing is.
fn encode(image: &DynamicImage, format: ImageFormat) -> Result<ProcessedImage, ImageError> {
    let mut bytes = Vec::new();
    let written = match format {
        ImageFormat::Png => image.write_with_encoder(PngEncoder::new(&mut bytes)),
        ImageFormat::Jpeg => {
            image.write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY))
        }
        ImageFormat::Gif => {
            image.write_with_encoder(GifEncoder::new_with_speed(&mut bytes, GIF_SPEED))
        }
        ImageFormat::Webp => image.write_with_encoder(WebPEncoder::new_lossless(&mut bytes)),
    };
    written.map_err(|e| ImageError::Undecodable(format!("re-encoding failed: {e}")))?;
    Ok(ProcessedImage {
        bytes,
        format,
        width: image.width(),
        height: image.height(),
    })
}

/// Whether a JPEG's segments and entropy-coded data run up to an
/// end-of-image marker (`FF D9`). Segments with a length (APPn, DQT, SOF,
/// SOS headers, …) are skipped whole, so a marker inside an EXIF thumbnail
/// does not count; after each SOS header the scan data is skipped up to the
/// next marker (`FF` followed by neither `00` nor a restart marker).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut i = 2; // after SOI
    while i + 1 < bytes.len() {
        if bytes[i] != 0xFF {
            i += 1; // stray byte between segments: tolerated, as decoders do
            continue;
        }
        match bytes[i + 1] {
            0xD9 => return true,
            0xFF => i += 1, // fill byte
            0x00 | 0x01 | 0xD0..=0xD7 => i += 2,
            marker => {
                let Some(len) = bytes.get(i + 2..i + 4) else {
                    return false;
                };
                i += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
                if marker == 0xDA {
                    while i + 1 < bytes.len()
                        && !(bytes[i] == 0xFF && !matches!(bytes[i + 1], 0x00 | 0xD0..=0xD7))
                    {
                        i += 1;
                    }
                }
            }
        }
    }
    false
}

#[cfg(test)]
#[path = "images_tests.rs"]
mod tests;
