//! Voxora's tables, both namespaces: the handshake (admissions, uploads),
//! events in, commands out; outcomes, errors and domain events in, emits
//! out; and any JSON decodes without a panic.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::core::{ConversationKind, Department as DepartmentRow, Upload};
use crate::dialects::testing::*;

const EVENTS: &[&str] = &[
    "send_message",
    "typing_start",
    "typing_stop",
    "join_conversation",
    "leave_conversation",
];

const KEYS: &[&str] = &["conversationId", "content", "type", "clientId"];

fn send(conversation: i64, text: Option<&str>, attachments: &[&str], kind: MessageKind) -> Command {
    Command::Send {
        conversation: ConversationTarget::Ref(row(conversation)),
        message: SendMessage {
            text: text.map(str::to_owned),
            attachments: attachments.iter().map(|a| (*a).into()).collect(),
            client_id: None,
            kind: Some(kind),
            declared_kind: None,
        },
    }
}

fn department(id: i64) -> DepartmentRow {
    DepartmentRow {
        id,
        uuid: uuid(MESSAGE_UUID),
        name: "Sales".into(),
        created_by: user("alice"),
        created_at: AT,
    }
}

#[test]
fn the_token_is_auth_token_else_the_header_else_the_query() {
    for token in [Voxora.handshake().token, Department.handshake().token] {
        let header = request("/socket.io/?token=q", &[("authorization", "Bearer h")]);
        assert_eq!(
            token(&header, Some(&json!({"token": "t"}))).as_deref(),
            Some("t")
        );
        assert_eq!(token(&header, Some(&json!({}))).as_deref(), Some("h"));
        // A Socket.IO v2 client's query: the handshake request's, and (on
        // `/department`) its namespace's, which arrives as the auth object.
        let query = request("/socket.io/?EIO=3&departmentId=4&token=q", &[]);
        assert_eq!(token(&query, None).as_deref(), Some("q"));
        assert_eq!(
            token(&query, Some(&json!({"departmentId": "4", "token": "n"}))).as_deref(),
            Some("n")
        );
        assert_eq!(token(&request("/socket.io/", &[]), None), None);
    }
}

#[test]
fn a_socket_is_admitted_to_its_rooms_and_agents_to_their_department() {
    let any = request("/socket.io/", &[]);
    let main = Voxora.handshake().admission.expect("an admission");
    assert_eq!((main.command)(&any, None), Ok(Command::Rooms));
    assert_eq!(
        (main.refusal)(&CoreError::NotFound("user")),
        "user not found"
    );

    let agents = Department.handshake().admission.expect("an admission");
    let of = |uri| (agents.command)(&request(uri, &[]), None);
    assert_eq!(
        of("/socket.io/?departmentId=4"),
        Ok(Command::AgentOf { department: row(4) })
    );
    let missing = Err("departmentId is required: not an agent of this department".to_owned());
    assert_eq!(of("/socket.io/"), missing);
    assert_eq!(of("/socket.io/?departmentId=sales"), missing);
    // A Socket.IO v2 client's namespace query (the auth object) names the
    // department too, and wins over the connection's query.
    let in_auth = |uri, auth: Value| (agents.command)(&request(uri, &[]), Some(&auth));
    assert_eq!(
        in_auth(
            "/socket.io/?EIO=3",
            json!({"departmentId": "5", "token": "t"})
        ),
        Ok(Command::AgentOf { department: row(5) })
    );
    assert_eq!(
        in_auth("/socket.io/?departmentId=4", json!({"departmentId": 5})),
        Ok(Command::AgentOf { department: row(5) })
    );
    assert_eq!(
        in_auth("/socket.io/?departmentId=4", json!({"token": "t"})),
        Ok(Command::AgentOf { department: row(4) })
    );
    assert_eq!(
        in_auth("/socket.io/", json!({"departmentId": "sales"})),
        missing
    );
    assert_eq!(
        (agents.refusal)(&CoreError::NotFound("department")),
        "not an agent of this department"
    );
    assert_eq!(
        (agents.refusal)(&CoreError::Unauthenticated),
        "authentication required"
    );

    for handshake in [Voxora.handshake(), Department.handshake()] {
        assert_eq!(handshake.upload_event, Some("file_upload"));
    }
}

#[test]
fn client_events_decode_to_commands() {
    assert_decodes(
        &Voxora,
        vec![
            (
                "send_message",
                json!({"conversationId": "123", "content": "Hello!", "type": "text"}),
                send(123, Some("Hello!"), &[], MessageKind::Text),
            ),
            (
                "send_message",
                json!({"conversationId": 7, "content": "/uploads/image/x.webp", "type": "image"}),
                send(7, None, &["/uploads/image/x.webp"], MessageKind::Image),
            ),
            (
                "send_message",
                json!({"conversationId": 7, "content": "/uploads/f.pdf", "type": "file"}),
                send(7, None, &["/uploads/f.pdf"], MessageKind::File),
            ),
            (
                "send_message",
                json!({"conversationId": "7", "content": "no type is text", "clientId": "c-1"}),
                Command::Send {
                    conversation: ConversationTarget::Ref(row(7)),
                    message: SendMessage {
                        text: Some("no type is text".into()),
                        attachments: vec![],
                        client_id: Some("c-1".into()),
                        kind: Some(MessageKind::Text),
                        declared_kind: None,
                    },
                },
            ),
            (
                "typing_start",
                json!({"conversationId": "3"}),
                Command::Typing {
                    conversation: ConversationTarget::Ref(row(3)),
                    typing: true,
                    recording: false,
                    name: None,
                },
            ),
            (
                "typing_stop",
                json!({"conversationId": 3}),
                Command::Typing {
                    conversation: ConversationTarget::Ref(row(3)),
                    typing: false,
                    recording: false,
                    name: None,
                },
            ),
            (
                "join_conversation",
                json!({"conversationId": "3"}),
                Command::Join {
                    conversation: ConversationTarget::Ref(row(3)),
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
            // The bare id the Voxora code sends, as a string or a number.
            (
                "join_conversation",
                json!("3"),
                Command::Join {
                    conversation: ConversationTarget::Ref(row(3)),
                },
            ),
            (
                "join_conversation",
                json!(3),
                Command::Join {
                    conversation: ConversationTarget::Ref(row(3)),
                },
            ),
            (
                "join_conversation",
                json!(CONVERSATION_UUID),
                Command::Join {
                    conversation: ConversationTarget::Ref(
                        RowRef::parse(CONVERSATION_UUID).unwrap(),
                    ),
                },
            ),
            (
                "leave_conversation",
                json!("12"),
                Command::Leave {
                    conversation: ConversationTarget::Ref(row(12)),
                },
            ),
        ],
    );
}

#[test]
fn bad_payloads_are_invalid() {
    assert_refuses(
        &Voxora,
        &[
            (
                "send_message",
                json!({ "content": "x" }),
                "missing field `conversationId`",
            ),
            (
                "send_message",
                json!({ "conversationId": "1", "content": 5 }),
                "invalid payload",
            ),
            (
                "send_message",
                json!({ "conversationId": "1", "content": "x", "type": "video" }),
                "type must be text, image or file",
            ),
            ("send_message", json!("just a string"), "invalid payload"),
            (
                "typing_start",
                json!({ "conversationId": "not an id!" }),
                "invalid payload",
            ),
            ("join_conversation", json!(null), "invalid payload"),
            (
                "join_conversation",
                json!("not a conversation!"),
                "invalid payload: not a conversation id",
            ),
            (
                "leave_conversation",
                json!(-1),
                "invalid payload: not a conversation id",
            ),
            ("leave_conversation", json!(true), "invalid payload"),
            // Only the rooms take a bare id.
            ("typing_start", json!("3"), "invalid payload"),
            ("file_upload", json!({}), "unknown event \"file_upload\""),
            ("nope", json!({}), "unknown event \"nope\""),
        ],
    );
}

#[test]
fn a_rate_limited_send_is_told_with_rate_limit_exceeded() {
    let outs = encode_error(
        "send_message",
        &CoreError::RateLimited {
            retry_after_ms: 1200,
        },
    );
    assert!(matches!(&outs[0], Out::Emit("rate_limit_exceeded", v) if v["retryAfterMs"] == 1200));
    let outs = encode_error("send_message", &CoreError::NotFound("conversation"));
    assert_eq!(
        outs,
        vec![
            Out::Emit(
                "message_error",
                json!({"error": "conversation not found", "code": "NOT_FOUND", "event": "send_message"})
            ),
            Out::Ack(json!({"error": "conversation not found", "code": "NOT_FOUND"})),
        ]
    );
}

#[test]
fn a_send_is_acknowledged_with_the_message_and_a_retry_is_told_again() {
    let alice = actor("alice");
    let sent = |created| Outcome::Sent {
        message: message(),
        sender: summary("alice"),
        created,
        conversation: ids(),
        members: members(),
    };
    let m = message_json(&message(), &summary("alice"));
    // message_delivered comes through the fan-out, after new_message.
    assert_eq!(encode(&alice, &sent(true)), vec![Out::Ack(m.clone())]);
    // A retry with the same clientId stored nothing and published nothing:
    // the retrying socket is told here, in the same order.
    assert_eq!(
        encode(&alice, &sent(false)),
        vec![
            Out::Emit("new_message", m.clone()),
            Out::Emit("message_delivered", json!("7")),
            Out::Ack(m),
        ]
    );
}

#[test]
fn joining_tells_the_room_who_joined() {
    let outs = encode(
        &actor("alice"),
        &Outcome::Joined {
            conversation: Conversation {
                id: 12,
                ..conversation(ConversationKind::Group, None)
            },
            members: vec![],
        },
    );
    assert_eq!(outs[0], Out::View(12));
    assert!(matches!(&outs[1], Out::Broadcast(room, "user_joined", v)
        if room == "c:12" && v["userId"] == "alice" && v["conversationId"] == "12"));
}

#[test]
fn outcomes_encode_to_rooms_and_acknowledgements() {
    let alice = actor("alice");
    assert_eq!(
        encode(
            &alice,
            &Outcome::Rooms {
                conversations: vec![3, 4],
                departments: vec![department(2)],
            }
        ),
        vec![
            Out::Join("c:3".into()),
            Out::Join("c:4".into()),
            Out::Join("dept_2".into()),
        ]
    );
    let upload = Upload {
        path: "/uploads/image/x.webp".into(),
        owner: user("alice"),
        kind: MessageKind::Image,
        content_type: "image/webp".into(),
        size: 42,
        created_at: AT,
    };
    assert_eq!(
        encode(&alice, &Outcome::Uploaded(upload)),
        vec![Out::Ack(json!({
            "url": "/uploads/image/x.webp",
            "path": "/uploads/image/x.webp",
            "type": "image",
            "contentType": "image/webp",
            "size": 42,
        }))]
    );
}

#[test]
fn domain_events_render_to_emits_and_rooms() {
    let new_message = json!({
        "_id": "7",
        "id": "7",
        "uuid": MESSAGE_UUID,
        "conversationId": "3",
        "senderId": "alice",
        "sender": {"id": "alice", "name": "Alice", "avatar": null},
        "content": "hi",
        "type": "text",
        "attachments": [],
        "seq": 5,
        "clientId": null,
        "timestamp": "2023-11-14T22:13:20.000Z",
        "createdAt": "2023-11-14T22:13:20.000Z",
        "updatedAt": "2023-11-14T22:13:20.000Z",
    });
    let support = conversation(ConversationKind::Group, Some(2));
    let new_conversation = json!({
        "id": "3",
        "uuid": CONVERSATION_UUID,
        "departmentId": "2",
        "title": null,
        "createdBy": "alice",
        "visitor": {"id": "alice"},
        "createdAt": "2023-11-14T22:13:20.000Z",
    });
    let created = DomainEvent::ConversationCreated {
        conversation: support,
        members: members(),
    };
    let agent_removed = DomainEvent::AgentRemoved {
        department: 2,
        user: user("bob"),
    };
    let bob_leaves_department = Delivery::Leave {
        of: "u:bob".into(),
        room: "dept_2".into(),
    };
    assert_renders(
        &Voxora,
        vec![
            // message_delivered to the sending socket alone, after the room.
            (
                through(message_created(Some(2)), "/#s1"),
                vec![
                    Delivery::new_message(
                        vec!["c:3".into(), "dept_2".into()],
                        "new_message",
                        new_message.clone(),
                        receipt(),
                    ),
                    Delivery::to_rooms(vec!["s:/#s1".into()], "message_delivered", json!("7")),
                ],
            ),
            // Sent over REST: no socket to tell.
            (
                message_created(Some(2)),
                vec![Delivery::new_message(
                    vec!["c:3".into(), "dept_2".into()],
                    "new_message",
                    new_message.clone(),
                    receipt(),
                )],
            ),
            (
                typing("alice", true, false),
                vec![Delivery::Emit {
                    to: vec!["c:3".into()],
                    except: vec!["u:alice".into()],
                    event: "user_typing",
                    data: json!({"userId": "alice", "userName": "Alice", "conversationId": "3", "isTyping": true}),
                    receipt: None,
                }],
            ),
            (
                presence(true),
                vec![Delivery::to_rooms(
                    vec!["u:bob".into()],
                    "user_online",
                    json!({"userId": "alice"}),
                )],
            ),
            (
                presence(false),
                vec![Delivery::to_rooms(
                    vec!["u:bob".into()],
                    "user_offline",
                    json!({"userId": "alice"}),
                )],
            ),
            // Everyone may see it: every identified socket but hers.
            (
                presence_to_everyone(true),
                vec![Delivery::Emit {
                    to: vec!["everyone".into()],
                    except: vec!["u:alice".into()],
                    event: "user_online",
                    data: json!({"userId": "alice"}),
                    receipt: None,
                }],
            ),
            (
                presence_to_everyone(false),
                vec![Delivery::Emit {
                    to: vec!["everyone".into()],
                    except: vec!["u:alice".into()],
                    event: "user_offline",
                    data: json!({"userId": "alice"}),
                    receipt: None,
                }],
            ),
            (
                created.clone(),
                vec![
                    Delivery::Join {
                        of: vec!["u:alice".into(), "u:bob".into()],
                        room: "c:3".into(),
                    },
                    Delivery::to_rooms(
                        vec!["dept_2".into()],
                        "new_conversation",
                        new_conversation.clone(),
                    ),
                ],
            ),
            (
                DomainEvent::MemberAdded {
                    conversation: ids(),
                    user: user("carol"),
                    members: vec![],
                },
                vec![Delivery::Join {
                    of: vec!["u:carol".into()],
                    room: "c:3".into(),
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
                DomainEvent::AgentAdded {
                    department: 2,
                    user: user("bob"),
                },
                vec![Delivery::Join {
                    of: vec!["u:bob".into()],
                    room: "dept_2".into(),
                }],
            ),
            (agent_removed.clone(), vec![bob_leaves_department.clone()]),
        ],
    );
    assert_renders(
        &Department,
        vec![
            (
                message_created(Some(2)),
                vec![Delivery::to_rooms(
                    vec!["dept_2".into()],
                    "new_message",
                    new_message.clone(),
                )],
            ),
            (message_created(None), vec![]),
            // Sent through a /department socket: it is told, after the
            // department room (a socket key names its namespace: the one
            // of `/` is not in this namespace's rooms).
            (
                through(message_created(Some(2)), "/department#s2"),
                vec![
                    Delivery::to_rooms(vec!["dept_2".into()], "new_message", new_message),
                    Delivery::to_rooms(
                        vec!["s:/department#s2".into()],
                        "message_delivered",
                        json!("7"),
                    ),
                ],
            ),
            (
                through(message_created(None), "/department#s2"),
                vec![Delivery::to_rooms(
                    vec!["s:/department#s2".into()],
                    "message_delivered",
                    json!("7"),
                )],
            ),
            (presence_to_everyone(true), vec![]),
            (
                created,
                vec![Delivery::to_rooms(
                    vec!["dept_2".into()],
                    "new_conversation",
                    new_conversation,
                )],
            ),
            (agent_removed, vec![bob_leaves_department]),
            (typing("alice", true, false), vec![]),
        ],
    );
}

proptest! {
    #[test]
    fn decoding_arbitrary_json_never_panics(event in arb_event(EVENTS), payload in arb_json(KEYS)) {
        decodes_or_refuses(&Voxora, &event, &payload)?;
        decodes_or_refuses(&Department, &event, &payload)?;
    }
}
