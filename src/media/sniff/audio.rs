//! Audio known by its first tag or frame: Ogg, FLAC, MP3 (an ID3 tag or
//! MPEG audio frames) and AAC (ADTS frames or an ADIF header).

use super::format::Format;

/// Ogg, FLAC, MP3 or AAC.
pub(super) fn audio(h: &[u8]) -> Option<Format> {
    if h.starts_with(b"OggS") {
        Some(Format::Ogg)
    } else if h.starts_with(b"fLaC") {
        Some(Format::Flac)
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
