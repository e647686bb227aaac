//! The formats confab recognises: their extensions, media types and broad
//! classes.

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

#[cfg(test)]
mod tests {
    use super::*;

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
