use std::io::Cursor;

use bytes::Buf;
use socketioxide_core::{
    Str, Value,
    packet::{Packet, PacketData},
    parser::ParseError,
};

pub fn deserialize_packet(data: Str) -> Result<(Packet, Option<usize>), ParseError> {
    if data.is_empty() {
        return Err(ParseError::InvalidPacketType);
    }
    // It is possible to parse the packet from a byte slice because separators are only ASCII
    let mut reader = Cursor::new(data.as_str());
    let index = reader.get_u8();
    let index = (b'0'..=b'6')
        .contains(&index)
        .then_some(index)
        .ok_or(ParseError::InvalidPacketType)?;

    let attachments: Option<usize> = if index == b'5' || index == b'6' {
        Some(read_attachments(&mut reader).ok_or(ParseError::InvalidAttachments)?)
    } else {
        None
    };

    // Custom nsps will start with a slash
    let ns = if reader.has_remaining().then(|| reader.chunk()[0]) == Some(b'/') {
        read_nsp(&mut reader, &data)
    } else {
        Str::from("/")
    };
    let ack = read_ack(&mut reader);

    let data = data.slice(reader.position() as usize..);
    fn str(data: Str) -> Value {
        Value::Str(data, None)
    }
    // A Socket.IO v2 client appends its query to the namespace of a CONNECT
    // packet (`0/chat?token=abc,`). The namespace is the part before `?`;
    // the query is the connection's auth object, as the official server
    // reads it in v2 compatibility mode (a packet with data keeps its data).
    let (ns, query) = match (index, ns.find('?')) {
        (b'0', Some(at)) => (ns.slice(..at), Some(ns.slice(at + 1..))),
        _ => (ns, None),
    };
    let inner = match index {
        b'0' if data.is_empty() && query.is_some() => {
            PacketData::Connect(query.map(|q| str(query_object(&q))))
        }
        b'0' => PacketData::Connect((!data.is_empty()).then(|| str(data))),
        b'1' => PacketData::Disconnect,
        b'2' => PacketData::Event(str(data), ack),
        b'3' => PacketData::EventAck(str(data), ack.ok_or(ParseError::InvalidPacketType)?),
        b'5' => PacketData::BinaryEvent(str(data), ack),
        b'6' => PacketData::BinaryAck(str(data), ack.ok_or(ParseError::InvalidPacketType)?),
        _ => return Err(ParseError::InvalidPacketType),
    };
    Ok((Packet { inner, ns }, attachments))
}

/// A query string (`a=1&b=x%20y`) as a JSON object of strings, each name and
/// value percent-decoded (`+` is a space); the first of repeated names wins.
fn query_object(query: &str) -> Str {
    let mut object = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        object
            .entry(percent_decode(name))
            .or_insert_with(|| serde_json::Value::String(percent_decode(value)));
    }
    Str::from(serde_json::Value::Object(object).to_string())
}

/// `s` with `%XX` escapes decoded and `+` read as a space; an escape that is
/// not two hex digits stays as it is, bytes that are not UTF-8 are replaced.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |at: usize| {
        let digit = |b: &u8| (*b as char).to_digit(16);
        Some(digit(bytes.get(at)?)? * 16 + digit(bytes.get(at + 1)?)?)
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(i + 1)) {
            (b'%', Some(byte)) => {
                out.push(byte as u8);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_attachments(reader: &mut Cursor<&str>) -> Option<usize> {
    let data = *reader.get_ref();
    let start_index = reader.position() as usize;
    loop {
        match reader.has_remaining().then(|| reader.get_u8()) {
            Some(c) if c.is_ascii_digit() => (),
            Some(b'-') if reader.position() as usize > start_index => {
                break data[start_index..reader.position() as usize - 1]
                    .parse()
                    .ok();
            }
            _ => {
                reader.set_position(reader.position() - 1);
                break None;
            }
        }
    }
}

fn read_nsp(reader: &mut Cursor<&str>, data: &Str) -> Str {
    let start_index = reader.position() as usize;
    loop {
        match reader.has_remaining().then(|| reader.get_u8()) {
            Some(b',') => {
                break data.slice(start_index..reader.position() as usize - 1);
            }
            // It maybe possible depending on clients that ns does not end with a comma
            // if it is the end of the packet
            // e.g `1/custom`
            None => {
                break data.slice(start_index..reader.position() as usize);
            }
            Some(_) => (),
        }
    }
}

fn read_ack(reader: &mut Cursor<&str>) -> Option<i64> {
    let start_index = reader.position() as usize;
    let data = *reader.get_ref();
    loop {
        match reader.has_remaining().then(|| reader.chunk()[0]) {
            Some(c) if c.is_ascii_digit() => reader.advance(1),
            Some(b'[' | b'{') if reader.position() as usize > start_index => {
                break data[start_index..reader.position() as usize].parse().ok();
            }
            _ => break None,
        }
    }
}

#[cfg(test)]
mod tests {
    use socketioxide_core::{packet::PacketData, parser::ParseError};

    use crate::de::deserialize_packet;

    /// Every `Str` slice done by the parser must land on a char boundary.
    #[test]
    fn multibyte_packets_do_not_panic() {
        for packet in [
            "2/é,[\"é\"]",
            "2/é",
            "2/é,",
            "2é",
            "21é",
            "2/é,1é",
            "2/é,1[\"é\"]",
            "0/é,{\"é\":\"é\"}",
            "51-/é,1[\"é\"]",
            "51é",
            "é",
        ] {
            let _ = deserialize_packet(packet.into());
        }
    }

    #[test]
    fn v2_connect_query_is_the_auth_object() {
        let (packet, _) =
            deserialize_packet("0/chat?token=a%2Eb+c&x=1&token=no&flag,".into()).unwrap();
        assert_eq!(packet.ns, "/chat");
        let PacketData::Connect(Some(auth)) = packet.inner else {
            panic!("no auth: {:?}", packet.inner);
        };
        let auth: serde_json::Value = serde_json::from_str(auth.as_str().unwrap()).unwrap();
        assert_eq!(
            auth,
            serde_json::json!({ "token": "a.b c", "x": "1", "flag": "" })
        );
    }

    #[test]
    fn v2_connect_query_without_comma_or_with_bad_escapes() {
        let (packet, _) = deserialize_packet("0/department?departmentId=7&t=%zz%4".into()).unwrap();
        assert_eq!(packet.ns, "/department");
        let PacketData::Connect(Some(auth)) = packet.inner else {
            panic!("no auth");
        };
        let auth: serde_json::Value = serde_json::from_str(auth.as_str().unwrap()).unwrap();
        assert_eq!(
            auth,
            serde_json::json!({ "departmentId": "7", "t": "%zz%4" })
        );
        // An empty query is an empty auth object; a namespace without one is as before.
        let (packet, _) = deserialize_packet("0/chat?,".into()).unwrap();
        assert_eq!(packet.ns, "/chat");
        assert!(matches!(packet.inner, PacketData::Connect(Some(_))));
        let (packet, _) = deserialize_packet("0/chat,".into()).unwrap();
        assert_eq!(packet.ns, "/chat");
        assert!(matches!(packet.inner, PacketData::Connect(None)));
    }

    #[test]
    fn connect_data_wins_over_a_query_and_other_packets_keep_their_namespace() {
        let (packet, _) = deserialize_packet("0/chat?token=q,{\"token\":\"d\"}".into()).unwrap();
        assert_eq!(packet.ns, "/chat");
        let PacketData::Connect(Some(auth)) = packet.inner else {
            panic!("no auth");
        };
        assert_eq!(auth.as_str().unwrap().as_str(), "{\"token\":\"d\"}");
        let (packet, _) = deserialize_packet("2/chat?x=1,[\"e\"]".into()).unwrap();
        assert_eq!(packet.ns, "/chat?x=1");
    }

    #[test]
    fn data_is_empty() {
        let err = deserialize_packet("".into());
        assert!(matches!(err, Err(ParseError::InvalidPacketType)));
    }

    #[test]
    fn invalid_packet_type() {
        let err = deserialize_packet("7azdaz".into());
        assert!(matches!(err, Err(ParseError::InvalidPacketType)));
        let err = deserialize_packet("8".into());
        assert!(matches!(err, Err(ParseError::InvalidPacketType)));
    }

    #[test]
    fn ns_without_comma_end() {
        let (packet, _) = deserialize_packet("0/custom".into()).unwrap();
        assert_eq!(packet.ns, "/custom");
    }
}
