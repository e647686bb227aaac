//! Test support for the dialects' tables: the golden-table checks, the
//! "decoding arbitrary JSON never panics" property, and fixtures of what
//! the core hands a dialect to encode or render.

use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::{Delivery, Dialect, Receipt};
use crate::core::command::{Actor, Command};
use crate::core::event::{ConversationIds, DomainEvent};
use crate::core::{
    Conversation, ConversationKind, ErrorCode, Message, MessageKind, RowRef, UserId, UserSummary,
};

// ------------------------------------------------------------ golden tables

/// Each row `(event, payload)` decodes to its command.
pub fn assert_decodes(dialect: &impl Dialect, rows: Vec<(&str, Value, Command)>) {
    for (event, payload, want) in rows {
        match dialect.decode(event, &payload) {
            Ok(got) => assert_eq!(got, want, "{event} {payload}"),
            Err(e) => panic!("{event} {payload}: refused: {e}"),
        }
    }
}

/// Each row `(event, payload)` is refused as an invalid payload, with an
/// error whose text contains the row's third column.
pub fn assert_refuses(dialect: &impl Dialect, rows: &[(&str, Value, &str)]) {
    for (event, payload, text) in rows {
        match dialect.decode(event, payload) {
            Ok(got) => panic!("{event} {payload}: decoded to {got:?}"),
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::InvalidPayload, "{event} {payload}");
                assert!(
                    e.to_string().contains(text),
                    "{event} {payload}: {e:?} does not say {text:?}"
                );
            }
        }
    }
}

// ------------------------------------------------------- arbitrary payloads

/// Strings a decoder treats specially: ids, UUIDs, user pairs, the words
/// of the dialects' enums, tokens, blanks.
const WORDS: &[&str] = &[
    "1",
    "42",
    "0",
    "-1",
    "9223372036854775808",
    "123e4567-e89b-12d3-a456-426614174000",
    "user123_user456",
    "_",
    "a_b",
    "alice",
    "bad id",
    "text",
    "image",
    "file",
    "video",
    "typing",
    "recording",
    "stop",
    "Bearer x",
    "",
    " ",
];

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![0i64, 1, 2, 4, 5, -1, i64::MAX, i64::MIN]).prop_map(Value::from),
        // NaN and the infinities become `null`, as in JSON.
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![0.5, -0.0, 1e300, -1e300, 2.0]).prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
    ]
}

/// Any JSON value: nulls, booleans, numbers (huge, negative, fractional),
/// strings (any Unicode, and the ones decoders look for), arrays, and
/// objects whose keys are mostly the dialect's own `keys`.
pub fn arb_json(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        3 => prop::sample::select(keys).prop_map(str::to_owned),
        1 => any::<String>(),
    ];
    arb_leaf().prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An event name: mostly one of the dialect's `events`, else any string.
pub fn arb_event(events: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(events).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Decoding returns, and what it refuses is an invalid payload.
pub fn decodes_or_refuses(
    dialect: &impl Dialect,
    event: &str,
    payload: &Value,
) -> Result<(), TestCaseError> {
    if let Err(e) = dialect.decode(event, payload) {
        prop_assert_eq!(
            e.code(),
            ErrorCode::InvalidPayload,
            "{} {}: {:?}",
            event,
            payload,
            e
        );
    }
    Ok(())
}

// ----------------------------------------------------------------- fixtures

pub const CONVERSATION_UUID: &str = "123e4567-e89b-12d3-a456-426614174000";
pub const MESSAGE_UUID: &str = "00000000-0000-4000-8000-000000000007";
/// 2023-11-14T22:13:20.000Z.
pub const AT: i64 = 1_700_000_000_000;

pub fn user(id: &str) -> UserId {
    UserId::parse(id).expect("a valid user id")
}

/// `alice` and `bob`.
pub fn members() -> Vec<UserId> {
    vec![user("alice"), user("bob")]
}

/// A user as events carry them: `alice` is "Alice".
pub fn summary(id: &str) -> UserSummary {
    UserSummary {
        id: user(id),
        username: None,
        display_name: (id == "alice").then(|| "Alice".to_owned()),
        avatar_url: None,
    }
}

pub fn actor(id: &str) -> Actor {
    Actor { user: summary(id) }
}

pub fn uuid(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("a valid UUID")
}

pub fn row(id: i64) -> RowRef {
    RowRef::Id(id)
}

/// Conversation 3, direct, of `alice` and `bob`.
pub fn ids() -> ConversationIds {
    ConversationIds {
        id: 3,
        uuid: uuid(CONVERSATION_UUID),
        direct: true,
        external_id: None,
    }
}

/// Conversation 3 as stored, created by `alice`.
pub fn conversation(kind: ConversationKind, department_id: Option<i64>) -> Conversation {
    Conversation {
        id: 3,
        uuid: uuid(CONVERSATION_UUID),
        kind,
        title: None,
        created_by: user("alice"),
        created_at: AT,
        last_seq: 5,
        updated_at: AT,
        department_id,
        external_id: None,
    }
}

/// Message 7 of conversation 3, `alice`'s fifth: "hi".
pub fn message() -> Message {
    Message {
        id: 7,
        uuid: uuid(MESSAGE_UUID),
        conversation_id: 3,
        conversation_uuid: uuid(CONVERSATION_UUID),
        seq: 5,
        sender_id: user("alice"),
        kind: MessageKind::Text,
        declared_kind: None,
        text: Some("hi".to_owned()),
        attachments: vec![],
        client_id: None,
        created_at: AT,
        edited_at: None,
        deleted_at: None,
        external_id: None,
        conversation_external_id: None,
    }
}

/// [`message`] as an image with a caption.
pub fn image_message() -> Message {
    Message {
        kind: MessageKind::Image,
        text: Some("look".to_owned()),
        attachments: vec!["/uploads/image/x.webp".into()],
        ..message()
    }
}

/// Each row's domain event renders to its deliveries.
pub fn assert_renders(dialect: &impl Dialect, rows: Vec<(DomainEvent, Vec<Delivery>)>) {
    for (event, want) in rows {
        assert_eq!(dialect.render(&event), want, "{event:?}");
    }
}

/// Conversation 3's new message 7 from `alice` to `bob`.
pub fn message_created(department: Option<i64>) -> DomainEvent {
    DomainEvent::MessageCreated {
        conversation: ids(),
        message: message(),
        sender: summary("alice"),
        members: members(),
        department,
        muted: vec![],
        from_socket: None,
    }
}

/// `event` (a new message) as sent through the socket `socket`.
pub fn through(mut event: DomainEvent, socket: &str) -> DomainEvent {
    if let DomainEvent::MessageCreated { from_socket, .. } = &mut event {
        *from_socket = Some(socket.to_owned());
    }
    event
}

/// The receipt of [`message_created`]'s emit.
pub fn receipt() -> Receipt {
    Receipt::new(&message(), ids(), &members())
}

/// `user` starts or stops typing in conversation 3.
pub fn typing(user: &str, typing: bool, recording: bool) -> DomainEvent {
    DomainEvent::Typing {
        conversation: ids(),
        user: summary(user),
        typing,
        recording,
        name: None,
        members: members(),
    }
}

/// `bob` read conversation 3 up to message 7.
pub fn read_by_bob() -> DomainEvent {
    DomainEvent::MessagesRead {
        conversation: ids(),
        reader: user("bob"),
        up_to_seq: 5,
        message: message(),
        at: AT,
        members: members(),
        covered: vec![message().uuid],
    }
}

/// `alice` comes online or goes offline; `bob`, her contact, hears it.
pub fn presence(online: bool) -> DomainEvent {
    DomainEvent::Presence {
        user: user("alice"),
        online,
        at: AT,
        audience: vec![user("bob")],
        everyone: false,
    }
}

/// `alice` comes online or goes offline, and everyone may hear it (`bob`
/// is her contact).
pub fn presence_to_everyone(online: bool) -> DomainEvent {
    DomainEvent::Presence {
        user: user("alice"),
        online,
        at: AT,
        audience: vec![user("bob")],
        everyone: true,
    }
}

/// `bob` left conversation 3.
pub fn bob_removed() -> DomainEvent {
    DomainEvent::MemberRemoved {
        conversation: ids(),
        user: user("bob"),
        members: members(),
    }
}

/// A handshake request to `uri` with `headers`.
pub fn request(uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
    let mut builder = http::Request::builder().uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).expect("a valid request").into_parts().0
}

// ------------------------------------------------------------ event names

/// Every event a dialect lists as known is one its table decodes (or its
/// upload event), and a name it does not know is refused as unknown.
fn assert_knows_its_events(dialect: &impl Dialect) {
    let unknown = |e: &crate::core::CoreError| e.to_string().starts_with("unknown event");
    for event in dialect.events() {
        if dialect.handshake().upload_event == Some(*event) {
            continue;
        }
        for payload in [serde_json::json!({}), serde_json::json!("1")] {
            if let Err(e) = dialect.decode(event, &payload) {
                assert!(
                    !unknown(&e),
                    "{}: {event} is listed but unknown",
                    dialect.name()
                );
            }
        }
    }
    let refused = dialect.decode("no such event", &serde_json::json!({}));
    assert!(refused.as_ref().is_err_and(unknown), "{refused:?}");
}

#[test]
fn every_dialect_lists_the_events_it_knows() {
    use super::{dozaar, jobspare, syarah, vchat, voxora};
    assert_knows_its_events(&dozaar::Dozaar);
    assert_knows_its_events(&syarah::Syarah);
    assert_knows_its_events(&jobspare::JobSpare);
    assert_knows_its_events(&vchat::VChat);
    assert_knows_its_events(&vchat::VChatMessage);
    assert_knows_its_events(&voxora::Voxora);
    assert_knows_its_events(&voxora::Department);
}
