//! Dozaar's tables: events in, commands out; outcomes, errors and domain
//! events in, emits out; and any JSON decodes without a panic.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::dialects::testing::*;

const CONV: &str = CONVERSATION_UUID;

const EVENTS: &[&str] = &[
    "join:conversation",
    "leave:conversation",
    "send:message",
    "typing:start",
    "typing:stop",
    "mark:read",
    "get:online_status",
    "edit:message",
    "delete:message",
];

const KEYS: &[&str] = &[
    "conversationId",
    "message",
    "messageId",
    "userIds",
    "attachmentUrls",
    "clientId",
];

#[test]
fn client_events_decode_to_commands() {
    let conv = RowRef::parse(CONV).unwrap();
    assert_decodes(
        &Dozaar,
        vec![
            (
                "join:conversation",
                json!({"conversationId": CONV}),
                Command::Join {
                    conversation: conv.into(),
                },
            ),
            (
                "join:conversation",
                json!({"conversationId": 3}),
                Command::Join {
                    conversation: row(3).into(),
                },
            ),
            (
                "leave:conversation",
                json!({"conversationId": CONV}),
                Command::Leave {
                    conversation: conv.into(),
                },
            ),
            (
                "send:message",
                json!({"conversationId": CONV, "message": "hi", "attachmentUrls": ["https://x/y.jpg"]}),
                Command::Send {
                    conversation: conv.into(),
                    message: SendMessage {
                        text: Some("hi".into()),
                        attachments: vec!["https://x/y.jpg".into()],
                        client_id: None,
                        kind: None,
                        declared_kind: None,
                    },
                },
            ),
            (
                "send:message",
                json!({"conversationId": CONV, "message": "again", "clientId": "c-1"}),
                Command::Send {
                    conversation: conv.into(),
                    message: SendMessage {
                        text: Some("again".into()),
                        attachments: vec![],
                        client_id: Some("c-1".into()),
                        kind: None,
                        declared_kind: None,
                    },
                },
            ),
            (
                "typing:start",
                json!({"conversationId": CONV}),
                Command::Typing {
                    conversation: conv.into(),
                    typing: true,
                    recording: false,
                    name: None,
                },
            ),
            (
                "typing:stop",
                json!({"conversationId": CONV}),
                Command::Typing {
                    conversation: conv.into(),
                    typing: false,
                    recording: false,
                    name: None,
                },
            ),
            (
                "mark:read",
                json!({"messageId": CONV}),
                Command::MarkRead { message: conv },
            ),
            (
                "get:online_status",
                json!({"userIds": ["a", "b"]}),
                Command::OnlineStatus {
                    users: vec![user("a"), user("b")],
                },
            ),
            (
                "edit:message",
                json!({"messageId": MESSAGE_UUID, "message": "fixed"}),
                Command::Edit {
                    message: RowRef::parse(MESSAGE_UUID).unwrap(),
                    text: "fixed".into(),
                },
            ),
            (
                "delete:message",
                json!({"messageId": "7"}),
                Command::Delete { message: row(7) },
            ),
        ],
    );
}

#[test]
fn bad_payloads_are_invalid_not_panics() {
    assert_refuses(
        &Dozaar,
        &[
            (
                "join:conversation",
                json!({}),
                "missing field `conversationId`",
            ),
            ("join:conversation", json!("x"), "invalid payload"),
            (
                "send:message",
                json!({"conversationId": "nope"}),
                "invalid payload",
            ),
            (
                "get:online_status",
                json!({"userIds": ["bad id"]}),
                "invalid payload",
            ),
            ("mark:read", json!(null), "invalid payload"),
            (
                "edit:message",
                json!({"messageId": "7"}),
                "missing field `message`",
            ),
            (
                "delete:message",
                json!({"messageId": -1}),
                "invalid payload",
            ),
            ("no:such", json!({}), "unknown event \"no:such\""),
        ],
    );
}

#[test]
fn errors_become_exception_events() {
    let outs = Dozaar.encode_error("join:conversation", &CoreError::NotFound("conversation"));
    assert_eq!(
        outs,
        vec![
            Out::Emit(
                "exception",
                json!({"event": "join:conversation", "error": "conversation not found", "code": "NOT_FOUND"})
            ),
            Out::Ack(
                json!({"success": false, "error": "conversation not found", "code": "NOT_FOUND"})
            ),
        ]
    );
}

#[test]
fn a_retried_send_is_shown_the_stored_message_again() {
    let sent = |created| Outcome::Sent {
        message: message(),
        sender: summary("alice"),
        created,
        conversation: ids(),
        members: members(),
    };
    let first = Dozaar.encode(&actor("alice"), "send:message", &sent(true));
    assert!(matches!(&first[..], [Out::Ack(v)] if v["duplicate"] == false));
    let retry = Dozaar.encode(&actor("alice"), "send:message", &sent(false));
    assert!(
        matches!(&retry[..], [Out::Emit("new:message", m), Out::Ack(v)] if v["duplicate"] == true && m["id"] == MESSAGE_UUID)
    );
}

#[test]
fn domain_events_render_to_emits() {
    let new_message = json!({
        "id": MESSAGE_UUID,
        "conversationId": CONV,
        "senderId": "alice",
        "message": "hi",
        "attachmentUrls": [],
        "clientId": null,
        "seq": 5,
        "createdAt": "2023-11-14T22:13:20.000Z",
        "updatedAt": "2023-11-14T22:13:20.000Z",
        "editedAt": null,
        "deletedAt": null,
        "sender": {"id": "alice", "username": "Alice", "displayName": "Alice", "avatarUrl": null},
    });
    let edited = Message {
        text: Some("fixed".into()),
        edited_at: Some(AT + 1000),
        ..message()
    };
    assert_renders(
        &Dozaar,
        vec![
            (
                message_created(None),
                vec![
                    Delivery::new_message(
                        vec!["c:3".into()],
                        "new:message",
                        new_message,
                        receipt(),
                    ),
                    Delivery::Emit {
                        to: vec!["u:bob".into()],
                        except: vec!["c:3".into()],
                        event: "message:notification",
                        data: json!({
                            "conversationId": CONV,
                            "messageId": MESSAGE_UUID,
                            "preview": "hi",
                            "sender": {"id": "alice", "username": "Alice"},
                            "timestamp": AT,
                        }),
                        receipt: None,
                    },
                ],
            ),
            (
                DomainEvent::MessageEdited {
                    message: edited,
                    sender: summary("alice"),
                    members: members(),
                },
                vec![Delivery::to_rooms(
                    vec!["c:3".into()],
                    "message:updated",
                    json!({
                        "id": MESSAGE_UUID,
                        "conversationId": CONV,
                        "senderId": "alice",
                        "message": "fixed",
                        "attachmentUrls": [],
                        "clientId": null,
                        "seq": 5,
                        "createdAt": "2023-11-14T22:13:20.000Z",
                        "updatedAt": "2023-11-14T22:13:21.000Z",
                        "editedAt": "2023-11-14T22:13:21.000Z",
                        "deletedAt": null,
                    }),
                )],
            ),
            (
                DomainEvent::MessageDeleted {
                    message: message(),
                    members: members(),
                },
                vec![Delivery::to_rooms(
                    vec!["c:3".into()],
                    "message:deleted",
                    json!({"messageId": MESSAGE_UUID, "conversationId": CONV}),
                )],
            ),
            (
                read_by_bob(),
                vec![Delivery::to_rooms(
                    vec!["u:alice".into()],
                    "message:read",
                    json!({
                        "messageId": MESSAGE_UUID,
                        "conversationId": CONV,
                        "readBy": "bob",
                        "readUpToSeq": 5,
                        "timestamp": AT,
                    }),
                )],
            ),
            (
                typing("alice", true, false),
                vec![Delivery::Emit {
                    to: vec!["c:3".into()],
                    except: vec!["u:alice".into()],
                    event: "user:typing",
                    data: json!({"conversationId": CONV, "userId": "alice", "username": "Alice"}),
                    receipt: None,
                }],
            ),
            (
                typing("bob", false, false),
                vec![Delivery::Emit {
                    to: vec!["c:3".into()],
                    except: vec!["u:bob".into()],
                    event: "user:stopped_typing",
                    data: json!({"conversationId": CONV, "userId": "bob", "username": "bob"}),
                    receipt: None,
                }],
            ),
            (
                presence(true),
                vec![Delivery::to_rooms(
                    vec!["u:bob".into()],
                    "user:online",
                    json!({"userId": "alice", "timestamp": AT}),
                )],
            ),
            (
                presence(false),
                vec![Delivery::to_rooms(
                    vec!["u:bob".into()],
                    "user:offline",
                    json!({"userId": "alice", "timestamp": AT}),
                )],
            ),
            (
                presence_to_everyone(true),
                vec![Delivery::Emit {
                    to: vec!["everyone".into()],
                    except: vec!["u:alice".into()],
                    event: "user:online",
                    data: json!({"userId": "alice", "timestamp": AT}),
                    receipt: None,
                }],
            ),
            (
                bob_removed(),
                vec![Delivery::Leave {
                    of: "u:bob".into(),
                    room: "c:3".into(),
                }],
            ),
            (
                DomainEvent::Unblocked {
                    by: user("alice"),
                    other: user("bob"),
                },
                vec![],
            ),
        ],
    );
}

proptest! {
    #[test]
    fn decoding_arbitrary_json_never_panics(event in arb_event(EVENTS), payload in arb_json(KEYS)) {
        decodes_or_refuses(&Dozaar, &event, &payload)?;
    }
}

#[test]
fn the_token_is_the_header_else_auth_token_else_the_query() {
    let token = Dozaar.handshake().token;
    let all = request("/socket.io/?token=q", &[("authorization", "Bearer h")]);
    assert_eq!(
        token(&all, Some(&json!({"token": "a"}))).as_deref(),
        Some("h")
    );
    let no_header = request("/socket.io/?token=q", &[]);
    assert_eq!(
        token(&no_header, Some(&json!({"token": "Bearer a"}))).as_deref(),
        Some("a")
    );
    // A Socket.IO v2 client has no auth object: the handshake request's
    // query, or its namespace's (`io(url + '/chat', { query: { token } })`),
    // which arrives as the auth object.
    assert_eq!(token(&no_header, None).as_deref(), Some("q"));
    let v2 = request("/socket.io/?EIO=3&transport=polling", &[]);
    assert_eq!(
        token(&v2, Some(&json!({"token": "n"}))).as_deref(),
        Some("n")
    );
    assert_eq!(token(&v2, None), None);
}

#[test]
fn updated_at_is_the_last_change_a_deletion_after_an_edit_included() {
    let updated = |edited_at, deleted_at| {
        message_json(
            &Message {
                edited_at,
                deleted_at,
                ..message()
            },
            None,
        )["updatedAt"]
            .clone()
    };
    assert_eq!(updated(None, None), json!("2023-11-14T22:13:20.000Z"));
    assert_eq!(
        updated(Some(AT + 1000), None),
        json!("2023-11-14T22:13:21.000Z")
    );
    assert_eq!(
        updated(Some(AT + 1000), Some(AT + 2000)),
        json!("2023-11-14T22:13:22.000Z"),
        "edited, then deleted: the deletion"
    );
    assert_eq!(
        updated(None, Some(AT + 2000)),
        json!("2023-11-14T22:13:22.000Z")
    );
}
