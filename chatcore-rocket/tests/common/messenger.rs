//! Helpers of the messenger tests: multipart bodies built by hand (so a
//! test can send exactly the parts it wants), test images made with the
//! `image` crate, and a few REST shortcuts.

use std::io::Cursor;
use std::path::Path;

use image::{ImageEncoder, RgbImage};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::TestServer;

/// One part of a multipart body.
pub struct Part {
    pub name: &'static str,
    pub file_name: Option<&'static str>,
    pub content_type: Option<&'static str>,
    pub bytes: Vec<u8>,
}

impl Part {
    /// A file part `file` with a file name and a declared type.
    pub fn file(bytes: Vec<u8>, file_name: &'static str, content_type: &'static str) -> Part {
        Part {
            name: "file",
            file_name: Some(file_name),
            content_type: Some(content_type),
            bytes,
        }
    }

    /// A plain text part.
    pub fn text(name: &'static str, value: &str) -> Part {
        Part {
            name,
            file_name: None,
            content_type: None,
            bytes: value.as_bytes().to_vec(),
        }
    }
}

const BOUNDARY: &str = "chatcore-test-boundary-7MA4YWxkTrZu0gW";

/// `(content type, body)` of a `multipart/form-data` body of `parts`.
pub fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
        if let Some(file_name) = part.file_name {
            disposition.push_str(&format!("; filename=\"{file_name}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(content_type) = part.content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// A gradient, so that encoders have something to encode.
fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
    })
}

/// A PNG of `width` x `height`.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            picture(width, height).as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// A PNG of `width` x `height` of noise (it hardly compresses: about
/// 3 bytes a pixel).
pub fn noise_png(width: u32, height: u32) -> Vec<u8> {
    let mut state: u32 = 0x2545_F491;
    let noise = RgbImage::from_fn(width, height, |_, _| {
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        };
        image::Rgb([next(), next(), next()])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            noise.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// A JPEG of `width` x `height`.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(
            picture(width, height).as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out.into_inner()
}

/// The text the GPS EXIF of [`jpeg_with_gps`] carries (as its image
/// description), easy to look for in served bytes.
pub const EXIF_MARKER: &[u8] = b"SECRET-LOCATION-48N51";

/// A JPEG with an EXIF APP1 segment right after SOI: orientation 1, an
/// image description ([`EXIF_MARKER`]) and a GPS IFD with a latitude.
pub fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let plain = jpeg(width, height);
    // TIFF, little-endian; IFD0 at 8.
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    let entry = |tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        let mut e = Vec::new();
        e.extend_from_slice(&tag.to_le_bytes());
        e.extend_from_slice(&kind.to_le_bytes());
        e.extend_from_slice(&count.to_le_bytes());
        e.extend_from_slice(&value);
        e
    };
    // IFD0: 3 entries (2 + 36 + 4 = 42 bytes) at 8; then the description;
    // then the GPS IFD.
    let description_at = 8 + 42;
    let description: Vec<u8> = [EXIF_MARKER, b"\0"].concat();
    let gps_at = description_at + description.len() as u32;
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend(entry(
        0x010E,
        2,
        description.len() as u32,
        description_at.to_le_bytes(),
    ));
    tiff.extend(entry(0x0112, 3, 1, [1, 0, 0, 0]));
    tiff.extend(entry(0x8825, 4, 1, gps_at.to_le_bytes()));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&description);
    // GPS IFD: 2 entries (2 + 24 + 4 = 30 bytes), then 3 rationals.
    let rationals_at = gps_at + 30;
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend(entry(0x0001, 2, 2, [b'N', 0, 0, 0]));
    tiff.extend(entry(0x0002, 5, 3, rationals_at.to_le_bytes()));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (num, den) in [(48u32, 1u32), (51, 1), (30, 1)] {
        tiff.extend_from_slice(&num.to_le_bytes());
        tiff.extend_from_slice(&den.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A PNG signature and an IHDR (with a correct CRC) claiming
/// `width` x `height`, and nothing else.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&width.to_be_bytes());
    chunk.extend_from_slice(&height.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32fast::hash(&chunk).to_be_bytes());
    out
}

/// Every file below `dir` (recursively), as sorted paths.
pub fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_below(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A registered user of the messenger tests.
pub struct Member {
    pub token: String,
    pub id: String,
    pub user: Value,
}

impl TestServer {
    /// Registers `name@example.com` with username `name` (and a display
    /// name, when given).
    pub async fn member(&self, name: &str, display_name: Option<&str>) -> Member {
        let mut body = json!({
            "email": format!("{name}@example.com"),
            "password": "correct horse battery",
            "username": name,
        });
        if let Some(display_name) = display_name {
            body["display_name"] = json!(display_name);
        }
        let response = self.post("/auth/register", None, &body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        Member {
            token: body["access_token"].as_str().unwrap().to_owned(),
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            user: body["user"].clone(),
        }
    }

    /// Sends `parts` as `multipart/form-data`.
    pub async fn upload(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        parts: &[Part],
    ) -> Response {
        let (content_type, body) = multipart(parts);
        self.request(method, path, token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /media` of one file; returns the `media` JSON.
    pub async fn upload_image(&self, token: &str, bytes: Vec<u8>) -> Value {
        let part = Part::file(bytes, "picture.png", "image/png");
        let response = self
            .upload(Method::POST, "/media", Some(token), &[part])
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// `POST /conversations`; returns the status and the `conversation`.
    pub async fn conversation(&self, token: &str, body: Value) -> (u16, Value) {
        let response = self.post("/conversations", Some(token), &body).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// `POST /conversations/{id}/messages`; returns the status and the body.
    pub async fn say(&self, token: &str, conversation: &str, body: Value) -> (u16, Value) {
        let response = self
            .post(
                &format!("/conversations/{conversation}/messages"),
                Some(token),
                &body,
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// `GET` as JSON, asserting 200.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self.get(path, Some(token)).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }
}
