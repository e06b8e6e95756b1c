//! The image rules (documented on [`crate::media`]): sniffing, header
//! limits, bounded decoding, orientation and metadata-free re-encoding.

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder};
use image::codecs::jpeg::{JpegDecoder, JpegEncoder};
use image::codecs::png::{PngDecoder, PngEncoder};
use image::codecs::webp::{WebPDecoder, WebPEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, Limits};

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
/// The `gif` crate refuses a frame whose RGBA buffer exceeds 50 MB (its
/// default memory limit, which `image` does not let us raise): 12.5 million
/// pixels. Refused as too large up front rather than failing mid-decode.
const GIF_MAX_PIXELS: u64 = 50_000_000 / 4;

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
/// without metadata (every rule is in the
/// [`media` docs](crate::media#the-image-rules)).
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
    if format == ImageFormat::Jpeg && !super::jpeg::is_complete(bytes) {
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
    if format == ImageFormat::Gif && u64::from(width) * u64::from(height) > GIF_MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
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

#[cfg(test)]
#[path = "images_tests.rs"]
mod tests;
