//! What a file is, from its first bytes (magic numbers). The name, the
//! extension and the declared `Content-Type` of an upload are never looked at.
//!
//! [`sniff`] reads a prefix of the file (at most [`SNIFF_LEN`] bytes) and
//! names its [`Format`]; [`accept`] then checks it against the declared
//! message kind and settles the format stored (an ISO media file with a
//! generic brand is an `m4a` when declared audio, an `mp4` when declared
//! video).
//!
//! Decisions:
//! - HEIC/HEIF and AVIF are recognised but not accepted as images: confab has
//!   no decoder for them (the `image` crate decodes neither without native
//!   libraries), so they are answered 415 with a hint to send JPEG or PNG.
//!   They can still be sent as files.
//! - Audio is what Syarah's seed lists (mp3, wav, ogg, m4a, aac, flac, wma);
//!   video likewise (mp4, avi, mov, wmv, flv, webm, mkv). A WebM holding only
//!   audio (what Chrome's `MediaRecorder` produces) is a video by these rules.
//! - ASF is WMV when its header declares a video stream, else WMA.
//! - Files whose format is not known are `bin` (`application/octet-stream`);
//!   UTF-8 text without NUL bytes is `txt` (`text/plain`). HTML or SVG are
//!   therefore never served as active content.
//! - ZIP archives that are Office Open XML, OpenDocument or EPUB documents
//!   keep their document extension (`docx`, `odt`, `epub`, ...).

use crate::core::MessageKind;

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_LEN: usize = 64 * 1024;

/// A format confab recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    // Images.
    Jpeg,
    Png,
    Gif,
    WebP,
    Bmp,
    Tiff,
    Heic,
    Avif,
    // Audio.
    Mp3,
    Wav,
    Ogg,
    Flac,
    Aac,
    M4a,
    Wma,
    // Video.
    Mp4,
    Mov,
    Avi,
    Wmv,
    Flv,
    WebM,
    Mkv,
    // Documents and everything else.
    Pdf,
    Rtf,
    Zip,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
    Epub,
    Gzip,
    SevenZip,
    Rar,
    Text,
    Binary,
}

/// The broad class of a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Image,
    Audio,
    Video,
    Other,
}

impl Format {
    /// Every format, for tables and tests.
    pub const ALL: [Format; 37] = [
        Format::Jpeg,
        Format::Png,
        Format::Gif,
        Format::WebP,
        Format::Bmp,
        Format::Tiff,
        Format::Heic,
        Format::Avif,
        Format::Mp3,
        Format::Wav,
        Format::Ogg,
        Format::Flac,
        Format::Aac,
        Format::M4a,
        Format::Wma,
        Format::Mp4,
        Format::Mov,
        Format::Avi,
        Format::Wmv,
        Format::Flv,
        Format::WebM,
        Format::Mkv,
        Format::Pdf,
        Format::Rtf,
        Format::Zip,
        Format::Docx,
        Format::Xlsx,
        Format::Pptx,
        Format::Odt,
        Format::Ods,
        Format::Odp,
        Format::Epub,
        Format::Gzip,
        Format::SevenZip,
        Format::Rar,
        Format::Text,
        Format::Binary,
    ];

    /// The extension of stored files of this format (lowercase, no dot).
    pub fn ext(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::WebP => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Heic => "heic",
            Format::Avif => "avif",
            Format::Mp3 => "mp3",
            Format::Wav => "wav",
            Format::Ogg => "ogg",
            Format::Flac => "flac",
            Format::Aac => "aac",
            Format::M4a => "m4a",
            Format::Wma => "wma",
            Format::Mp4 => "mp4",
            Format::Mov => "mov",
            Format::Avi => "avi",
            Format::Wmv => "wmv",
            Format::Flv => "flv",
            Format::WebM => "webm",
            Format::Mkv => "mkv",
            Format::Pdf => "pdf",
            Format::Rtf => "rtf",
            Format::Zip => "zip",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Odt => "odt",
            Format::Ods => "ods",
            Format::Odp => "odp",
            Format::Epub => "epub",
            Format::Gzip => "gz",
            Format::SevenZip => "7z",
            Format::Rar => "rar",
            Format::Text => "txt",
            Format::Binary => "bin",
        }
    }

    /// The media type files of this format are served with.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::WebP => "image/webp",
            Format::Bmp => "image/bmp",
            Format::Tiff => "image/tiff",
            Format::Heic => "image/heic",
            Format::Avif => "image/avif",
            Format::Mp3 => "audio/mpeg",
            Format::Wav => "audio/wav",
            Format::Ogg => "audio/ogg",
            Format::Flac => "audio/flac",
            Format::Aac => "audio/aac",
            Format::M4a => "audio/mp4",
            Format::Wma => "audio/x-ms-wma",
            Format::Mp4 => "video/mp4",
            Format::Mov => "video/quicktime",
            Format::Avi => "video/x-msvideo",
            Format::Wmv => "video/x-ms-wmv",
            Format::Flv => "video/x-flv",
            Format::WebM => "video/webm",
            Format::Mkv => "video/x-matroska",
            Format::Pdf => "application/pdf",
            Format::Rtf => "application/rtf",
            Format::Zip => "application/zip",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Format::Odt => "application/vnd.oasis.opendocument.text",
            Format::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Format::Odp => "application/vnd.oasis.opendocument.presentation",
            Format::Epub => "application/epub+zip",
            Format::Gzip => "application/gzip",
            Format::SevenZip => "application/x-7z-compressed",
            Format::Rar => "application/vnd.rar",
            Format::Text => "text/plain; charset=utf-8",
            Format::Binary => "application/octet-stream",
        }
    }

    pub fn class(self) -> Class {
        match self {
            Format::Jpeg
            | Format::Png
            | Format::Gif
            | Format::WebP
            | Format::Bmp
            | Format::Tiff
            | Format::Heic
            | Format::Avif => Class::Image,
            Format::Mp3
            | Format::Wav
            | Format::Ogg
            | Format::Flac
            | Format::Aac
            | Format::M4a
            | Format::Wma => Class::Audio,
            Format::Mp4
            | Format::Mov
            | Format::Avi
            | Format::Wmv
            | Format::Flv
            | Format::WebM
            | Format::Mkv => Class::Video,
            _ => Class::Other,
        }
    }

    /// The format whose stored files carry this extension (as [`Format::ext`]
    /// writes it).
    pub fn from_ext(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.ext() == ext)
    }

    /// A short name for messages (`"zip"`, `"jpeg"`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Binary => "unknown binary",
            Format::Text => "text",
            other => other.ext(),
        }
    }
}

/// Names the format of a file from its first bytes (pass up to
/// [`SNIFF_LEN`] bytes; fewer for a shorter file).
pub fn sniff(head: &[u8]) -> Format {
    image(head)
        .or_else(|| riff(head))
        .or_else(|| iso_media(head))
        .or_else(|| asf(head))
        .or_else(|| matroska(head))
        .or_else(|| other_media(head))
        .or_else(|| document(head))
        .unwrap_or_else(|| {
            if is_text(head) {
                Format::Text
            } else {
                Format::Binary
            }
        })
}

fn image(h: &[u8]) -> Option<Format> {
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

/// RIFF containers: WebP, WAV, AVI.
fn riff(h: &[u8]) -> Option<Format> {
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
fn iso_media(h: &[u8]) -> Option<Format> {
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
const ASF_HEADER: [u8; 16] = [
    0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
];
/// `ASF_Video_Media`, the stream type of a video stream.
const ASF_VIDEO_MEDIA: [u8; 16] = [
    0xC0, 0xEF, 0x19, 0xBC, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B,
];

fn asf(h: &[u8]) -> Option<Format> {
    if !h.starts_with(&ASF_HEADER) {
        return None;
    }
    let video = h.windows(16).any(|w| w == ASF_VIDEO_MEDIA);
    Some(if video { Format::Wmv } else { Format::Wma })
}

/// EBML: WebM when the DocType says so, else Matroska.
fn matroska(h: &[u8]) -> Option<Format> {
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

fn other_media(h: &[u8]) -> Option<Format> {
    if h.starts_with(b"OggS") {
        Some(Format::Ogg)
    } else if h.starts_with(b"fLaC") {
        Some(Format::Flac)
    } else if h.starts_with(b"FLV\x01") {
        Some(Format::Flv)
    } else if h.starts_with(b"ID3") {
        // An ID3v2 tag: MP3 unless FLAC or AAC follows the tag.
        let size = h.get(6..10).map(|s| {
            s.iter()
                .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7F))
        })?;
        match h.get(10 + size..) {
            Some(rest) if rest.starts_with(b"fLaC") => Some(Format::Flac),
            Some(rest) if is_adts(rest) => Some(Format::Aac),
            _ => Some(Format::Mp3),
        }
    } else if is_adts(h) || h.starts_with(b"ADIF") {
        Some(Format::Aac)
    } else if is_mpeg_audio(h) {
        Some(Format::Mp3)
    } else {
        None
    }
}

/// An AAC ADTS frame header: 12-bit sync, layer 00, a valid sampling index.
fn is_adts(h: &[u8]) -> bool {
    h.len() >= 7 && h[0] == 0xFF && h[1] & 0xF6 == 0xF0 && (h[2] >> 2) & 0x0F < 13
}

/// An MPEG audio frame header (layers I–III; MP3 in practice), checked
/// field by field, and a second frame header right after the first when the
/// prefix is long enough to hold it.
fn is_mpeg_audio(h: &[u8]) -> bool {
    let Some(len) = mpeg_frame_len(h) else {
        return false;
    };
    match h.get(len..) {
        Some(next) if next.len() >= 4 => mpeg_frame_len(next).is_some(),
        _ => true,
    }
}

/// The length of the MPEG audio frame starting at `h`, if `h` starts with
/// a valid frame header.
fn mpeg_frame_len(h: &[u8]) -> Option<usize> {
    if h.len() < 4 || h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 0: 2.5, 1: reserved, 2: 2, 3: 1
    let layer = (h[1] >> 1) & 3; // 0: reserved, 1: III, 2: II, 3: I
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = usize::from((h[2] >> 2) & 3);
    let padding = usize::from((h[2] >> 1) & 1);
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const V1_L3: [usize; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const V1_L2: [usize; 15] = [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ];
    const V1_L1: [usize; 15] = [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ];
    const V2_L1: [usize; 15] = [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ];
    const V2_L23: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let kbps = match (version, layer) {
        (3, 1) => V1_L3[bitrate_index],
        (3, 2) => V1_L2[bitrate_index],
        (3, _) => V1_L1[bitrate_index],
        (_, 3) => V2_L1[bitrate_index],
        _ => V2_L23[bitrate_index],
    };
    let rate = [44_100, 48_000, 32_000][rate_index]
        / match version {
            3 => 1,
            2 => 2,
            _ => 4,
        };
    let len = match (version, layer) {
        (_, 3) => (12 * kbps * 1000 / rate + padding) * 4,
        (3, _) | (_, 2) => 144 * kbps * 1000 / rate + padding,
        _ => 72 * kbps * 1000 / rate + padding,
    };
    (len >= 4).then_some(len)
}

fn document(h: &[u8]) -> Option<Format> {
    if h.starts_with(b"%PDF-") {
        Some(Format::Pdf)
    } else if h.starts_with(b"{\\rtf") {
        Some(Format::Rtf)
    } else if h.starts_with(b"PK\x03\x04") || h.starts_with(b"PK\x05\x06") {
        Some(zip_kind(h))
    } else if h.starts_with(&[0x1F, 0x8B]) {
        Some(Format::Gzip)
    } else if h.starts_with(&[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) {
        Some(Format::SevenZip)
    } else if h.starts_with(b"Rar!\x1A\x07") {
        Some(Format::Rar)
    } else {
        None
    }
}

/// OpenDocument and EPUB store their media type first, uncompressed, in an
/// entry named `mimetype`; Office Open XML has `[Content_Types].xml` and a
/// folder per application. Entry names are plain text in the local headers.
fn zip_kind(h: &[u8]) -> Format {
    let contains = |needle: &[u8]| h.windows(needle.len()).any(|w| w == needle);
    if h.get(30..38) == Some(b"mimetype") {
        let rest = h.get(38..h.len().min(38 + 80)).unwrap_or_default();
        let starts = |s: &[u8]| rest.starts_with(s);
        if starts(b"application/vnd.oasis.opendocument.text") {
            return Format::Odt;
        }
        if starts(b"application/vnd.oasis.opendocument.spreadsheet") {
            return Format::Ods;
        }
        if starts(b"application/vnd.oasis.opendocument.presentation") {
            return Format::Odp;
        }
        if starts(b"application/epub+zip") {
            return Format::Epub;
        }
    }
    if contains(b"[Content_Types].xml") || contains(b"_rels/.rels") {
        if contains(b"word/") {
            return Format::Docx;
        }
        if contains(b"xl/") {
            return Format::Xlsx;
        }
        if contains(b"ppt/") {
            return Format::Pptx;
        }
    }
    Format::Zip
}

/// UTF-8 without NUL bytes (a character cut at the end of the prefix is
/// fine). An empty prefix is not text.
fn is_text(h: &[u8]) -> bool {
    if h.is_empty() || h.contains(&0) {
        return false;
    }
    match std::str::from_utf8(h) {
        Ok(_) => true,
        // Only an incomplete character at the very end.
        Err(e) => e.error_len().is_none() && h.len() == SNIFF_LEN,
    }
}

/// Why a file does not fit the declared kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// The file is not of the declared kind.
    #[error("the file is not {expected} (it looks like {found})", expected = article(.declared), found = .found.name())]
    Mismatch {
        declared: MessageKind,
        found: Format,
    },
    /// An image format confab cannot decode.
    #[error("{} images are not supported; send JPEG, PNG, GIF, WebP, BMP or TIFF", .0.name())]
    UnsupportedImage(Format),
    /// Text is not an upload kind.
    #[error("messageType must be 1 (audio), 2 (image), 3 (file) or 4 (video)")]
    NotAnUploadKind,
}

fn article(kind: &MessageKind) -> &'static str {
    match kind {
        MessageKind::Audio => "audio (mp3, wav, ogg, m4a, aac, flac or wma)",
        MessageKind::Image => "an image",
        MessageKind::Video => "a video (mp4, avi, mov, wmv, flv, webm or mkv)",
        MessageKind::File => "a file",
        MessageKind::Text => "text",
    }
}

/// Checks a sniffed format against the declared kind and returns the format
/// the file is stored as. Images must be decodable by confab.
pub fn accept(declared: MessageKind, found: Format) -> Result<Format, Rejected> {
    let mismatch = Rejected::Mismatch { declared, found };
    match declared {
        MessageKind::Text => Err(Rejected::NotAnUploadKind),
        MessageKind::File => Ok(found),
        MessageKind::Image => match found {
            Format::Heic | Format::Avif => Err(Rejected::UnsupportedImage(found)),
            f if f.class() == Class::Image => Ok(f),
            _ => Err(mismatch),
        },
        MessageKind::Audio => match found {
            // An MP4 container with a generic brand is how many recorders
            // write AAC audio: an m4a.
            Format::Mp4 => Ok(Format::M4a),
            f if f.class() == Class::Audio => Ok(f),
            _ => Err(mismatch),
        },
        MessageKind::Video => match found {
            f if f.class() == Class::Video => Ok(f),
            _ => Err(mismatch),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(prefix: &[u8], len: usize) -> Vec<u8> {
        let mut v = prefix.to_vec();
        v.resize(len.max(prefix.len()), 0);
        v
    }

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut v = (size as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(major);
        v.extend_from_slice(&[0, 0, 2, 0]);
        for c in compatible {
            v.extend_from_slice(*c);
        }
        v.extend_from_slice(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']);
        v
    }

    #[test]
    fn images_are_recognised_by_their_magic_numbers() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Format::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Format::Png);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Format::Gif);
        assert_eq!(sniff(b"GIF87a\x01\0\x01\0"), Format::Gif);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Format::WebP);
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Format::Tiff);
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), Format::Tiff);
        let mut bmp = with(b"BM", 54);
        bmp[14] = 40;
        assert_eq!(sniff(&bmp), Format::Bmp);
        assert_eq!(
            sniff(b"BMW is a car"),
            Format::Text,
            "BM alone is not a bitmap"
        );
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1", b"heic"])), Format::Heic);
        assert_eq!(sniff(&ftyp(b"mif1", &[b"mif1", b"heic"])), Format::Heic);
        assert_eq!(sniff(&ftyp(b"avif", &[b"avif", b"mif1"])), Format::Avif);
    }

    #[test]
    fn audio_is_recognised() {
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0\xFF\xFB\x90\x64"), Format::Mp3);
        // Two MPEG-1 layer III frames at 128 kbit/s, 44.1 kHz: 417 bytes each.
        let mut mp3 = with(&[0xFF, 0xFB, 0x90, 0x64], 417);
        mp3.extend(with(&[0xFF, 0xFB, 0x90, 0x64], 417));
        assert_eq!(sniff(&mp3), Format::Mp3);
        // A frame sync followed by garbage where the next frame should be.
        let mut fake = with(&[0xFF, 0xFB, 0x90, 0x64], 417);
        fake.extend_from_slice(b"not a frame");
        assert_eq!(sniff(&fake), Format::Binary);
        assert_eq!(
            sniff(&[0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC]),
            Format::Aac
        );
        assert_eq!(sniff(b"ADIF\0\0"), Format::Aac);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), Format::Wav);
        assert_eq!(sniff(b"OggS\0\x02\0\0"), Format::Ogg);
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Format::Flac);
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0fLaC"), Format::Flac);
        assert_eq!(
            sniff(&ftyp(b"M4A ", &[b"M4A ", b"mp42", b"isom"])),
            Format::M4a
        );
        let mut wma = ASF_HEADER.to_vec();
        wma.extend_from_slice(&[0; 100]);
        assert_eq!(sniff(&wma), Format::Wma);
    }

    #[test]
    fn video_is_recognised() {
        assert_eq!(
            sniff(&ftyp(b"isom", &[b"isom", b"iso2", b"avc1"])),
            Format::Mp4
        );
        assert_eq!(sniff(&ftyp(b"mp42", &[b"mp42", b"isom"])), Format::Mp4);
        assert_eq!(sniff(&ftyp(b"qt  ", &[b"qt  "])), Format::Mov);
        assert_eq!(
            sniff(&ftyp(b"zzzz", &[b"qt  "])),
            Format::Mov,
            "compatible brand"
        );
        assert_eq!(sniff(&ftyp(b"zzzz", &[])), Format::Mp4, "unknown brand");
        assert_eq!(sniff(b"\0\0\0\x08wide\0\0\0\0mdat"), Format::Mov);
        assert_eq!(sniff(b"RIFF\x24\0\0\0AVI LIST"), Format::Avi);
        let mut wmv = ASF_HEADER.to_vec();
        wmv.extend_from_slice(&[0; 40]);
        wmv.extend_from_slice(&ASF_VIDEO_MEDIA);
        assert_eq!(sniff(&wmv), Format::Wmv);
        assert_eq!(sniff(b"FLV\x01\x05\0\0\0\x09"), Format::Flv);
        let webm = b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\x82\x84webm";
        assert_eq!(sniff(webm), Format::WebM);
        let mkv = b"\x1A\x45\xDF\xA3\xA3\x42\x86\x81\x01\x42\x82\x88matroska";
        assert_eq!(sniff(mkv), Format::Mkv);
    }

    #[test]
    fn documents_archives_and_text_are_recognised() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Format::Pdf);
        assert_eq!(sniff(b"{\\rtf1\\ansi"), Format::Rtf);
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0"), Format::Zip);
        assert_eq!(sniff(b"PK\x05\x06\0\0\0\0"), Format::Zip);
        let mut odt = with(b"PK\x03\x04", 30);
        odt.extend_from_slice(b"mimetypeapplication/vnd.oasis.opendocument.text");
        assert_eq!(sniff(&odt), Format::Odt);
        let mut epub = with(b"PK\x03\x04", 30);
        epub.extend_from_slice(b"mimetypeapplication/epub+zip");
        assert_eq!(sniff(&epub), Format::Epub);
        let mut docx = with(b"PK\x03\x04", 30);
        docx.extend_from_slice(b"[Content_Types].xml....PK\x03\x04....word/document.xml");
        assert_eq!(sniff(&docx), Format::Docx);
        let mut xlsx = with(b"PK\x03\x04", 30);
        xlsx.extend_from_slice(b"[Content_Types].xml....xl/workbook.xml");
        assert_eq!(sniff(&xlsx), Format::Xlsx);
        assert_eq!(sniff(&[0x1F, 0x8B, 0x08, 0]), Format::Gzip);
        assert_eq!(
            sniff(&[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0, 4]),
            Format::SevenZip
        );
        assert_eq!(sniff(b"Rar!\x1A\x07\x01\0"), Format::Rar);
        assert_eq!(sniff(b"hello, world\n"), Format::Text);
        assert_eq!(sniff("café ☕".as_bytes()), Format::Text);
        assert_eq!(sniff(b"<svg onload=alert(1)>"), Format::Text);
        assert_eq!(sniff(b"<html><script>"), Format::Text);
        assert_eq!(sniff(b"\x7FELF\x02\x01\x01\0"), Format::Binary);
        assert_eq!(sniff(b"MZ\x90\0"), Format::Binary);
        assert_eq!(sniff(b"a\0b"), Format::Binary);
        assert_eq!(sniff(b"\xC3\x28"), Format::Binary, "invalid UTF-8");
        assert_eq!(sniff(b""), Format::Binary);
    }

    #[test]
    fn a_character_cut_at_the_end_of_a_full_prefix_is_still_text() {
        let mut v = vec![b'a'; SNIFF_LEN - 1];
        v.push(0xE2); // first byte of a three-byte character
        assert_eq!(sniff(&v), Format::Text);
        // In a shorter (whole) file it is not.
        assert_eq!(sniff(b"abc\xE2"), Format::Binary);
    }

    #[test]
    fn short_and_truncated_inputs_never_panic() {
        for len in 0..64 {
            for fill in [0u8, 0xFF, b'I', b'R', b'P'] {
                let v = vec![fill; len];
                let _ = sniff(&v);
            }
        }
        for prefix in [
            &b"RIFF"[..],
            b"\0\0\0\x20ftyp",
            b"\xFF\xFF\xFF\xFFftypqt",
            b"ID3\x04\0\0\x7F\x7F\x7F\x7F",
            b"\x1A\x45\xDF\xA3",
            &ASF_HEADER,
            b"PK\x03\x04",
            b"\xFF\xFB",
            b"\xFF\xF1\x50",
        ] {
            for cut in 0..=prefix.len() {
                let _ = sniff(&prefix[..cut]);
            }
        }
    }

    #[test]
    fn declared_kinds_accept_their_formats_only() {
        use MessageKind::*;
        for f in [
            Format::Jpeg,
            Format::Png,
            Format::Gif,
            Format::WebP,
            Format::Bmp,
            Format::Tiff,
        ] {
            assert_eq!(accept(Image, f), Ok(f));
        }
        for f in [Format::Heic, Format::Avif] {
            assert_eq!(accept(Image, f), Err(Rejected::UnsupportedImage(f)));
        }
        for f in [
            Format::Zip,
            Format::Text,
            Format::Mp3,
            Format::Mp4,
            Format::Binary,
        ] {
            assert!(
                matches!(accept(Image, f), Err(Rejected::Mismatch { .. })),
                "{f:?}"
            );
        }
        for f in [
            Format::Mp3,
            Format::Wav,
            Format::Ogg,
            Format::Flac,
            Format::Aac,
            Format::M4a,
            Format::Wma,
        ] {
            assert_eq!(accept(Audio, f), Ok(f));
        }
        assert_eq!(accept(Audio, Format::Mp4), Ok(Format::M4a));
        for f in [Format::WebM, Format::Png, Format::Pdf, Format::Mov] {
            assert!(accept(Audio, f).is_err(), "{f:?}");
        }
        for f in [
            Format::Mp4,
            Format::Mov,
            Format::Avi,
            Format::Wmv,
            Format::Flv,
            Format::WebM,
            Format::Mkv,
        ] {
            assert_eq!(accept(Video, f), Ok(f));
        }
        for f in [Format::M4a, Format::Mp3, Format::Gif, Format::Zip] {
            assert!(accept(Video, f).is_err(), "{f:?}");
        }
        for f in Format::ALL {
            assert_eq!(accept(File, f), Ok(f));
        }
        assert_eq!(accept(Text, Format::Text), Err(Rejected::NotAnUploadKind));
    }

    #[test]
    fn mismatch_messages_name_both_sides() {
        let e = accept(MessageKind::Image, Format::Zip).expect_err("zip is no image");
        assert_eq!(
            e.to_string(),
            "the file is not an image (it looks like zip)"
        );
        let e = accept(MessageKind::Image, Format::Heic).expect_err("heic");
        assert!(e.to_string().starts_with("heic images are not supported"));
    }

    #[test]
    fn extensions_and_types_are_unique_and_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_ext(f.ext()), Some(f));
            assert!(
                f.ext()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            );
        }
        assert_eq!(Format::from_ext("exe"), None);
    }
}
