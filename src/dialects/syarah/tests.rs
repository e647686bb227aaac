//! Syarah's tables: the handshake's token and claim, events in, commands
//! out; outcomes, errors and domain events in, emits out; and any JSON
//! decodes without a panic.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::core::event::ConversationIds;
use crate::core::{ConversationSummary, Role};
use crate::dialects::testing::*;

const EVENTS: &[&str] = &[
    "createMessage",
    "findAllMessages",
    "findAllChatHeaders",
    "getMyChats",
    "joinRoom",
    "leaveRoom",
    "roomTyping",
    "updateMessage",
    "removeMessage",
    "readMessage",
    "getMyFriendships",
];

const KEYS: &[&str] = &[
    "message",
    "chatHeaderId",
    "messageType",
    "caption",
    "lastMessageId",
    "LastMessageId",
    "skipCount",
    "maxResultCount",
    "RoomsWithLastMessageIds",
    "ChatHeaderId",
    "SkipCount",
    "MaxResultCount",
    "otherUserId",
    "isTyping",
    "id",
    "ids",
    "accessToken",
];

fn send(text: Option<&str>, attachments: &[&str], kind: MessageKind) -> Command {
    Command::Send {
        conversation: row(3).into(),
        message: SendMessage {
            text: text.map(str::to_owned),
            attachments: attachments.iter().map(|a| (*a).into()).collect(),
            client_id: None,
            kind: Some(kind),
            declared_kind: None,
        },
    }
}

fn file_or_text(body: &str, kind: MessageKind, caption: Option<&str>) -> Command {
    Command::SendFileOrText {
        conversation: row(3).into(),
        body: body.to_owned(),
        kind,
        caption: caption.map(str::to_owned),
    }
}

fn conversations(catch_up: Vec<(RowRef, RowRef)>, skip: u32, limit: u32) -> Command {
    Command::Conversations {
        catch_up,
        direct_only: false,
        skip,
        limit,
    }
}

#[test]
fn the_token_is_in_the_auth_object_the_query_or_the_header() {
    let token = Syarah.handshake().token;
    let none = request("/socket.io/?userId=alice", &[]);
    assert_eq!(
        token(&none, Some(&json!({"accessToken": "Bearer t1"}))).as_deref(),
        Some("t1")
    );
    assert_eq!(
        token(&none, Some(&json!({"AccessToken": "t2"}))).as_deref(),
        Some("t2")
    );
    assert_eq!(
        token(&none, Some(&json!({"token": "t3"}))).as_deref(),
        Some("t3")
    );
    assert_eq!(
        token(&none, Some(&json!({"access_token": "t4"}))).as_deref(),
        Some("t4")
    );
    let query = request("/socket.io/?userId=alice&access_token=q1", &[]);
    assert_eq!(token(&query, None).as_deref(), Some("q1"));
    assert_eq!(
        token(&query, Some(&json!({"accessToken": "a1"}))).as_deref(),
        Some("a1")
    );
    let header = request("/socket.io/", &[("authorization", "Bearer h1")]);
    assert_eq!(token(&header, Some(&json!({}))).as_deref(), Some("h1"));
    assert_eq!(token(&none, Some(&json!({"accessToken": " "}))), None);
}

#[test]
fn the_client_claims_its_user_and_may_prove_it_in_each_event() {
    let claim = Syarah
        .handshake()
        .claim
        .expect("Syarah clients claim a user");
    let user = |uri| (claim.user)(&request(uri, &[]));
    assert_eq!(user("/socket.io/?userId=alice").as_deref(), Some("alice"));
    assert_eq!(user("/socket.io/?userId=a%40b").as_deref(), Some("a@b"));
    assert_eq!(user("/socket.io/?userId="), None);
    assert_eq!(user("/socket.io/"), None);
    let event_token = claim.event_token;
    assert_eq!(
        event_token(&json!({"accessToken": "e1"})).as_deref(),
        Some("e1")
    );
    assert_eq!(
        event_token(&json!({"AccessToken": "Bearer e2"})).as_deref(),
        Some("e2")
    );
    assert_eq!(event_token(&json!({"token": "e3"})), None);
    assert_eq!(event_token(&json!("e4")), None);
}

#[test]
fn client_events_decode_to_commands() {
    assert_decodes(
        &Syarah,
        vec![
            (
                "createMessage",
                json!({"message": "hi", "chatHeaderId": 3}),
                send(Some("hi"), &[], MessageKind::Text),
            ),
            (
                "createMessage",
                json!({"message": "hi", "chatHeaderId": "3", "messageType": 0, "caption": "ignored"}),
                send(Some("hi"), &[], MessageKind::Text),
            ),
            // Types 1–4: the core tells a file path from text.
            (
                "createMessage",
                json!({"message": "/uploads/a.jpg", "chatHeaderId": 3, "messageType": 2, "caption": "look"}),
                file_or_text("/uploads/a.jpg", MessageKind::Image, Some("look")),
            ),
            (
                "createMessage",
                json!({"message": "/uploads/a.m4a", "chatHeaderId": 3, "messageType": 1, "caption": " "}),
                file_or_text("/uploads/a.m4a", MessageKind::Audio, Some(" ")),
            ),
            // The seed's ChatClient.sendMessage(456, 'Hello, world!'): type 1 by default.
            (
                "createMessage",
                json!({"message": "Hello, world!", "chatHeaderId": 3, "accessToken": "t", "messageType": 1, "caption": ""}),
                file_or_text("Hello, world!", MessageKind::Audio, Some("")),
            ),
            (
                "findAllMessages",
                json!({"chatHeaderId": 3, "lastMessageId": 7, "skipCount": 10, "maxResultCount": 500}),
                Command::History {
                    conversation: row(3),
                    before: Some(row(7)),
                    skip: 10,
                    limit: 100,
                    include_deleted: false,
                },
            ),
            (
                "findAllMessages",
                json!({"chatHeaderId": 3, "LastMessageId": "7"}),
                Command::History {
                    conversation: row(3),
                    before: Some(row(7)),
                    skip: 0,
                    limit: 50,
                    include_deleted: false,
                },
            ),
            (
                "findAllChatHeaders",
                json!(null),
                conversations(vec![], 0, 50),
            ),
            (
                "findAllChatHeaders",
                json!({"RoomsWithLastMessageIds": [{"ChatHeaderId": 3, "LastMessageId": 7}], "SkipCount": 0, "MaxResultCount": 0}),
                conversations(vec![(row(3), row(7))], 0, 1),
            ),
            (
                "findAllChatHeaders",
                json!({"skipCount": 5, "maxResultCount": 20}),
                conversations(vec![], 5, 20),
            ),
            (
                "getMyChats",
                json!({"anything": true}),
                Command::Conversations {
                    catch_up: vec![],
                    direct_only: true,
                    skip: 0,
                    limit: u32::MAX,
                },
            ),
            (
                "joinRoom",
                json!({"chatHeaderId": 3, "otherUserId": "bob"}),
                Command::OpenRoom {
                    target: RoomTarget::Conversation(row(3)),
                },
            ),
            (
                "joinRoom",
                json!({"otherUserId": "bob"}),
                Command::OpenRoom {
                    target: RoomTarget::Peer(user("bob")),
                },
            ),
            (
                "leaveRoom",
                json!({"chatHeaderId": 3}),
                Command::Leave {
                    conversation: row(3).into(),
                },
            ),
            (
                "roomTyping",
                json!({"isTyping": true, "chatHeaderId": 3}),
                Command::Typing {
                    conversation: row(3).into(),
                    typing: true,
                    recording: false,
                    name: None,
                },
            ),
            (
                "roomTyping",
                json!({"isTyping": false, "name": "John Doe", "chatHeaderId": 3}),
                Command::Typing {
                    conversation: row(3).into(),
                    typing: false,
                    recording: false,
                    name: Some("John Doe".into()),
                },
            ),
            (
                "updateMessage",
                json!({"id": 7, "message": "fixed"}),
                Command::Edit {
                    message: row(7),
                    text: "fixed".into(),
                },
            ),
            (
                "updateMessage",
                json!({"id": 7, "message": "/uploads/a.jpg", "caption": "new caption"}),
                Command::Edit {
                    message: row(7),
                    text: "new caption".into(),
                },
            ),
            (
                "removeMessage",
                json!({"id": 7, "chatHeaderId": 3}),
                Command::DeleteMany {
                    conversation: row(3),
                    messages: vec![row(7)],
                },
            ),
            (
                "removeMessage",
                json!({"ids": [7, "8"], "id": 9, "chatHeaderId": 3}),
                Command::DeleteMany {
                    conversation: row(3),
                    messages: vec![row(7), row(8)],
                },
            ),
            (
                "removeMessage",
                json!({"ids": [], "id": 9, "chatHeaderId": 3}),
                Command::DeleteMany {
                    conversation: row(3),
                    messages: vec![row(9)],
                },
            ),
            (
                "readMessage",
                json!({"chatHeaderId": 3, "accessToken": "t"}),
                Command::ReadConversation {
                    conversation: row(3).into(),
                },
            ),
            ("getMyFriendships", json!(null), Command::Friends),
        ],
    );
}

#[test]
fn bad_payloads_are_invalid() {
    assert_refuses(
        &Syarah,
        &[
            (
                "createMessage",
                json!({"message": "x", "chatHeaderId": 3, "messageType": 9}),
                "messageType must be 0 to 4",
            ),
            (
                "createMessage",
                json!({"chatHeaderId": 3}),
                "missing field `message`",
            ),
            (
                "createMessage",
                json!({"message": "x", "chatHeaderId": 0}),
                "positive integer",
            ),
            ("findAllMessages", json!({}), "missing field `chatHeaderId`"),
            (
                "findAllMessages",
                json!({"chatHeaderId": 3, "skipCount": -1}),
                "invalid payload",
            ),
            ("findAllChatHeaders", json!("x"), "invalid payload"),
            (
                "joinRoom",
                json!({}),
                "joinRoom needs chatHeaderId or otherUserId",
            ),
            (
                "joinRoom",
                json!({"otherUserId": "bad id"}),
                "invalid payload",
            ),
            ("leaveRoom", json!(null), "invalid payload"),
            (
                "roomTyping",
                json!({"chatHeaderId": 3}),
                "missing field `isTyping`",
            ),
            (
                "roomTyping",
                json!({"isTyping": true, "name": 7, "chatHeaderId": 3}),
                "invalid payload",
            ),
            (
                "updateMessage",
                json!({"id": "abc", "message": "x"}),
                "invalid payload",
            ),
            (
                "removeMessage",
                json!({"chatHeaderId": 3}),
                "removeMessage needs id or ids",
            ),
            (
                "removeMessage",
                json!({"id": 7}),
                "missing field `chatHeaderId`",
            ),
            (
                "readMessage",
                json!({"chatHeaderId": true}),
                "invalid payload",
            ),
            ("sendMessage", json!({}), "unknown event \"sendMessage\""),
        ],
    );
}

#[test]
fn errors_are_acknowledged_and_emitted_as_exception() {
    let outs = Syarah.encode_error("joinRoom", &CoreError::Forbidden("not a member"));
    assert_eq!(
        outs,
        vec![
            Out::Ack(json!({"error": "not a member", "code": "FORBIDDEN"})),
            Out::Emit(
                "exception",
                json!({"event": "joinRoom", "error": "not a member", "code": "FORBIDDEN"})
            ),
        ]
    );
    let outs = Syarah.encode_error("readMessage", &CoreError::Unauthenticated);
    assert!(matches!(&outs[0], Out::Ack(v)
        if v["code"] == "UNAUTHENTICATED"
            && v["error"].as_str().is_some_and(|e| e.contains("send accessToken in the event"))));
}

#[test]
fn an_unidentified_connection_is_told_how_to_identify_itself() {
    // The seed's roomTyping and readMessage carry no token: the error says
    // the connection must be identified first, and how.
    for event in ["roomTyping", "readMessage"] {
        let outs = Syarah.encode_error(event, &CoreError::Unauthenticated);
        let [Out::Ack(ack), Out::Emit("exception", emitted)] = &outs[..] else {
            panic!("{outs:?}")
        };
        assert_eq!(ack["code"], "UNAUTHENTICATED");
        let error = ack["error"].as_str().expect("error text");
        assert!(
            error.starts_with("this connection is not identified yet"),
            "{error}"
        );
        assert!(
            error.contains(&format!("{event} carries no token")),
            "{error}"
        );
        assert!(
            error.contains("auth.accessToken") && error.contains("joinRoom"),
            "{error}"
        );
        assert_eq!(emitted["event"], event);
        assert_eq!(emitted["error"], ack["error"]);
    }
    // Other events carry their own token.
    let outs = Syarah.encode_error("getMyChats", &CoreError::Unauthenticated);
    assert!(matches!(&outs[0], Out::Ack(v)
        if v["error"].as_str().is_some_and(|e| e.starts_with("an access token is required"))));
    // A token that was refused says why.
    let refused = CoreError::TokenRefused("userId does not match the access token".into());
    assert_eq!(
        Syarah.encode_error("joinRoom", &refused)[0],
        Out::Ack(json!({
            "error": "access token refused: userId does not match the access token",
            "code": "UNAUTHENTICATED",
        }))
    );
}

/// A stored user with a display name and an avatar.
fn profile(id: &str, name: &str, avatar: Option<&str>) -> crate::core::User {
    crate::core::User {
        id: user(id),
        username: None,
        display_name: Some(name.into()),
        avatar_url: avatar.map(str::to_owned),
        email: None,
        placeholder: false,
        created_at: AT,
        last_seen_at: None,
        disabled: false,
        tokens_valid_after: None,
        deleted_at: None,
    }
}

#[test]
fn history_is_newest_first_with_each_sender_and_the_core_s_total() {
    // The core pages the messages that are not deleted and counts them.
    let from_bob = Message {
        id: 8,
        seq: 6,
        sender_id: user("bob"),
        ..message()
    };
    let newest = Message {
        id: 9,
        seq: 7,
        ..message()
    };
    let page = HistoryPage {
        conversation: conversation(ConversationKind::Direct, None),
        messages: vec![message(), from_bob, newest],
        total: 5,
        senders: vec![
            profile("alice", "Alice", Some("/a.png")),
            profile("bob", "Bob", None),
        ],
    };
    let outs = Syarah.encode(&actor("alice"), "findAllMessages", &Outcome::History(page));
    let [Out::Ack(v)] = &outs[..] else {
        panic!("{outs:?}")
    };
    assert_eq!(v["totalCount"], 5);
    let items = v["items"].as_array().expect("items");
    let ids: Vec<_> = items.iter().map(|m| m["id"].clone()).collect();
    assert_eq!(ids, vec![json!(9), json!(8), json!(7)]);
    // Each item carries `user` as the live `message` event does.
    assert_eq!(
        items[0]["user"],
        json!({"id": "alice", "name": "Alice", "avatar": "/a.png"})
    );
    assert_eq!(
        items[1]["user"],
        json!({"id": "bob", "name": "Bob", "avatar": null})
    );
}

#[test]
fn a_text_sent_as_a_media_type_is_shown_back_with_its_type() {
    let sent = Message {
        declared_kind: Some(MessageKind::Audio),
        text: Some("Hello, world!".into()),
        ..message()
    };
    let outcome = Outcome::Sent {
        message: sent,
        sender: summary("alice"),
        created: true,
        conversation: ids(),
        members: members(),
    };
    let outs = Syarah.encode(&actor("alice"), "createMessage", &outcome);
    let [Out::Ack(v)] = &outs[..] else {
        panic!("{outs:?}")
    };
    assert_eq!(v["messageType"], 1);
    assert_eq!(v["message"], "Hello, world!");
    assert_eq!(v["caption"], json!(null));
    assert_eq!(v["attachmentUrls"], json!([]));
}

#[test]
fn an_edit_is_acknowledged_with_its_author() {
    let edited = Message {
        edited_at: Some(AT),
        ..message()
    };
    let outs = Syarah.encode(&actor("alice"), "updateMessage", &Outcome::Edited(edited));
    let [Out::Ack(v)] = &outs[..] else {
        panic!("{outs:?}")
    };
    assert_eq!(v["user"]["id"], "alice");
    assert_eq!(v["user"]["name"], summary("alice").name());
}

#[test]
fn my_chats_show_the_peer_of_each_direct_conversation() {
    let bob = crate::core::User {
        id: user("bob"),
        username: Some("bobby".into()),
        display_name: None,
        avatar_url: Some("/b.png".into()),
        email: None,
        placeholder: false,
        created_at: AT,
        last_seen_at: None,
        disabled: false,
        tokens_valid_after: None,
        deleted_at: None,
    };
    let member = |id: &str| Member {
        conversation_id: 3,
        user_id: user(id),
        role: Role::Member,
        joined_at: AT,
        last_read_seq: 0,
        last_delivered_seq: 0,
        muted: false,
    };
    let view = ConversationView {
        summary: ConversationSummary {
            conversation: conversation(ConversationKind::Direct, None),
            members: vec![member("alice"), member("bob")],
            last_message: Some(message()),
            unread_count: 2,
        },
        users: vec![bob],
        online: vec![user("bob")],
        friendship: None,
        catch_up: vec![],
    };
    let outcome = Outcome::Conversations {
        me: user("alice"),
        views: vec![view],
        total: 1,
        direct_only: true,
    };
    assert_eq!(
        Syarah.encode(&actor("alice"), "getMyChats", &outcome),
        vec![Out::Ack(json!([{
            "chatHeaderId": 3,
            "userId": "bob",
            "userName": "bobby",
            "userAvatar": "/b.png",
            "lastMessage": "hi",
            "lastMessageTime": "2023-11-14T22:13:20.000Z",
            "creationTime": "2023-11-14T22:13:20.000Z",
            "isOnline": true,
            "unreadCount": 2,
            "friendshipStatus": null,
        }]))]
    );
}

#[test]
fn domain_events_render_to_emits() {
    let text = json!({
        "id": 7,
        "uuid": MESSAGE_UUID,
        "chatHeaderId": 3,
        "userId": "alice",
        "message": "hi",
        "messageType": 0,
        "caption": null,
        "attachmentUrls": [],
        "seq": 5,
        "creationTime": "2023-11-14T22:13:20.000Z",
        "lastModificationTime": null,
        "isDeleted": false,
        "user": {"id": "alice", "name": "Alice", "avatar": null},
    });
    let edited_image = Message {
        edited_at: Some(AT),
        ..image_message()
    };
    let carol_added = DomainEvent::MemberAdded {
        conversation: ConversationIds {
            direct: false,
            external_id: None,
            ..ids()
        },
        user: user("carol"),
        members: vec![user("alice"), user("bob"), user("carol")],
    };
    let bob_entered = DomainEvent::RoomEntered {
        conversation: ids(),
        member: Member {
            conversation_id: 3,
            user_id: user("bob"),
            role: Role::Member,
            joined_at: AT,
            last_read_seq: 4,
            last_delivered_seq: 5,
            muted: false,
        },
        user: UserSummary {
            display_name: Some("Bobby".into()),
            avatar_url: Some("/b.png".into()),
            ..summary("bob")
        },
        members: members(),
    };
    assert_renders(
        &Syarah,
        vec![
            (
                message_created(None),
                vec![Delivery::new_message(
                    vec!["c:3".into()],
                    "message",
                    json!({"chatMessage": text, "chatHeaderId": 3}),
                    receipt(),
                )],
            ),
            (
                DomainEvent::MessageEdited {
                    message: edited_image,
                    sender: summary("alice"),
                    members: members(),
                },
                vec![Delivery::to_rooms(
                    vec!["c:3".into()],
                    "messageUpdated",
                    json!({
                        "id": 7,
                        "uuid": MESSAGE_UUID,
                        "chatHeaderId": 3,
                        "userId": "alice",
                        "message": "/uploads/image/x.webp",
                        "messageType": 2,
                        "caption": "look",
                        "attachmentUrls": ["/uploads/image/x.webp"],
                        "seq": 5,
                        "creationTime": "2023-11-14T22:13:20.000Z",
                        "lastModificationTime": "2023-11-14T22:13:20.000Z",
                        "isDeleted": false,
                        "user": {"id": "alice", "name": "Alice", "avatar": null},
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
                    "messageDeleted",
                    json!(7),
                )],
            ),
            (
                read_by_bob(),
                vec![Delivery::to_rooms(
                    vec!["u:alice".into()],
                    "messageHasBeenRead",
                    json!(3),
                )],
            ),
            (
                typing("alice", true, false),
                vec![Delivery::Emit {
                    to: vec!["c:3".into()],
                    except: vec!["u:alice".into()],
                    event: "typing",
                    data: json!({"name": "Alice", "isTyping": true, "chatHeaderId": 3}),
                    receipt: None,
                }],
            ),
            (
                DomainEvent::Typing {
                    conversation: ids(),
                    user: summary("alice"),
                    typing: false,
                    recording: false,
                    name: Some("John Doe".into()),
                    members: members(),
                },
                vec![Delivery::Emit {
                    to: vec!["c:3".into()],
                    except: vec!["u:alice".into()],
                    event: "typing",
                    data: json!({"name": "John Doe", "isTyping": false, "chatHeaderId": 3}),
                    receipt: None,
                }],
            ),
            (
                bob_entered,
                vec![Delivery::Emit {
                    to: vec!["c:3".into()],
                    except: vec!["u:bob".into()],
                    event: "onMemberJoin",
                    data: json!({
                        "chatHeaderId": 3,
                        "userId": "bob",
                        "name": "Bobby",
                        "avatar": "/b.png",
                        "role": "member",
                        "isOnline": true,
                        "joinedAt": "2023-11-14T22:13:20.000Z",
                        "lastReadSeq": 4,
                    }),
                    receipt: None,
                }],
            ),
            (
                presence(false),
                vec![Delivery::to_rooms(
                    vec!["u:bob".into()],
                    "clientStatus",
                    json!({"userId": "alice", "clientType": "user", "activeNow": false}),
                )],
            ),
            (
                presence_to_everyone(true),
                vec![Delivery::Emit {
                    to: vec!["everyone".into()],
                    except: vec!["u:alice".into()],
                    event: "clientStatus",
                    data: json!({"userId": "alice", "clientType": "user", "activeNow": true}),
                    receipt: None,
                }],
            ),
            (
                carol_added,
                vec![Delivery::to_rooms(
                    vec!["u:alice".into(), "u:bob".into()],
                    "onMemberJoin",
                    json!({"chatHeaderId": 3, "userId": "carol"}),
                )],
            ),
            (
                bob_removed(),
                vec![Delivery::Leave {
                    of: "u:bob".into(),
                    room: "c:3".into(),
                }],
            ),
            (
                DomainEvent::ConversationCreated {
                    conversation: conversation(ConversationKind::Direct, None),
                    members: members(),
                },
                vec![],
            ),
        ],
    );
}

proptest! {
    #[test]
    fn decoding_arbitrary_json_never_panics(event in arb_event(EVENTS), payload in arb_json(KEYS)) {
        decodes_or_refuses(&Syarah, &event, &payload)?;
    }
}
