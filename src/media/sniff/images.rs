//! Images known by their magic numbers: JPEG, PNG, GIF, TIFF, BMP (WebP,
//! HEIC and AVIF are containers).

use super::format::Format;

pub(super) fn image(h: &[u8]) -> Option<Format> {
    if h.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if h.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if h.starts_with(b"GIF87a") || h.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if h.starts_with(b"II*\0") || h.starts_with(b"MM\0*") {
        Some(Format::Tiff)
    } else if is_bmp(h) {
        Some(Format::Bmp)
    } else {
        None
    }
}

/// `BM`, then a DIB header whose size is one of the known versions.
fn is_bmp(h: &[u8]) -> bool {
    h.starts_with(b"BM")
        && h.get(14..18).is_some_and(|s| {
            matches!(
                u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
                12 | 40 | 52 | 56 | 64 | 108 | 124
            )
        })
}
