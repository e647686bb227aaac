//! Image uploads: decode with limits, apply the EXIF orientation, fit within
//! `image_max_side` × `image_max_side`, re-encode as lossy WebP.
//!
//! Guards, in order: the decoder is built with [`image::Limits`] (side at
//! most [`MAX_SIDE`], allocations at most 8 bytes per allowed pixel); the
//! dimensions are read from the header and refused above `max_pixels`
//! ("image too large", the decompression-bomb guard) before a single pixel
//! is decoded; then the decoded buffer's size is checked against the same
//! budget. Only the first frame of an animation is kept.
//!
//! The output is built from pixels alone, so nothing of the original's
//! metadata (EXIF with GPS position and camera, XMP, ICC, comments)
//! survives. libwebp (through the `webp` crate) encodes it; the `image`
//! crate's own WebP encoder is lossless only.
//!
//! Everything here is blocking and CPU-bound: call it from
//! `tokio::task::spawn_blocking`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::sniff::Format;

/// Longest side any decoder may report (a header above it is refused
/// before anything is allocated).
pub const MAX_SIDE: u32 = 65_535;

/// Limits and quality of the transcoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageOptions {
    /// The output fits within `max_side` × `max_side` (aspect ratio kept,
    /// never enlarged).
    pub max_side: u32,
    /// Images with more pixels than this are refused without decoding.
    pub max_pixels: u64,
    /// libwebp lossy quality, 0–100.
    pub quality: f32,
}

/// A WebP image ready to store.
#[derive(Debug, Clone)]
pub struct WebP {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// More pixels (or bytes) than allowed; no pixel was decoded.
    #[error("{}", too_large(*.dimensions, *.max_pixels))]
    TooLarge {
        dimensions: Option<(u32, u32)>,
        max_pixels: u64,
    },
    /// Not an image format this module decodes.
    #[error("{0:?} images cannot be decoded")]
    Unsupported(Format),
    /// The file claims to be an image but does not decode.
    #[error("the image could not be decoded: {0}")]
    Decode(String),
    /// libwebp refused the pixels (should not happen for decoded images).
    #[error("the image could not be encoded as WebP: {0}")]
    Encode(String),
    #[error("reading the image: {0}")]
    Io(#[from] std::io::Error),
}

fn too_large(dimensions: Option<(u32, u32)>, max_pixels: u64) -> String {
    match dimensions {
        Some((w, h)) => format!("image too large: {w}×{h} pixels, at most {max_pixels} allowed"),
        None => format!("image too large: at most {max_pixels} pixels allowed"),
    }
}

impl ImageError {
    /// Whether the client is at fault (a 4xx) rather than the server.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, ImageError::Io(_) | ImageError::Encode(_))
    }
}

fn image_format(f: Format) -> Option<ImageFormat> {
    Some(match f {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
        Format::Gif => ImageFormat::Gif,
        Format::WebP => ImageFormat::WebP,
        Format::Bmp => ImageFormat::Bmp,
        Format::Tiff => ImageFormat::Tiff,
        _ => return None,
    })
}

/// Decodes the image at `src` (of the sniffed `format`) and re-encodes it
/// as lossy WebP within the options' limits.
pub fn to_webp(src: &Path, format: Format, opts: &ImageOptions) -> Result<WebP, ImageError> {
    let image_format = image_format(format).ok_or(ImageError::Unsupported(format))?;
    let too_large = |dimensions| ImageError::TooLarge {
        dimensions,
        max_pixels: opts.max_pixels,
    };
    let budget = opts.max_pixels.saturating_mul(8);

    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(budget.saturating_add(16 << 20));

    let mut reader = ImageReader::with_format(BufReader::new(File::open(src)?), image_format);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| decode_error(e, &too_large))?;

    // The header is all that has been read so far.
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(ImageError::Decode("the image has no pixels".into()));
    }
    if u64::from(width) * u64::from(height) > opts.max_pixels || decoder.total_bytes() > budget {
        return Err(too_large(Some((width, height))));
    }
    // A broken EXIF block is no reason to refuse the picture.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);

    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, &too_large))?;
    let max = opts.max_side.max(1);
    // The bound is square, so fitting before rotating gives the same size
    // and rotates fewer pixels.
    if img.width() > max || img.height() > max {
        img = img.resize(max, max, FilterType::CatmullRom);
    }
    img.apply_orientation(orientation);
    encode(&img, opts.quality)
}

fn decode_error(
    e: image::ImageError,
    too_large: &impl Fn(Option<(u32, u32)>) -> ImageError,
) -> ImageError {
    match e {
        image::ImageError::Limits(_) => too_large(None),
        image::ImageError::IoError(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
            ImageError::Io(e)
        }
        other => ImageError::Decode(other.to_string()),
    }
}

fn encode(img: &DynamicImage, quality: f32) -> Result<WebP, ImageError> {
    let (width, height) = (img.width(), img.height());
    let quality = quality.clamp(0.0, 100.0);
    let memory = if img.color().has_alpha() {
        let rgba = img.to_rgba8();
        webp::Encoder::from_rgba(rgba.as_raw(), width, height).encode_simple(false, quality)
    } else {
        let rgb = img.to_rgb8();
        webp::Encoder::from_rgb(rgb.as_raw(), width, height).encode_simple(false, quality)
    }
    .map_err(|e| ImageError::Encode(format!("{e:?}")))?;
    Ok(WebP {
        bytes: memory.to_vec(),
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
    use std::io::Write;

    const OPTS: ImageOptions = ImageOptions {
        max_side: 1920,
        max_pixels: 40_000_000,
        quality: 80.0,
    };

    fn png_file(img: &DynamicImage) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        let mut bytes = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
            .expect("encode png");
        f.write_all(&bytes).expect("write");
        f
    }

    fn decode_webp(bytes: &[u8]) -> DynamicImage {
        image::load_from_memory_with_format(bytes, ImageFormat::WebP).expect("valid webp")
    }

    /// The chunk ids of a RIFF WebP.
    fn chunks(bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = 12;
        while at + 8 <= bytes.len() {
            out.push(String::from_utf8_lossy(&bytes[at..at + 4]).into_owned());
            let len =
                u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
                    as usize;
            at += 8 + len + (len & 1);
        }
        out
    }

    #[test]
    fn a_large_image_is_fitted_within_the_bound_keeping_its_aspect_ratio() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(4000, 1000, Rgb([10, 200, 30])));
        let f = png_file(&img);
        let out = to_webp(f.path(), Format::Png, &OPTS).expect("transcodes");
        assert_eq!((out.width, out.height), (1920, 480));
        let back = decode_webp(&out.bytes);
        assert_eq!((back.width(), back.height()), (1920, 480));
        assert!(
            chunks(&out.bytes).contains(&"VP8 ".to_owned()),
            "lossy: {:?}",
            chunks(&out.bytes)
        );
    }

    #[test]
    fn a_small_image_is_not_enlarged_and_keeps_its_alpha() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(30, 20, Rgba([1, 2, 3, 100])));
        let f = png_file(&img);
        let out = to_webp(f.path(), Format::Png, &OPTS).expect("transcodes");
        assert_eq!((out.width, out.height), (30, 20));
        let ids = chunks(&out.bytes);
        assert!(ids.contains(&"ALPH".to_owned()), "{ids:?}");
        assert!(decode_webp(&out.bytes).color().has_alpha());
    }

    #[test]
    fn too_many_pixels_are_refused_from_the_header() {
        let img = DynamicImage::ImageRgb8(RgbImage::new(300, 200));
        let f = png_file(&img);
        let opts = ImageOptions {
            max_pixels: 50_000,
            ..OPTS
        };
        let e = to_webp(f.path(), Format::Png, &opts).expect_err("refused");
        assert!(matches!(
            e,
            ImageError::TooLarge {
                dimensions: Some((300, 200)),
                ..
            }
        ));
        assert!(e.to_string().starts_with("image too large"));
        assert!(e.is_client_error());
    }

    #[test]
    fn a_header_over_the_side_limit_is_refused_before_decoding() {
        // A PNG signature and an IHDR claiming 100000 × 1 pixels, no data.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&1u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        f.write_all(&png).expect("write");
        let e = to_webp(f.path(), Format::Png, &OPTS).expect_err("refused");
        assert!(matches!(e, ImageError::TooLarge { .. }), "{e:?}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn garbage_that_sniffed_as_an_image_is_a_decode_error() {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        f.write_all(b"\x89PNG\r\n\x1a\nthis is not a png")
            .expect("write");
        let e = to_webp(f.path(), Format::Png, &OPTS).expect_err("refused");
        assert!(matches!(e, ImageError::Decode(_)), "{e:?}");
        assert!(e.is_client_error());
    }

    #[test]
    fn non_image_formats_are_unsupported() {
        let f = tempfile::NamedTempFile::new().expect("temp");
        let e = to_webp(f.path(), Format::Heic, &OPTS).expect_err("refused");
        assert!(matches!(e, ImageError::Unsupported(Format::Heic)));
    }

    #[test]
    fn a_jpeg_with_an_orientation_tag_is_rotated() {
        // 40 × 20 as stored, left half red; EXIF orientation 6 (rotate 90°
        // clockwise): 20 × 40 shown, red on top.
        let mut img = RgbImage::from_pixel(40, 20, Rgb([0, 0, 255]));
        for y in 0..20 {
            for x in 0..20 {
                img.put_pixel(x, y, Rgb([255, 0, 0]));
            }
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
            .write_image(img.as_raw(), 40, 20, image::ExtendedColorType::Rgb8)
            .expect("jpeg");
        // Insert an APP1 Exif segment (big-endian TIFF, one IFD entry:
        // Orientation = 6) right after SOI.
        let mut tiff = b"MM\0*\0\0\0\x08\0\x01".to_vec();
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        f.write_all(&out).expect("write");

        let webp = to_webp(f.path(), Format::Jpeg, &OPTS).expect("transcodes");
        assert_eq!((webp.width, webp.height), (20, 40));
        let back = decode_webp(&webp.bytes).to_rgb8();
        let top = back.get_pixel(10, 5);
        let bottom = back.get_pixel(10, 35);
        assert!(top[0] > 200 && top[2] < 60, "top is red: {top:?}");
        assert!(
            bottom[2] > 200 && bottom[0] < 60,
            "bottom is blue: {bottom:?}"
        );
        assert!(!chunks(&webp.bytes).contains(&"EXIF".to_owned()));
    }
}
