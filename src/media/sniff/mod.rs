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
//!
//! The formats and their extensions and media types are in `format`; the
//! magic numbers by family in `images`, `containers`, `audio` and
//! `documents`; the check against the declared kind in `accept`.

mod accept;
mod audio;
mod containers;
mod documents;
mod format;
mod images;

pub use accept::{Rejected, accept};
pub use format::{Class, Format};

use audio::audio;
use containers::{asf, flv, iso_media, matroska, riff};
use documents::document;
use images::image;

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_LEN: usize = 64 * 1024;

/// Names the format of a file from its first bytes (pass up to
/// [`SNIFF_LEN`] bytes; fewer for a shorter file).
pub fn sniff(head: &[u8]) -> Format {
    image(head)
        .or_else(|| riff(head))
        .or_else(|| iso_media(head))
        .or_else(|| asf(head))
        .or_else(|| matroska(head))
        .or_else(|| flv(head))
        .or_else(|| audio(head))
        .or_else(|| document(head))
        .unwrap_or_else(|| {
            if is_text(head) {
                Format::Text
            } else {
                Format::Binary
            }
        })
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

#[cfg(test)]
mod tests;
