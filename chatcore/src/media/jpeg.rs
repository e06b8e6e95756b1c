//! The JPEG check the decoder does not make: is the file complete?
//!
//! The JPEG decoder of the `image` crate (zune-jpeg, lenient mode) decodes a
//! file cut in half without an error and fills the missing part with grey,
//! so a truncated upload would be stored as a broken picture.

/// Whether a JPEG's segments and entropy-coded data run up to an
/// end-of-image marker (`FF D9`). Segments with a length (APPn, DQT, SOF,
/// SOS headers, …) are skipped whole, so a marker inside an EXIF thumbnail
/// does not count; after each SOS header the scan data is skipped up to the
/// next marker (`FF` followed by neither `00` nor a restart marker).
pub(super) fn is_complete(bytes: &[u8]) -> bool {
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
                        && (bytes[i] != 0xFF || matches!(bytes[i + 1], 0x00 | 0xD0..=0xD7))
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
mod tests {
    use super::*;
    use crate::media::test_images::{encoded, gradient, jpeg_segment, with_jpeg_segment};

    #[test]
    fn whole_jpegs_are_complete_cut_ones_are_not() {
        let jpeg = encoded(&gradient(32, 32), image::ImageFormat::Jpeg);
        assert!(is_complete(&jpeg));
        for cut in [2, 3, 20, jpeg.len() / 2, jpeg.len() - 2, jpeg.len() - 1] {
            assert!(!is_complete(&jpeg[..cut]), "cut at {cut}");
        }
        let mut trailer = jpeg.clone();
        trailer.extend_from_slice(b"camera trailer");
        assert!(is_complete(&trailer));
    }

    /// An end-of-image marker inside a segment (an EXIF thumbnail) is skipped
    /// with its segment.
    #[test]
    fn an_eoi_inside_a_segment_does_not_count() {
        let jpeg = encoded(&gradient(32, 32), image::ImageFormat::Jpeg);
        let thumbnail = jpeg_segment(0xE1, b"Exif\0\0\xFF\xD8 thumbnail \xFF\xD9");
        let tagged = with_jpeg_segment(&jpeg, &thumbnail);
        assert!(is_complete(&tagged));
        let cut = &tagged[..tagged.len() / 2];
        assert!(!is_complete(cut));
        // Cut inside the segment itself.
        assert!(!is_complete(&tagged[..thumbnail.len()]));
    }
}
