//! Whether a sniffed format may be stored as the declared message kind.

use super::format::{Class, Format};
use crate::core::MessageKind;

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
}
