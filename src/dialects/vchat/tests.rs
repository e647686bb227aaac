//! V Chat's tables: events in, commands out; and any JSON decodes
//! without a panic.

use super::*;

#[test]
fn typing_statuses_decode_to_typing_and_recording() {
    let d = VChat;
    let t = |status: &str| d.decode("typing", &json!({ "roomId": "5", "status": status }));
    assert!(matches!(
        t("typing").unwrap(),
        Command::Typing {
            typing: true,
            recording: false,
            ..
        }
    ));
    assert!(matches!(
        t("recording").unwrap(),
        Command::Typing {
            typing: true,
            recording: true,
            ..
        }
    ));
    assert!(matches!(
        t("stop").unwrap(),
        Command::Typing { typing: false, .. }
    ));
    assert!(t("dancing").is_err());
    assert!(d.decode("typing", &json!({ "status": "typing" })).is_err());
}

#[test]
fn message_join_takes_an_id_or_an_object() {
    let d = VChatMessage;
    for payload in [json!("12"), json!(12), json!({ "roomId": "12" })] {
        assert!(matches!(
            d.decode("join", &payload).unwrap(),
            Command::ViewRoom {
                conversation: RowRef::Id(12),
                ..
            }
        ));
    }
    assert!(d.decode("join", &json!(null)).is_err());
    assert!(d.decode("join", &json!("not a room")).is_err());
    assert!(d.decode("load_more", &json!({ "roomId": "12" })).is_err());
}

#[test]
fn decoding_arbitrary_json_never_panics() {
    use proptest::prelude::*;
    proptest::proptest!(|(s in any::<String>(), n in any::<i64>())| {
        for payload in [json!(s), json!({ "roomId": s, "status": s }), json!({ "roomId": n, "beforeMessageId": s })] {
            for event in ["join", "typing", "load_more"] {
                let _ = VChat.decode(event, &payload);
                let _ = VChatMessage.decode(event, &payload);
            }
        }
    });
}
