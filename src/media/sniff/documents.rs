//! Documents and archives: PDF, RTF, ZIP (and the Office Open XML,
//! OpenDocument and EPUB documents inside one), gzip, 7z and RAR.

use super::format::Format;

pub(super) fn document(h: &[u8]) -> Option<Format> {
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
