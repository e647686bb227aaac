//! Engine.IO v4 / Socket.IO v5 text frames, as the generator and the ceiling
//! write and read them. Only what the Dozaar scenarios need: the open packet,
//! the namespace CONNECT and its answer, ping/pong, the upgrade probe, and
//! events in the `/chat` namespace. Frames the generator sends are built from
//! prefixes made once; frames it receives are looked at without a full JSON
//! parse (the event name and the marker embedded in the message text).

use crate::error::{Result, protocol};

/// The namespace every Dozaar socket uses.
pub const NAMESPACE: &str = "/chat";
/// An Engine.IO ping from the server (answered with [`PONG`]).
pub const PING: &str = "2";
pub const PONG: &str = "3";
pub const PROBE_PING: &str = "2probe";
pub const PROBE_PONG: &str = "3probe";
pub const UPGRADE: &str = "5";
/// Separates packets in one HTTP long-polling payload.
pub const RECORD_SEPARATOR: char = '\u{1e}';
/// The start of every event frame of the namespace.
pub const EVENT_PREFIX: &str = "42/chat,[\"";
/// The start of the text of every message the generator sends.
pub const MARKER: &str = "bm:";

/// What the Engine.IO open packet (`0{...}`) tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub sid: String,
    pub ping_interval_ms: u64,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenJson {
    sid: String,
    #[serde(default)]
    ping_interval: u64,
}

/// Parses the Engine.IO open packet.
pub fn parse_open(frame: &str) -> Result<Open> {
    let json = frame
        .strip_prefix('0')
        .ok_or_else(|| protocol(format!("expected an open packet, got {}", clip(frame))))?;
    let o: OpenJson = serde_json::from_str(json)?;
    Ok(Open {
        sid: o.sid,
        ping_interval_ms: o.ping_interval,
    })
}

/// The open packet a server sends (the ceiling's).
pub fn open_packet(
    sid: &str,
    ping_interval_ms: u64,
    ping_timeout_ms: u64,
    upgrades: bool,
) -> String {
    let upgrades = if upgrades { "[\"websocket\"]" } else { "[]" };
    format!(
        "0{{\"sid\":\"{sid}\",\"upgrades\":{upgrades},\"pingInterval\":{ping_interval_ms},\"pingTimeout\":{ping_timeout_ms},\"maxPayload\":1000000}}"
    )
}

/// The namespace CONNECT packet with `auth: {token}`.
pub fn connect_frame(token: &str) -> String {
    format!("40{NAMESPACE},{{\"token\":\"{}\"}}", json_escape(token))
}

/// An event frame `42/chat,["event",payload]`; `payload` is JSON already.
pub fn event_frame(event: &str, payload_json: &str) -> String {
    format!("{EVENT_PREFIX}{event}\",{payload_json}]")
}

/// `join:conversation {conversationId}`.
pub fn join_frame(conversation_id: &str) -> String {
    event_frame(
        "join:conversation",
        &format!(
            "{{\"conversationId\":\"{}\"}}",
            json_escape(conversation_id)
        ),
    )
}

/// What identifies one sent message: the measured point (`epoch`), the room,
/// the message's number in that room, and its intended send time in
/// nanoseconds since the generator's clock base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub epoch: u32,
    pub room: u32,
    pub k: u32,
    pub t_ns: u64,
}

impl Marker {
    /// The message text: `bm:<epoch>:<room>:<k>:<t_ns>`.
    pub fn text(&self) -> String {
        format!(
            "{MARKER}{}:{}:{}:{}",
            self.epoch, self.room, self.k, self.t_ns
        )
    }
}

/// Builds `send:message` frames for one conversation from a prefix made once.
#[derive(Debug, Clone)]
pub struct SendFrames {
    prefix: String,
}

impl SendFrames {
    pub fn new(conversation_id: &str) -> Self {
        SendFrames {
            prefix: format!(
                "{EVENT_PREFIX}send:message\",{{\"conversationId\":\"{}\",\"message\":\"",
                json_escape(conversation_id)
            ),
        }
    }

    /// The frame for one message; its `clientId` is unique per message too.
    pub fn frame(&self, m: &Marker) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(self.prefix.len() + 96);
        s.push_str(&self.prefix);
        let _ = write!(
            s,
            "{MARKER}{}:{}:{}:{}\",\"clientId\":\"c{}-{}-{}\"}}]",
            m.epoch, m.room, m.k, m.t_ns, m.epoch, m.room, m.k
        );
        s
    }
}

/// A text frame from the server, classified.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    Ping,
    ProbePong,
    Open,
    Noop,
    /// The answer to the namespace CONNECT.
    Connected,
    /// A refused namespace CONNECT (`44/chat,{...}`), with its data.
    ConnectError(&'a str),
    /// An event of the namespace: its name and the frame after it.
    Event {
        name: &'a str,
        rest: &'a str,
    },
    Other,
}

/// Classifies one text frame (one packet).
pub fn classify(frame: &str) -> Incoming<'_> {
    if frame == PING {
        return Incoming::Ping;
    }
    if frame == PROBE_PONG {
        return Incoming::ProbePong;
    }
    if frame == "6" {
        return Incoming::Noop;
    }
    if frame.starts_with('0') {
        return Incoming::Open;
    }
    if let Some(rest) = frame.strip_prefix(EVENT_PREFIX) {
        if let Some(end) = rest.find('"') {
            return Incoming::Event {
                name: &rest[..end],
                rest: &rest[end + 1..],
            };
        }
        return Incoming::Other;
    }
    if let Some(rest) = frame.strip_prefix("40/chat")
        && (rest.is_empty() || rest.starts_with(','))
    {
        return Incoming::Connected;
    }
    if let Some(rest) = frame.strip_prefix("44/chat") {
        return Incoming::ConnectError(rest.strip_prefix(',').unwrap_or(rest));
    }
    Incoming::Other
}

/// Finds the marker in a frame (the text of a `new:message`). `None` if the
/// frame holds none or a malformed one.
pub fn find_marker(frame: &str) -> Option<Marker> {
    let at = frame.find(MARKER)?;
    let mut parts = frame[at + MARKER.len()..].splitn(5, ':');
    let epoch = parts.next()?.parse().ok()?;
    let room = parts.next()?.parse().ok()?;
    let k = parts.next()?.parse().ok()?;
    let rest = parts.next()?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let t_ns = rest[..digits].parse().ok()?;
    Some(Marker {
        epoch,
        room,
        k,
        t_ns,
    })
}

/// Splits an HTTP long-polling payload into its packets.
pub fn split_polling(payload: &str) -> impl Iterator<Item = &str> {
    payload.split(RECORD_SEPARATOR).filter(|p| !p.is_empty())
}

/// Escapes a string for a JSON string literal (tokens and ids need none in
/// practice; this keeps a strange one from breaking a frame).
pub fn json_escape(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        return std::borrow::Cow::Borrowed(s);
    }
    let quoted = serde_json::Value::String(s.to_owned()).to_string();
    std::borrow::Cow::Owned(quoted[1..quoted.len() - 1].to_owned())
}

/// The start of a frame, for error messages.
pub fn clip(s: &str) -> &str {
    let mut end = s.len().min(120);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_packet_gives_the_sid_and_ping_interval() {
        let o = parse_open(
            r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":60000,"maxPayload":1000000}"#,
        )
        .unwrap();
        assert_eq!(o.sid, "abc");
        assert_eq!(o.ping_interval_ms, 25000);
        assert_eq!(parse_open(&open_packet("x", 1, 2, true)).unwrap().sid, "x");
        assert!(parse_open("40/chat,{}").is_err());
        assert!(parse_open("0{not json").is_err());
    }

    #[test]
    fn connect_and_join_frames_are_socket_io_v5_text() {
        assert_eq!(connect_frame("a.b.c"), r#"40/chat,{"token":"a.b.c"}"#);
        assert_eq!(
            join_frame("u-1"),
            r#"42/chat,["join:conversation",{"conversationId":"u-1"}]"#
        );
        assert_eq!(connect_frame("a\"b"), r#"40/chat,{"token":"a\"b"}"#);
    }

    #[test]
    fn a_send_frame_is_valid_json_and_carries_its_marker() {
        let m = Marker {
            epoch: 3,
            room: 17,
            k: 42,
            t_ns: 123_456_789,
        };
        let f = SendFrames::new("conv-uuid").frame(&m);
        let json: serde_json::Value = serde_json::from_str(&f["42/chat,".len()..]).unwrap();
        assert_eq!(json[0], "send:message");
        assert_eq!(json[1]["conversationId"], "conv-uuid");
        assert_eq!(json[1]["message"], m.text());
        assert_eq!(json[1]["clientId"], "c3-17-42");
        assert_eq!(find_marker(&f), Some(m));
    }

    #[test]
    fn incoming_frames_are_classified() {
        assert_eq!(classify("2"), Incoming::Ping);
        assert_eq!(classify("3probe"), Incoming::ProbePong);
        assert_eq!(classify("6"), Incoming::Noop);
        assert_eq!(classify(r#"40/chat,{"sid":"x"}"#), Incoming::Connected);
        assert_eq!(
            classify(r#"44/chat,{"message":"token expired"}"#),
            Incoming::ConnectError(r#"{"message":"token expired"}"#)
        );
        assert_eq!(
            classify(r#"42/chat,["new:message",{"a":1}]"#),
            Incoming::Event {
                name: "new:message",
                rest: r#",{"a":1}]"#
            }
        );
        assert_eq!(classify(r#"42/chat,["broken"#), Incoming::Other);
        assert_eq!(classify("40/chatter"), Incoming::Other);
        assert_eq!(classify("42[\"x\"]"), Incoming::Other);
    }

    #[test]
    fn a_marker_is_found_anywhere_in_a_new_message_and_garbage_is_none() {
        let frame = r#"42/chat,["new:message",{"id":"x","message":"bm:1:2:3:4005","seq":1}]"#;
        assert_eq!(
            find_marker(frame),
            Some(Marker {
                epoch: 1,
                room: 2,
                k: 3,
                t_ns: 4005
            })
        );
        assert_eq!(find_marker(r#"{"message":"hello"}"#), None);
        assert_eq!(find_marker(r#"{"message":"bm:1:x:3:4"}"#), None);
        assert_eq!(find_marker(r#"{"message":"bm:1:2"}"#), None);
        assert_eq!(find_marker("bm:1:2:3:"), None);
    }

    #[test]
    fn a_polling_payload_splits_on_the_record_separator() {
        let v: Vec<_> = split_polling("40/chat,{}\u{1e}2\u{1e}").collect();
        assert_eq!(v, vec!["40/chat,{}", "2"]);
    }
}
