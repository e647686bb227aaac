//! Validated newtypes: parsed once at the edge, trusted by the core after.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use super::error::CoreError;

/// An opaque user id (a JWT `sub`, a GUID, an ObjectId): 1..=128 bytes of
/// `[A-Za-z0-9._:@-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(s: &str) -> Result<Self, CoreError> {
        if Self::is_valid(s) {
            Ok(UserId(s.to_owned()))
        } else {
            Err(CoreError::invalid(
                "user id must be 1 to 128 characters of letters, digits and . _ : @ -",
            ))
        }
    }

    pub fn is_valid(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'@' | b'-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For values read back from the store, which only holds valid ids.
    pub fn from_trusted(s: String) -> Self {
        UserId(s)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        UserId::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An id a row got from the system it was imported from, when that id is
/// neither a positive integer nor a UUID (a Mongo ObjectId, a slug): 1..=128
/// bytes of `[A-Za-z0-9._:@-]` that is not a number an `i64` holds (an
/// ObjectId may be all digits, too many for one). Stored inline so that
/// [`RowRef`] stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternalId {
    len: u8,
    bytes: [u8; ExternalId::MAX_LEN],
}

impl ExternalId {
    pub const MAX_LEN: usize = 128;

    /// `s` as an external id, or `None` if it is not one (empty, too long,
    /// a character outside the set, or an integer: that is a row id).
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= Self::MAX_LEN
            && s.parse::<i64>().is_err()
            && b.iter().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'@' | b'-')
            });
        if !ok {
            return None;
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..b.len()].copy_from_slice(b);
        Some(ExternalId {
            len: b.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII bytes from a `&str` are ever stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Debug for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for ExternalId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ExternalId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ExternalId::parse(&s).ok_or_else(|| serde::de::Error::custom("not an external id"))
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to a row that has a numeric id, a UUID and possibly an
/// external id (kept from an import); dialects show one of them and
/// accept what they show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowRef {
    Id(i64),
    Uuid(Uuid),
    External(ExternalId),
}

const ROW_REF_RULE: &str = "id must be a positive integer or a UUID";
const ANY_REF_RULE: &str = "id must be a positive integer, a UUID, or 1 to 128 characters of \
                            letters, digits and . _ : @ -";

impl RowRef {
    /// Parses `"42"` or a UUID. Anything else is refused: what the
    /// dialects that show numbers or UUIDs (Syarah, Dozaar) accept.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        match Self::parse_any(s) {
            Ok(RowRef::External(_)) => Err(CoreError::invalid(ROW_REF_RULE)),
            Ok(r) => Ok(r),
            Err(_) => Err(CoreError::invalid(ROW_REF_RULE)),
        }
    }

    /// Parses `"42"`, a UUID, or an external id (kept from an import):
    /// what the dialects that show string ids (V Chat, Voxora, JobSpare)
    /// and the REST API accept. Zero, a negative or too large number and
    /// other characters are refused.
    pub fn parse_any(s: &str) -> Result<Self, CoreError> {
        let s = s.trim();
        if let Ok(n) = s.parse::<i64>() {
            if n > 0 {
                return Ok(RowRef::Id(n));
            }
        } else if let Ok(u) = Uuid::parse_str(s) {
            return Ok(RowRef::Uuid(u));
        } else if let Some(e) = ExternalId::parse(s)
            && !s.starts_with('-')
        {
            return Ok(RowRef::External(e));
        }
        Err(CoreError::invalid(ANY_REF_RULE))
    }

    /// Accepts a JSON string or a JSON number (see [`RowRef::parse`]).
    pub fn from_json(v: &serde_json::Value) -> Result<Self, CoreError> {
        match Self::from_json_any(v) {
            Ok(RowRef::External(_)) => Err(CoreError::invalid(ROW_REF_RULE)),
            Ok(r) => Ok(r),
            Err(_) if v.is_string() || v.is_number() => Err(CoreError::invalid(ROW_REF_RULE)),
            Err(e) => Err(e),
        }
    }

    /// Accepts a JSON string or a JSON number (see [`RowRef::parse_any`]).
    pub fn from_json_any(v: &serde_json::Value) -> Result<Self, CoreError> {
        match v {
            serde_json::Value::String(s) => Self::parse_any(s),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(n) if n > 0 => Ok(RowRef::Id(n)),
                _ => Err(CoreError::invalid(ANY_REF_RULE)),
            },
            _ => Err(CoreError::invalid("id must be a string or a number")),
        }
    }

    /// For `#[serde(deserialize_with = "RowRef::deserialize_any")]`: a
    /// field that takes external ids too.
    pub fn deserialize_any<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        RowRef::from_json_any(&v).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for RowRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowRef::Id(n) => write!(f, "{n}"),
            RowRef::Uuid(u) => write!(f, "{u}"),
            RowRef::External(e) => write!(f, "{e}"),
        }
    }
}

impl<'de> Deserialize<'de> for RowRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        RowRef::from_json(&v).map_err(serde::de::Error::custom)
    }
}

pub type ConversationRef = RowRef;
pub type MessageRef = RowRef;

/// Message text: not blank, at most `max_chars` characters (Unicode scalar values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(s: &str, max_chars: usize) -> Result<Self, CoreError> {
        if s.trim().is_empty() {
            return Err(CoreError::invalid("message text must not be empty"));
        }
        if s.chars().count() > max_chars {
            return Err(CoreError::invalid(format!(
                "message text exceeds {max_chars} characters"
            )));
        }
        Ok(MessageText(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A client-chosen id that makes a send idempotent: 1..=128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        if !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(ClientId(s.to_owned()))
        } else {
            Err(CoreError::invalid(
                "clientId must be 1 to 128 visible ASCII characters",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `s` is an attachment URL: http(s) or a path on this server,
/// without spaces, at most 2048 bytes.
pub fn is_attachment_url(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 2048
        && (s.starts_with("https://") || s.starts_with("http://") || s.starts_with('/'))
        && !s.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// An attachment URL (see [`is_attachment_url`]), or an invalid payload.
pub fn validate_attachment_url(s: &str) -> Result<(), CoreError> {
    if is_attachment_url(s) {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "attachment URLs must be http(s) URLs or server paths without spaces, at most 2048 bytes",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_accept_common_forms_and_refuse_the_rest() {
        for ok in [
            "alice",
            "64b7f0c2e4b0a1a2b3c4d5e6",
            "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "a@b.c",
            "auth0:123",
        ] {
            assert!(UserId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ü", &"x".repeat(129), "<script>"] {
            assert!(UserId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn row_refs_take_numbers_and_uuids() {
        assert_eq!(RowRef::parse("42").unwrap(), RowRef::Id(42));
        assert!(matches!(
            RowRef::parse("123e4567-e89b-12d3-a456-426614174000").unwrap(),
            RowRef::Uuid(_)
        ));
        assert!(RowRef::parse("0").is_err());
        assert!(RowRef::parse("-3").is_err());
        assert!(RowRef::parse("abc").is_err(), "strict: no external ids");
        assert!(RowRef::parse_any("a b").is_err());
        assert!(RowRef::parse_any("-abc").is_err());
        assert!(RowRef::parse_any(&"a".repeat(129)).is_err());
        assert!(RowRef::from_json(&serde_json::json!(7)).is_ok());
        assert!(RowRef::from_json(&serde_json::json!(1.5)).is_err());
        assert!(RowRef::from_json(&serde_json::json!(null)).is_err());
    }

    #[test]
    fn other_safe_strings_are_external_ids() {
        for ok in ["64b7f0c2e4b0a1a2b3c4d5e6", "abc", "room:general", "a-1"] {
            match RowRef::parse_any(ok).unwrap() {
                RowRef::External(e) => assert_eq!(e.as_str(), ok),
                other => panic!("{ok} parsed as {other:?}"),
            }
        }
        assert_eq!(
            RowRef::from_json_any(&serde_json::json!("64b7f0c2e4b0a1a2b3c4d5e6"))
                .unwrap()
                .to_string(),
            "64b7f0c2e4b0a1a2b3c4d5e6"
        );
        assert!(
            ExternalId::parse("123").is_none(),
            "numbers are numeric ids"
        );
        let digits = "123456789012345678901234";
        assert_eq!(
            RowRef::parse_any(digits)
                .map(|r| r.to_string())
                .ok()
                .as_deref(),
            Some(digits),
            "an ObjectId of digits only is too large for a number: external"
        );
    }

    #[test]
    fn message_text_counts_characters_not_bytes() {
        assert!(MessageText::parse(&"é".repeat(10_000), 10_000).is_ok());
        assert!(MessageText::parse(&"é".repeat(10_001), 10_000).is_err());
        assert!(MessageText::parse("   ", 10_000).is_err());
    }
}
