//! JobSpare's tables: events in, commands out (conversation ids as refs or
//! `<userA>_<userB>` pairs); outcomes, errors and domain events in, emits
//! out; and any JSON decodes without a panic.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::dialects::testing::*;

const EVENTS: &[&str] = &[
    "join_conversation",
    "leave_conversation",
    "send_message",
    "mark_as_read",
    "typing_start",
    "typing_stop",
    "get_online_status",
];

const KEYS: &[&str] = &[
    "conversationId",
    "receiverId",
    "messageType",
    "content",
    "text",
    "fileUrl",
    "fileName",
    "fileSize",
    "clientId",
    "messageIds",
    "userId",
];

/// A message of alice's before [`message`].
const EARLIER_UUID: &str = "0190a1b2-0000-7000-8000-000000000001";

fn pair(p: &str) -> ConversationTarget {
    ConversationTarget::Pair(p.to_owned())
}

#[test]
fn sockets_are_sent_conversations_under_the_names_they_use() {
    assert_eq!(
        JobSpare.handshake().conversation_field,
        Some("conversationId")
    );
}

#[test]
fn the_token_is_auth_token_else_the_header_else_the_query_and_a_socket_is_greeted() {
    let handshake = JobSpare.handshake();
    let header = request("/socket.io/?token=q", &[("authorization", "Bearer h")]);
    assert_eq!(
        (handshake.token)(&header, Some(&json!({"token": "Bearer t"}))).as_deref(),
        Some("t")
    );
    // A Socket.IO v2 client has no auth object: its header, or its query.
    assert_eq!((handshake.token)(&header, None).as_deref(), Some("h"));
    let query = request("/socket.io/?EIO=3&transport=websocket&token=q", &[]);
    assert_eq!((handshake.token)(&query, None).as_deref(), Some("q"));
    assert_eq!((handshake.token)(&request("/socket.io/", &[]), None), None);
    let greeting = handshake.greeting.expect("JobSpare greets its sockets");
    assert_eq!(
        greeting(&actor("alice")),
        ("authenticated", json!({"userId": "alice", "success": true}))
    );
}

#[test]
fn client_events_decode_to_commands() {
    assert_decodes(
        &JobSpare,
        vec![
            (
                "join_conversation",
                json!({"conversationId": "42"}),
                Command::Join {
                    conversation: ConversationTarget::Ref(row(42)),
                },
            ),
            (
                "join_conversation",
                json!({"conversationId": "user123_user456"}),
                Command::Join {
                    conversation: pair("user123_user456"),
                },
            ),
            (
                "leave_conversation",
                json!({"conversationId": CONVERSATION_UUID}),
                Command::Leave {
                    conversation: ConversationTarget::Ref(
                        RowRef::parse(CONVERSATION_UUID).unwrap(),
                    ),
                },
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "receiverId": "b", "messageType": "text", "content": {"text": "hi"}, "clientId": "c-1"}),
                Command::Send {
                    conversation: pair("a_b"),
                    message: SendMessage {
                        text: Some("hi".into()),
                        attachments: vec![],
                        client_id: Some("c-1".into()),
                        kind: Some(MessageKind::Text),
                        declared_kind: None,
                    },
                },
            ),
            (
                "send_message",
                json!({"conversationId": 3, "content": {"text": "no type is text"}}),
                Command::Send {
                    conversation: ConversationTarget::Ref(row(3)),
                    message: SendMessage {
                        text: Some("no type is text".into()),
                        attachments: vec![],
                        client_id: None,
                        kind: Some(MessageKind::Text),
                        declared_kind: None,
                    },
                },
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "receiverId": "b", "messageType": "image",
                       "content": {"fileUrl": "/uploads/x.jpg", "fileName": "x.jpg", "fileSize": 3}}),
                Command::Send {
                    conversation: pair("a_b"),
                    message: SendMessage {
                        text: None,
                        attachments: vec![Attachment {
                            url: "/uploads/x.jpg".into(),
                            meta: AttachmentMeta {
                                name: Some("x.jpg".into()),
                                size: Some(3),
                                ..AttachmentMeta::default()
                            },
                        }],
                        client_id: None,
                        kind: Some(MessageKind::Image),
                        declared_kind: None,
                    },
                },
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "file",
                       "content": {"fileUrl": "/uploads/cv.pdf", "text": "my cv"}}),
                Command::Send {
                    conversation: pair("a_b"),
                    message: SendMessage {
                        text: Some("my cv".into()),
                        attachments: vec!["/uploads/cv.pdf".into()],
                        client_id: None,
                        kind: Some(MessageKind::File),
                        declared_kind: None,
                    },
                },
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "file",
                       "content": {"fileUrl": "https://cdn.example/cv.pdf", "fileName": "", "fileSize": null}}),
                Command::Send {
                    conversation: pair("a_b"),
                    message: SendMessage {
                        text: None,
                        attachments: vec!["https://cdn.example/cv.pdf".into()],
                        client_id: None,
                        kind: Some(MessageKind::File),
                        declared_kind: None,
                    },
                },
            ),
            (
                "mark_as_read",
                json!({"conversationId": "a_b", "messageIds": ["7", 8]}),
                Command::ReadMessages {
                    conversation: pair("a_b"),
                    messages: vec![row(7), row(8)],
                },
            ),
            (
                "mark_as_read",
                json!({"conversationId": "a_b"}),
                Command::ReadMessages {
                    conversation: pair("a_b"),
                    messages: vec![],
                },
            ),
            (
                "typing_start",
                json!({"conversationId": "a_b"}),
                Command::Typing {
                    conversation: pair("a_b"),
                    typing: true,
                    recording: false,
                    name: None,
                },
            ),
            (
                "typing_stop",
                json!({"conversationId": "a_b"}),
                Command::Typing {
                    conversation: pair("a_b"),
                    typing: false,
                    recording: false,
                    name: None,
                },
            ),
            (
                "get_online_status",
                json!({"userId": "bob"}),
                Command::OnlineStatus {
                    users: vec![user("bob")],
                },
            ),
        ],
    );
}

#[test]
fn bad_payloads_are_invalid() {
    let bad_id = "conversationId must be a conversation id or <userA>_<userB>";
    assert_refuses(
        &JobSpare,
        &[
            (
                "join_conversation",
                json!({"conversationId": "no underscore!"}),
                bad_id,
            ),
            ("join_conversation", json!({"conversationId": null}), bad_id),
            ("join_conversation", json!({"conversationId": " "}), bad_id),
            (
                "join_conversation",
                json!({}),
                "missing field `conversationId`",
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "text", "content": {}}),
                "content.text is required",
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "text", "content": {"text": "  "}}),
                "content.text is required",
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "image", "content": {"text": "x"}}),
                "content.fileUrl is required",
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "video", "content": {"text": "x"}}),
                "messageType must be text, image or file",
            ),
            (
                "send_message",
                json!({"conversationId": "a_b"}),
                "missing field `content`",
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "file",
                       "content": {"fileUrl": "/uploads/cv.pdf", "fileSize": "245678"}}),
                "content.fileSize must be a whole number of bytes",
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "file",
                       "content": {"fileUrl": "/uploads/cv.pdf", "fileSize": -1}}),
                "content.fileSize must be a whole number of bytes",
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "file",
                       "content": {"fileUrl": "/uploads/cv.pdf", "fileSize": 1.5}}),
                "content.fileSize must be a whole number of bytes",
            ),
            (
                "send_message",
                json!({"conversationId": "a_b", "messageType": "file",
                       "content": {"fileUrl": "/uploads/cv.pdf", "fileName": 7}}),
                "invalid payload",
            ),
            (
                "mark_as_read",
                json!({"conversationId": "a_b", "messageIds": ["msg1"]}),
                "invalid payload",
            ),
            ("get_online_status", json!({"userId": 5}), "invalid payload"),
            ("nope", json!({}), "unknown event \"nope\""),
        ],
    );
}

#[test]
fn a_join_names_the_conversation_as_the_app_does() {
    let outs = JobSpare.encode(
        &actor("alice"),
        "join_conversation",
        &Outcome::Joined {
            conversation: conversation(crate::core::ConversationKind::Direct, None),
            members: members(),
        },
    );
    assert_eq!(
        outs,
        vec![
            Out::View(3),
            Out::Emit(
                "joined_conversation",
                json!({"conversationId": "alice_bob", "id": 3, "uuid": CONVERSATION_UUID})
            ),
            Out::Ack(json!({"conversationId": "alice_bob", "id": 3, "uuid": CONVERSATION_UUID})),
        ]
    );
}

#[test]
fn every_success_answers_an_acknowledgement_callback() {
    let c = conversation(crate::core::ConversationKind::Direct, None);
    let acks = |outcome: &Outcome| -> Vec<Value> {
        JobSpare
            .encode(&actor("alice"), "any", outcome)
            .into_iter()
            .filter_map(|o| match o {
                Out::Ack(v) => Some(v),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        acks(&Outcome::Left(c.clone())),
        vec![json!({"success": true})]
    );
    assert_eq!(
        acks(&Outcome::Typing {
            conversation: c.clone(),
            typing: true,
        }),
        vec![json!({"success": true})]
    );
}

#[test]
fn domain_events_render_to_emits() {
    let group = ConversationIds {
        direct: false,
        external_id: None,
        ..ids()
    };
    let delivered = DomainEvent::MessagesDelivered {
        conversation: ids(),
        message: DeliveredMessage::new(&message(), ids()),
        recipients: vec![user("alice"), user("bob")],
        up_to_seq: 5,
        at: AT,
        members: members(),
    };
    let new_message = json!({
        "_id": MESSAGE_UUID,
        "id": 7,
        "conversationId": "alice_bob",
        "senderId": {"_id": "alice", "name": "Alice", "avatar": null},
        "receiverId": "bob",
        "messageType": "text",
        "content": {"text": "hi"},
        "status": "sent",
        "seq": 5,
        "timestamp": "2023-11-14T22:13:20.000Z",
    });
    let from_a_socket = through(message_created(None), "/#abc");
    let read_three = match read_by_bob() {
        DomainEvent::MessagesRead {
            conversation,
            reader,
            up_to_seq,
            message,
            at,
            members,
            ..
        } => DomainEvent::MessagesRead {
            conversation,
            reader,
            up_to_seq,
            message,
            at,
            members,
            covered: vec![uuid(EARLIER_UUID), uuid(MESSAGE_UUID)],
        },
        other => other,
    };
    assert_renders(
        &JobSpare,
        vec![
            // To every member's sockets, whether or not they joined.
            (
                message_created(None),
                vec![Delivery::Emit {
                    to: vec!["u:alice".into(), "u:bob".into()],
                    except: vec![],
                    event: "new_message",
                    data: new_message.clone(),
                    receipt: Some(receipt()),
                }],
            ),
            // But the socket it was sent from.
            (
                from_a_socket,
                vec![Delivery::Emit {
                    to: vec!["u:alice".into(), "u:bob".into()],
                    except: vec!["s:/#abc".into()],
                    event: "new_message",
                    data: new_message,
                    receipt: Some(receipt()),
                }],
            ),
            (
                delivered,
                vec![Delivery::to_rooms(
                    vec!["u:alice".into()],
                    "message_delivered",
                    json!({
                        "messageId": MESSAGE_UUID,
                        "conversationId": "alice_bob",
                        "deliveredTo": "bob",
                        "upToSeq": 5,
                        "deliveredAt": "2023-11-14T22:13:20.000Z",
                    }),
                )],
            ),
            (
                read_by_bob(),
                vec![Delivery::to_rooms(
                    vec!["u:alice".into()],
                    "message_read",
                    json!({
                        "messageIds": [MESSAGE_UUID],
                        "readBy": "bob",
                        "conversationId": "alice_bob",
                        "upToSeq": 5,
                        "readAt": "2023-11-14T22:13:20.000Z",
                    }),
                )],
            ),
            (
                DomainEvent::Typing {
                    conversation: group,
                    user: summary("bob"),
                    typing: true,
                    recording: false,
                    name: None,
                    members: vec![user("alice"), user("bob"), user("carol")],
                },
                vec![Delivery::Emit {
                    to: vec!["c:3".into()],
                    except: vec!["u:bob".into()],
                    event: "user_typing",
                    data: json!({"conversationId": CONVERSATION_UUID, "userId": "bob", "isTyping": true}),
                    receipt: None,
                }],
            ),
            // Every message the read covers.
            (
                read_three,
                vec![Delivery::to_rooms(
                    vec!["u:alice".into()],
                    "message_read",
                    json!({
                        "messageIds": [EARLIER_UUID, MESSAGE_UUID],
                        "readBy": "bob",
                        "conversationId": "alice_bob",
                        "upToSeq": 5,
                        "readAt": "2023-11-14T22:13:20.000Z",
                    }),
                )],
            ),
            (
                presence(true),
                vec![Delivery::to_rooms(
                    vec!["u:bob".into()],
                    "user_online_status",
                    json!({"userId": "alice", "isOnline": true, "lastSeen": null}),
                )],
            ),
            (
                presence(false),
                vec![Delivery::to_rooms(
                    vec!["u:bob".into()],
                    "user_online_status",
                    json!({"userId": "alice", "isOnline": false, "lastSeen": "2023-11-14T22:13:20.000Z"}),
                )],
            ),
            (
                presence_to_everyone(false),
                vec![Delivery::Emit {
                    to: vec!["everyone".into()],
                    except: vec!["u:alice".into()],
                    event: "user_online_status",
                    data: json!({"userId": "alice", "isOnline": false, "lastSeen": "2023-11-14T22:13:20.000Z"}),
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
        ],
    );
}

proptest! {
    #[test]
    fn decoding_arbitrary_json_never_panics(event in arb_event(EVENTS), payload in arb_json(KEYS)) {
        decodes_or_refuses(&JobSpare, &event, &payload)?;
    }
}

#[test]
fn a_file_shows_the_name_and_size_its_sender_gave() {
    let sender = summary("alice");
    let mut m = image_message();
    let content =
        |m: &Message| message_json(m, &sender, "alice_bob", Some(&user("bob")))["content"].clone();
    // Sent without them (by another dialect): the URL's last segment, no size.
    assert_eq!(
        content(&m),
        json!({"text": "look", "fileUrl": "/uploads/image/x.webp", "fileName": "x.webp", "fileSize": null})
    );
    m.attachments[0].meta = AttachmentMeta {
        name: Some("photo.jpg".into()),
        size: Some(245_678),
        content_type: Some("image/jpeg".into()),
        ..AttachmentMeta::default()
    };
    assert_eq!(
        content(&m),
        json!({"text": "look", "fileUrl": "/uploads/image/x.webp", "fileName": "photo.jpg", "fileSize": 245_678})
    );
}
