//! `messageAttachment`, both ways: what the SDK's
//! `VChatMessageAttachment.fromMap` reads (every field a string: it casts
//! each one `as String?`), filled from an [`Attachment`]'s URL and
//! metadata; and the `attachment` form field the SDK sends with a file
//! (`jsonEncode(VChatMessageAttachment(...).toMap())`: strings, `"null"`
//! for a field it has no value for), read into [`AttachmentMeta`].
//!
//! The SDK's message widgets unwrap some fields with `!` (an image's and a
//! video's `width`/`height`, which they `double.parse`; a video's and a
//! voice note's `fileDuration`; a video's and a file's `fileSize`; a file's
//! `linkTitle`): those are always present for their kind, with a stand-in
//! where confab does not know the value ([`UNKNOWN_SIDE`], an empty
//! string, the file's name from its URL).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::core::{Attachment, AttachmentMeta, CoreError, MessageKind};

/// The server path of confab's uploads (`/uploads/<key>`); a file's name
/// under the SDK's base paths is its key.
pub(super) const UPLOADS: &str = "/uploads/";

/// A file's name as the SDK asks for it under its base paths: the key of a
/// confab upload; anything else as it is.
pub fn media_name(url: &str) -> &str {
    url.strip_prefix(UPLOADS).unwrap_or(url)
}

/// The side, in pixels, an image or a video of unknown size is shown at
/// (the SDK parses `width` and `height` of both and cannot go without).
pub const UNKNOWN_SIDE: &str = "300";

/// The longest side accepted from a client (larger is not a picture).
const MAX_SIDE: f64 = 100_000.0;

/// The longest `linkTitle` accepted (a file's name).
const MAX_NAME_CHARS: usize = 255;

/// `messageAttachment` of a message of `kind` carrying `a`: an image's
/// file is its `imageUrl`; a voice note's, a video's and a document's its
/// `playUrl` (what the SDK plays or downloads), a video's still its
/// `imageUrl`. File names are relative to `/api/v1/public/messages/`.
pub fn attachment_json(kind: MessageKind, a: &Attachment) -> Value {
    let m = &a.meta;
    let file = media_name(&a.url).to_owned();
    let side = |s: Option<u32>| s.map_or_else(|| UNKNOWN_SIDE.to_owned(), |s| s.to_string());
    let mut o: Vec<(&str, String)> = Vec::new();
    match kind {
        MessageKind::Image => {
            o.push(("imageUrl", file));
            o.push(("width", side(m.width)));
            o.push(("height", side(m.height)));
        }
        MessageKind::Video => {
            o.push(("playUrl", file));
            if let Some(still) = &m.thumbnail {
                o.push(("imageUrl", media_name(still).to_owned()));
            }
            o.push(("width", side(m.width)));
            o.push(("height", side(m.height)));
            o.push((
                "fileDuration",
                m.duration_ms.map(duration).unwrap_or_default(),
            ));
        }
        MessageKind::Audio => {
            o.push(("playUrl", file));
            o.push((
                "fileDuration",
                m.duration_ms.map(duration).unwrap_or_default(),
            ));
        }
        MessageKind::File | MessageKind::Text => o.push(("playUrl", file)),
    }
    o.push(("fileSize", m.size.map(file_size).unwrap_or_default()));
    let name = match kind {
        MessageKind::File | MessageKind::Text => {
            Some(m.name.clone().unwrap_or_else(|| file_name(&a.url)))
        }
        _ => m.name.clone(),
    };
    if let Some(name) = name {
        o.push(("linkTitle", name));
    }
    Value::Object(
        o.into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v)))
            .collect::<Map<String, Value>>(),
    )
}

/// A size as the SDK shows it (`FileUtils.getFileSize`, to the letter: the
/// unit is picked by powers of 1000 and the number divided by powers of
/// 1024, two decimals): `"0 B"`, `"512.00 B"`, `"1.17 KB"`. The same bytes
/// give the string the SDK computed when it sent them.
pub fn file_size(bytes: u64) -> String {
    const SUFFIXES: [&str; 9] = ["B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    if bytes == 0 {
        return "0 B".to_owned();
    }
    let i = (((bytes as f64).ln() / 1000f64.ln()).floor() as usize).min(SUFFIXES.len() - 1);
    // `toStringAsFixed(2)` of bytes / 1024^i (exact in binary), half up,
    // in integers.
    let divisor = 1024u128.pow(i as u32);
    let scaled = u128::from(bytes) * 100;
    let mut hundredths = scaled / divisor;
    if (scaled % divisor) * 2 >= divisor {
        hundredths += 1;
    }
    format!(
        "{}.{:02} {}",
        hundredths / 100,
        hundredths % 100,
        SUFFIXES[i]
    )
}

/// A duration as the SDK shows it: `mm:ss` (the minutes in full past an
/// hour: `75:00`).
pub fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    format!("{:02}:{:02}", secs / 60, secs % 60)
}

/// The last segment of a URL's path, for a file without a name.
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or(path)
        .to_owned()
}

/// The `attachment` field of the SDK's `message/single` and
/// `message/group` forms, as sent: each value a string (a number is taken
/// too), `"null"` or empty for none.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentAttachment {
    #[serde(default)]
    file_duration: Option<Value>,
    #[serde(default)]
    width: Option<Value>,
    #[serde(default)]
    height: Option<Value>,
    #[serde(default)]
    link_title: Option<Value>,
}

/// What a V Chat client said of the file it sent: `linkTitle` is the name,
/// `fileDuration` (`mm:ss`, `h:mm:ss` or seconds) the duration, `width`
/// and `height` the size in pixels. `fileSize` is the SDK's display text of
/// a size confab counts itself, so it is not read. Absent (or `"null"`,
/// what the SDK sends for a field it has no value for) is nothing said; a
/// value that is not what its field holds is an error.
pub fn sent_meta(field: Option<&Value>) -> Result<AttachmentMeta, CoreError> {
    let sent: SentAttachment = match field {
        None | Some(Value::Null) => SentAttachment::default(),
        Some(Value::String(s)) if s.trim().is_empty() => SentAttachment::default(),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|e| CoreError::invalid(format!("attachment must be a JSON object: {e}")))?,
        Some(v @ Value::Object(_)) => SentAttachment::deserialize(v)
            .map_err(|e| CoreError::invalid(format!("attachment must be a JSON object: {e}")))?,
        Some(_) => return Err(CoreError::invalid("attachment must be a JSON object")),
    };
    let name = text(sent.link_title.as_ref(), "linkTitle")?;
    if let Some(n) = &name
        && (n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control))
    {
        return Err(CoreError::invalid(
            "attachment.linkTitle must be at most 255 characters without control characters",
        ));
    }
    Ok(AttachmentMeta {
        name,
        width: side(sent.width.as_ref(), "width")?,
        height: side(sent.height.as_ref(), "height")?,
        duration_ms: text(sent.file_duration.as_ref(), "fileDuration")?
            .map(|d| {
                parse_duration(&d).ok_or_else(|| {
                    CoreError::invalid("attachment.fileDuration must be mm:ss, h:mm:ss or seconds")
                })
            })
            .transpose()?,
        ..AttachmentMeta::default()
    })
}

/// A field's text: a string or a number; `None` for null, `""` or
/// `"null"`.
fn text(v: Option<&Value>, field: &str) -> Result<Option<String>, CoreError> {
    let s = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(CoreError::invalid(format!(
                "attachment.{field} must be a string"
            )));
        }
    };
    Ok((!s.is_empty() && s != "null").then_some(s))
}

/// A side in pixels: a positive number (`"640"`, `"640.0"`, `640`).
fn side(v: Option<&Value>, field: &str) -> Result<Option<u32>, CoreError> {
    let Some(s) = text(v, field)? else {
        return Ok(None);
    };
    match s.parse::<f64>() {
        Ok(n) if (1.0..=MAX_SIDE).contains(&n) => Ok(Some(n.round() as u32)),
        _ => Err(CoreError::invalid(format!(
            "attachment.{field} must be a number of pixels from 1 to 100000"
        ))),
    }
}

/// `mm:ss`, `h:mm:ss` or seconds (with a fraction), in milliseconds.
fn parse_duration(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split(':').map(str::trim).collect();
    let (secs, whole) = parts.split_last()?;
    if whole.len() > 2 {
        return None;
    }
    let mut minutes: u64 = 0;
    for (i, p) in whole.iter().enumerate() {
        let n: u64 = p.parse().ok()?;
        if i > 0 && n >= 60 {
            return None;
        }
        minutes = minutes.checked_mul(60)?.checked_add(n)?;
    }
    let secs: f64 = secs.parse().ok()?;
    if !secs.is_finite() || secs < 0.0 || (!whole.is_empty() && secs >= 60.0) {
        return None;
    }
    // Saturates far beyond any real duration.
    Some(((minutes as f64 * 60.0 + secs) * 1000.0).round() as u64)
}
