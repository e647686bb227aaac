//! A client event's payload as the runtime receives it: JSON, or one binary
//! attachment (a `Buffer`) as the whole payload.

use serde_json::Value;

/// A client event's payload.
pub(super) enum Payload {
    Json(Value),
    Binary(bytes::Bytes),
}

impl Payload {
    /// The payload if it is JSON.
    pub(super) fn json(&self) -> Option<&Value> {
        match self {
            Payload::Json(v) => Some(v),
            Payload::Binary(_) => None,
        }
    }
}

/// An event emitted with no arguments (`emit('join')`) carries `null`; any
/// other unreadable payload is refused. (socketioxide reports the former
/// only by this message.)
pub(super) fn no_arguments(e: socketioxide::ParserError) -> Result<Payload, String> {
    let message = e.to_string();
    if message.contains("first element not found") {
        Ok(Payload::Json(Value::Null))
    } else {
        Err(message)
    }
}

impl<'de> serde::Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PayloadVisitor)
    }
}

/// Takes bytes as [`Payload::Binary`] and anything else as JSON (binary
/// nested inside JSON is refused).
struct PayloadVisitor;

impl<'de> serde::de::Visitor<'de> for PayloadVisitor {
    type Value = Payload;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value or a binary payload")
    }
    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Payload, E> {
        Ok(Payload::Binary(bytes::Bytes::copy_from_slice(v)))
    }
    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Payload, E> {
        Ok(Payload::Binary(v.into()))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Payload, E> {
        Ok(Payload::Json(v.into()))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Payload, E> {
        Ok(Payload::Json(Value::Null))
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Payload, E> {
        Ok(Payload::Json(Value::Null))
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Payload, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Payload, A::Error> {
        use serde::Deserialize;
        Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(Payload::Json)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Payload, A::Error> {
        use serde::Deserialize;
        Value::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Payload::Json)
    }
}
