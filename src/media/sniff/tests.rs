//! Recognition from the first bytes, family by family, and inputs that are
//! short or cut off.

use super::containers::{ASF_HEADER, ASF_VIDEO_MEDIA};
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
