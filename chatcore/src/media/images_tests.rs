//! Tests of `images.rs`: every input is made here, in code.

use super::*;
use crate::media::test_images::*;
use image::{AnimationDecoder, Frame, Rgb, RgbImage, Rgba, RgbaImage};

fn is_red(p: Rgb<u8>) -> bool {
    p[0] > 180 && p[1] < 80 && p[2] < 80
}

fn is_blue(p: Rgb<u8>) -> bool {
    p[0] < 80 && p[1] < 80 && p[2] > 180
}

#[test]
fn the_bytes_decide_and_only_four_formats_pass() {
    for bad in [
        &b"<!DOCTYPE html><html><script>alert(1)</script></html>"[..],
        b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0\x01\0\x18\0",
        b"II*\0\x08\0\0\0",
        b"",
        b"\x89PN",
        b"just some text",
    ] {
        assert_eq!(process_image(bad), Err(ImageError::Unsupported), "{bad:?}");
        assert_eq!(process_avatar(bad), Err(ImageError::Unsupported));
    }
    assert_eq!(ImageError::Unsupported.http_status(), 415);

    let image = gradient(30, 20);
    for (theirs, ours) in [
        (image::ImageFormat::Png, ImageFormat::Png),
        (image::ImageFormat::Jpeg, ImageFormat::Jpeg),
        (image::ImageFormat::Gif, ImageFormat::Gif),
        (image::ImageFormat::WebP, ImageFormat::Webp),
    ] {
        let bytes = encoded(&image, theirs);
        assert_eq!(sniff(&bytes), Some(ours));
        let out = process_image(&bytes).unwrap();
        assert_eq!((out.format, out.width, out.height), (ours, 30, 20));
        assert_eq!(sniff(&out.bytes), Some(ours));
        let back = image::load_from_memory(&out.bytes).unwrap();
        assert_eq!((back.width(), back.height()), (30, 20));
    }
}

#[test]
fn formats_name_themselves() {
    assert_eq!(ImageFormat::Jpeg.content_type(), "image/jpeg");
    assert_eq!(ImageFormat::Webp.extension(), "webp");
    assert_eq!(
        ImageFormat::from_content_type("Image/PNG; charset=binary"),
        Some(ImageFormat::Png)
    );
    assert_eq!(ImageFormat::from_content_type("image/svg+xml"), None);
    assert_eq!(ImageFormat::from_extension("jpeg"), None);
}

#[test]
fn oversized_headers_are_refused_before_decoding() {
    for (width, height) in [
        (50_000, 50_000),
        (9000, 10),
        (10, 9000),
        (7000, 7000),
        (8192, 4883),
    ] {
        let png = png_header_only(width, height);
        assert_eq!(
            process_image(&png),
            Err(ImageError::TooLarge { width, height })
        );
        assert_eq!(
            process_avatar(&png),
            Err(ImageError::TooLarge { width, height })
        );
        // The same header followed by a (tiny) image body and IEND.
        let mut full = png.clone();
        full.extend(png_chunk(
            b"IDAT",
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        ));
        full.extend(png_chunk(b"IEND", &[]));
        assert_eq!(
            process_image(&full),
            Err(ImageError::TooLarge { width, height })
        );
    }
    assert_eq!(
        ImageError::TooLarge {
            width: 1,
            height: 1
        }
        .http_status(),
        422
    );
}

/// 30 megapixels pass the pixel rule, but at 16-bit RGBA (8 bytes a pixel)
/// the decoded buffer would exceed the allocation limit: refused from the
/// decoder's header, before the buffer exists.
#[test]
fn deep_pixels_count_against_the_allocation_limit() {
    let mut png = png_header(6000, 5000, 16, 6);
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(png_chunk(b"IEND", &[]));
    assert_eq!(
        process_image(&png),
        Err(ImageError::TooLarge {
            width: 6000,
            height: 5000
        })
    );
}

#[test]
fn oversized_jpeg_gif_and_webp_headers_are_refused() {
    // JPEG: patch the SOF0 of a small JPEG to 7000 x 7000.
    let mut jpeg = encoded(&gradient(16, 16), image::ImageFormat::Jpeg);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0x1B, 0x58, 0x1B, 0x58]);
    assert_eq!(
        process_image(&jpeg),
        Err(ImageError::TooLarge {
            width: 7000,
            height: 7000
        })
    );

    // GIF: a logical screen of 9000 x 10.
    let mut gif = encoded(&gradient(4, 4), image::ImageFormat::Gif);
    gif[6..10].copy_from_slice(&[0x28, 0x23, 10, 0]);
    assert_eq!(
        process_image(&gif),
        Err(ImageError::TooLarge {
            width: 9000,
            height: 10
        })
    );
    // 5000 x 3000 = 15 MP: over the GIF decoder's frame limit.
    gif[6..10].copy_from_slice(&[0x88, 0x13, 0xB8, 0x0B]);
    assert_eq!(
        process_image(&gif),
        Err(ImageError::TooLarge {
            width: 5000,
            height: 3000
        })
    );

    // WebP lossless: width 9000 in the VP8L header.
    let mut webp = encoded(&gradient(4, 4), image::ImageFormat::WebP);
    assert_eq!(&webp[12..16], b"VP8L");
    let bits = u32::from_le_bytes([webp[21], webp[22], webp[23], webp[24]]);
    let bits = (bits & !0x3FFF) | (9000 - 1);
    webp[21..25].copy_from_slice(&bits.to_le_bytes());
    assert_eq!(
        process_image(&webp),
        Err(ImageError::TooLarge {
            width: 9000,
            height: 4
        })
    );
}

#[test]
fn truncated_images_are_undecodable() {
    let jpeg = encoded(&gradient(64, 64), image::ImageFormat::Jpeg);
    let half = &jpeg[..jpeg.len() / 2];
    assert!(matches!(
        process_image(half),
        Err(ImageError::Undecodable(_))
    ));
    assert!(matches!(
        process_avatar(half),
        Err(ImageError::Undecodable(_))
    ));
    assert_eq!(ImageError::Undecodable(String::new()).http_status(), 422);
    // Without only its EOI marker, too.
    assert!(matches!(
        process_image(&jpeg[..jpeg.len() - 2]),
        Err(ImageError::Undecodable(_))
    ));
    // Bytes after the EOI (camera trailers) are not truncation.
    let mut trailer = jpeg.clone();
    trailer.extend_from_slice(b"trailer");
    assert!(process_image(&trailer).is_ok());

    for format in [
        image::ImageFormat::Png,
        image::ImageFormat::WebP,
        image::ImageFormat::Gif,
    ] {
        let bytes = encoded(&gradient(64, 64), format);
        let half = &bytes[..bytes.len() / 2];
        assert!(
            matches!(process_image(half), Err(ImageError::Undecodable(_))),
            "{format:?}"
        );
    }
}

#[test]
fn jpeg_metadata_does_not_survive() {
    let jpeg = encoded(&gradient(40, 30), image::ImageFormat::Jpeg);
    let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
    icc.extend_from_slice(&[0x42; 128]);
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp.extend_from_slice(b"<x:xmpmeta>GPSLatitude 48.85</x:xmpmeta>");
    let mut tagged = with_jpeg_segment(&jpeg, &jpeg_segment(0xFE, b"secret comment"));
    tagged = with_jpeg_segment(&tagged, &jpeg_segment(0xE2, &icc));
    tagged = with_jpeg_segment(&tagged, &jpeg_segment(0xE1, &xmp));
    tagged = with_jpeg_segment(&tagged, &exif_app1(1));
    assert!(contains(&tagged, b"Exif\0\0MM"));
    assert_eq!(&jpeg_markers(&tagged)[..4], &[0xE1, 0xE1, 0xE2, 0xFE]);

    let out = process_image(&tagged).unwrap();
    assert_eq!(
        (out.format, out.width, out.height),
        (ImageFormat::Jpeg, 40, 30)
    );
    let markers = jpeg_markers(&out.bytes);
    assert!(markers.contains(&0xDA), "{markers:x?}");
    assert!(
        !markers.iter().any(|m| matches!(m, 0xE1..=0xEF | 0xFE)),
        "{markers:x?}"
    );
    for needle in [&b"Exif"[..], b"ICC_PROFILE", b"xmpmeta", b"secret"] {
        assert!(!contains(&out.bytes, needle));
    }
    let avatar = process_avatar(&tagged).unwrap();
    assert!(!contains(&avatar.bytes, b"Exif"));
    assert!(!jpeg_markers(&avatar.bytes).contains(&0xE1));
}

#[test]
fn png_text_and_exif_chunks_do_not_survive() {
    let png = encoded(&gradient(20, 10), image::ImageFormat::Png);
    let mut tagged = with_png_chunk(&png, &png_chunk(b"tEXt", b"Comment\0secret location"));
    tagged = with_png_chunk(&tagged, &png_chunk(b"eXIf", &exif_tiff(1)));
    assert!(image::load_from_memory(&tagged).is_ok());
    let out = process_image(&tagged).unwrap();
    for needle in [&b"tEXt"[..], b"eXIf", b"secret", b"iCCP", b"zTXt", b"iTXt"] {
        assert!(!contains(&out.bytes, needle), "{needle:?}");
    }
    assert_eq!((out.width, out.height), (20, 10));
}

/// A 20 x 10 picture, red on the left half, blue on the right.
fn red_then_blue() -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(20, 10, |x, _| {
        if x < 10 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    }))
}

#[test]
fn exif_orientation_is_applied() {
    // Orientation 6: shown rotated 90 degrees clockwise, so the left half of
    // the stored pixels is the top half of the picture.
    let jpeg = encoded(&red_then_blue(), image::ImageFormat::Jpeg);
    let rotated = with_jpeg_segment(&jpeg, &exif_app1(6));
    let out = process_image(&rotated).unwrap();
    assert_eq!((out.width, out.height), (10, 20));
    let back = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
    assert_eq!(back.dimensions(), (10, 20));
    assert!(is_red(*back.get_pixel(5, 3)), "{:?}", back.get_pixel(5, 3));
    assert!(
        is_blue(*back.get_pixel(5, 16)),
        "{:?}",
        back.get_pixel(5, 16)
    );

    let png = encoded(&red_then_blue(), image::ImageFormat::Png);
    let rotated = with_png_chunk(&png, &png_chunk(b"eXIf", &exif_tiff(6)));
    let out = process_image(&rotated).unwrap();
    assert_eq!((out.width, out.height), (10, 20));
}

#[test]
fn avatars_are_centred_squares_of_at_most_256() {
    // Left third red, middle green, right blue: the avatar is the green.
    let wide = DynamicImage::ImageRgb8(RgbImage::from_fn(600, 300, |x, _| match x {
        0..=149 => Rgb([255, 0, 0]),
        150..=449 => Rgb([0, 255, 0]),
        _ => Rgb([0, 0, 255]),
    }));
    for (theirs, ours) in [
        (image::ImageFormat::Png, ImageFormat::Png),
        (image::ImageFormat::Jpeg, ImageFormat::Jpeg),
        (image::ImageFormat::Gif, ImageFormat::Png),
        (image::ImageFormat::WebP, ImageFormat::Png),
    ] {
        let avatar = process_avatar(&encoded(&wide, theirs)).unwrap();
        assert_eq!(
            (avatar.format, avatar.width, avatar.height),
            (ours, 256, 256)
        );
        assert_eq!(sniff(&avatar.bytes), Some(ours));
        let back = image::load_from_memory(&avatar.bytes).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (256, 256));
        for (x, y) in [(2, 2), (253, 128), (128, 253)] {
            let p = back.get_pixel(x, y);
            assert!(
                p[1] > 200 && p[0] < 60 && p[2] < 60,
                "{theirs:?} {x},{y}: {p:?}"
            );
        }
    }

    let small = process_avatar(&encoded(&gradient(100, 50), image::ImageFormat::Png)).unwrap();
    assert_eq!((small.width, small.height), (50, 50));
    let back = image::load_from_memory(&small.bytes).unwrap();
    assert_eq!((back.width(), back.height()), (50, 50));

    let tall = process_avatar(&encoded(&gradient(256, 900), image::ImageFormat::Jpeg)).unwrap();
    assert_eq!((tall.width, tall.height), (256, 256));
}

#[test]
fn transparency_survives_png_and_avatars() {
    let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(8, 8, Rgba([9, 9, 9, 0])));
    let out = process_avatar(&encoded(&clear, image::ImageFormat::WebP)).unwrap();
    let back = image::load_from_memory(&out.bytes).unwrap().to_rgba8();
    assert_eq!(back.get_pixel(3, 3)[3], 0);
}

#[test]
fn animations_keep_their_first_frame() {
    let mut gif = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut gif);
        let frames = [Rgba([255, 0, 0, 255]), Rgba([0, 0, 255, 255])]
            .map(|colour| Frame::new(RgbaImage::from_pixel(12, 8, colour)));
        encoder.encode_frames(frames).unwrap();
    }
    let frames_in = GifDecoder::new(Cursor::new(&gif)).unwrap().into_frames();
    assert_eq!(frames_in.count(), 2);

    let out = process_image(&gif).unwrap();
    assert_eq!(
        (out.format, out.width, out.height),
        (ImageFormat::Gif, 12, 8)
    );
    let frames = GifDecoder::new(Cursor::new(&out.bytes))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 1);
    let first = frames[0].buffer().get_pixel(4, 4);
    assert!(first[0] > 200 && first[2] < 50, "{first:?}");
}

#[test]
fn empty_images_are_undecodable() {
    let mut gif = encoded(&gradient(4, 4), image::ImageFormat::Gif);
    gif[6..10].copy_from_slice(&[0, 0, 0, 0]);
    assert!(matches!(
        process_image(&gif),
        Err(ImageError::Undecodable(_))
    ));
}
