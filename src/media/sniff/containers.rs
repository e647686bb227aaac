//! Container formats, told apart by what their header says they hold: RIFF
//! (WebP, WAV, AVI), ISO base media (MP4, M4A, MOV, HEIC, AVIF), ASF (WMA,
//! WMV), EBML (WebM, Matroska) and FLV.

use super::format::Format;

/// RIFF containers: WebP, WAV, AVI.
pub(super) fn riff(h: &[u8]) -> Option<Format> {
    if !h.starts_with(b"RIFF") {
        return None;
    }
    match h.get(8..12)? {
        b"WEBP" => Some(Format::WebP),
        b"WAVE" => Some(Format::Wav),
        b"AVI " => Some(Format::Avi),
        _ => None,
    }
}

/// ISO base media files (`ftyp` box): MP4, M4A, MOV, HEIC, AVIF; and old
/// QuickTime files that start with another top-level atom.
pub(super) fn iso_media(h: &[u8]) -> Option<Format> {
    let kind = h.get(4..8)?;
    if kind != b"ftyp" {
        return matches!(kind, b"moov" | b"mdat" | b"wide" | b"free" | b"pnot")
            .then_some(Format::Mov);
    }
    let size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let end = size.clamp(16, 4096).min(h.len());
    let major = h.get(8..12)?;
    let compatible = h.get(16..end).unwrap_or_default().chunks_exact(4);
    std::iter::once(major)
        .chain(compatible)
        .find_map(brand)
        .or(Some(Format::Mp4))
}

fn brand(b: &[u8]) -> Option<Format> {
    match b {
        b"M4A " | b"M4B " | b"M4P " | b"F4A " | b"F4B " => Some(Format::M4a),
        b"qt  " => Some(Format::Mov),
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
            Some(Format::Heic)
        }
        b"avif" | b"avis" => Some(Format::Avif),
        b"isom" | b"iso2" | b"iso3" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1"
        | b"dash" | b"mmp4" | b"MSNV" | b"M4V " | b"M4VH" | b"M4VP" | b"f4v " | b"3gp4"
        | b"3gp5" | b"3gp6" | b"3g2a" => Some(Format::Mp4),
        _ => None,
    }
}

/// The ASF header GUID (WMA and WMV).
pub(super) const ASF_HEADER: [u8; 16] = [
    0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
];
/// `ASF_Video_Media`, the stream type of a video stream.
pub(super) const ASF_VIDEO_MEDIA: [u8; 16] = [
    0xC0, 0xEF, 0x19, 0xBC, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B,
];

pub(super) fn asf(h: &[u8]) -> Option<Format> {
    if !h.starts_with(&ASF_HEADER) {
        return None;
    }
    let video = h.windows(16).any(|w| w == ASF_VIDEO_MEDIA);
    Some(if video { Format::Wmv } else { Format::Wma })
}

/// EBML: WebM when the DocType says so, else Matroska.
pub(super) fn matroska(h: &[u8]) -> Option<Format> {
    if !h.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return None;
    }
    let header = &h[..h.len().min(256)];
    // DocType element (0x42 0x82), a one-byte size, then the name.
    let webm = header
        .windows(7)
        .any(|w| w == [0x42, 0x82, 0x84, b'w', b'e', b'b', b'm'])
        || header.windows(4).any(|w| w == b"webm");
    Some(if webm { Format::WebM } else { Format::Mkv })
}

/// Flash Video.
pub(super) fn flv(h: &[u8]) -> Option<Format> {
    h.starts_with(b"FLV\x01").then_some(Format::Flv)
}
