//! V Chat's tables, both namespaces: the handshake (raw token, errors in
//! the client's language), events in, commands out; outcomes, errors and
//! domain events in, emits out; and any JSON decodes without a panic.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::core::views::{ConversationView, HistoryPage};
use crate::core::{
    Attachment, AttachmentMeta, Conversation, ConversationKind, ConversationSummary, Friendship,
    FriendshipStatus, Member, Message, MessageKind, Role, User,
};
use crate::dialects::testing::*;

const EVENTS: &[&str] = &["join", "typing", "typing_changed", "load_more"];

const KEYS: &[&str] = &["roomId", "status", "name", "beforeMessageId"];

fn typing_in(room: i64, typing: bool, recording: bool) -> Command {
    Command::Typing {
        conversation: ConversationTarget::Ref(row(room)),
        typing,
        recording,
        name: None,
    }
}

fn view_room(room: i64) -> Command {
    Command::ViewRoom {
        conversation: row(room),
        limit: PAGE,
    }
}

#[test]
fn the_token_is_the_raw_authorization_header() {
    let token = VChat.handshake().token;
    let raw = request("/socket.io/", &[("authorization", "abc.def")]);
    assert_eq!(token(&raw, None).as_deref(), Some("abc.def"));
    let bearer = request("/socket.io/", &[("authorization", "Bearer abc")]);
    assert_eq!(
        token(&bearer, Some(&json!({"token": "x"}))).as_deref(),
        Some("abc")
    );
    let none = request("/socket.io/", &[]);
    assert_eq!(
        token(&none, Some(&json!({"token": "x"}))).as_deref(),
        Some("x")
    );
    assert_eq!(token(&none, None), None);
    // A Socket.IO v2 client that cannot set a header (a browser's WebSocket)
    // puts it in the query: the handshake request's, or on `/message` its
    // namespace's, which arrives as the auth object.
    for token in [VChat.handshake().token, VChatMessage.handshake().token] {
        let query = request("/socket.io/?EIO=3&transport=websocket&token=q", &[]);
        assert_eq!(token(&query, None).as_deref(), Some("q"));
        let both = request("/socket.io/?token=q", &[("authorization", "abc.def")]);
        assert_eq!(token(&both, None).as_deref(), Some("abc.def"));
    }
}

#[test]
fn a_client_without_a_token_is_told_every_place_it_may_put_one() {
    for d in [VChat.handshake(), VChatMessage.handshake()] {
        let places = d.token_places;
        let text = crate::auth::AuthError::MissingHandshakeToken { places }.to_string();
        for place in [
            "missing token: send it as the header `Authorization: Bearer <jwt>`",
            "`auth.token`",
            "`?token=<jwt>` in the URL (Socket.IO v2",
        ] {
            assert!(text.contains(place), "{place}: {text}");
        }
        // Each place is one the handshake reads.
        let token = d.token;
        let by_header = request("/socket.io/", &[("authorization", "Bearer h")]);
        assert_eq!(token(&by_header, None).as_deref(), Some("h"));
        let by_auth = request("/socket.io/", &[]);
        assert_eq!(
            token(&by_auth, Some(&json!({"token": "a"}))).as_deref(),
            Some("a")
        );
        let by_query = request("/socket.io/?EIO=3&token=q", &[]);
        assert_eq!(token(&by_query, None).as_deref(), Some("q"));
    }
}

#[test]
fn errors_and_refusals_follow_accept_language() {
    let arabic = request("/socket.io/", &[("accept-language", "ar-EG,en;q=0.8")]);
    let english = request("/socket.io/", &[]);
    for d in [VChat.handshake(), VChatMessage.handshake()] {
        let language = d.language.expect("V Chat speaks its client's language");
        let error = CoreError::NotFound("conversation");
        assert_eq!(
            (language.errors)(&arabic, "join", &error),
            vec![
                Out::Ack(json!({"success": false, "error": "غير موجود", "code": "NOT_FOUND"})),
                Out::Emit(
                    "error",
                    json!({"success": false, "error": "غير موجود", "code": "NOT_FOUND", "event": "join"})
                ),
            ]
        );
        assert_eq!(
            (language.errors)(&english, "join", &error),
            VChat.encode_error("join", &error)
        );
        assert_eq!(
            (language.refusal)(&arabic, "missing token".into()),
            "رمز الدخول مفقود أو غير صالح"
        );
        assert_eq!(
            (language.refusal)(&english, "missing token".into()),
            "missing token"
        );
    }
}

#[test]
fn only_the_open_room_reads_what_it_is_sent() {
    assert!(!VChat.handshake().reads_on_delivery);
    assert!(VChatMessage.handshake().reads_on_delivery);
}

#[test]
fn client_events_decode_to_commands() {
    assert_decodes(
        &VChat,
        vec![
            (
                "join",
                json!(null),
                Command::Conversations {
                    catch_up: vec![],
                    direct_only: false,
                    skip: 0,
                    limit: ROOMS_PAGE,
                },
            ),
            // The SDK's `emitWithAck("join", "join")`.
            ("join", json!("join"), first_rooms()),
            // The SDK's `typing_changed` (`VChatRoomTyping.toMap`).
            (
                "typing_changed",
                json!({"status": "typing", "name": "Alice", "roomId": "5"}),
                typing_in(5, true, false),
            ),
            (
                "typing_changed",
                json!({"status": "recording", "name": "Alice", "roomId": "5"}),
                typing_in(5, true, true),
            ),
            (
                "typing_changed",
                json!({"status": "stop", "name": null, "roomId": "5"}),
                typing_in(5, false, false),
            ),
            (
                "typing",
                json!({"roomId": "5", "status": "typing"}),
                typing_in(5, true, false),
            ),
            (
                "typing",
                json!({"roomId": "5", "status": "recording"}),
                typing_in(5, true, true),
            ),
            (
                "typing",
                json!({"roomId": 5, "status": "stop"}),
                typing_in(5, false, false),
            ),
        ],
    );
    assert_decodes(
        &VChatMessage,
        vec![
            ("join", json!("12"), view_room(12)),
            ("join", json!(12), view_room(12)),
            ("join", json!({"roomId": "12"}), view_room(12)),
            (
                "load_more",
                json!({"roomId": "12", "beforeMessageId": "40"}),
                Command::History {
                    conversation: row(12),
                    before: Some(row(40)),
                    skip: 0,
                    limit: PAGE,
                    include_deleted: true,
                },
            ),
        ],
    );
}

#[test]
fn bad_payloads_are_invalid() {
    assert_refuses(
        &VChat,
        &[
            (
                "typing",
                json!({"roomId": "5", "status": "dancing"}),
                "unknown variant `dancing`",
            ),
            (
                "typing",
                json!({"status": "typing"}),
                "missing field `roomId`",
            ),
            (
                "typing_changed",
                json!({"status": "busy", "name": "Alice", "roomId": "5"}),
                "unknown variant `busy`",
            ),
            (
                "typing_changed",
                json!({"name": "Alice", "roomId": "5"}),
                "missing field `status`",
            ),
            (
                "load_more",
                json!({"roomId": "12"}),
                "unknown event \"load_more\"",
            ),
        ],
    );
    assert_refuses(
        &VChatMessage,
        &[
            ("join", json!(null), "join takes the room id"),
            ("join", json!("not a room"), "join takes the room id"),
            ("join", json!({"room": "12"}), "missing field `roomId`"),
            (
                "load_more",
                json!({"roomId": "12"}),
                "missing field `beforeMessageId`",
            ),
            ("typing", json!({}), "unknown event \"typing\""),
        ],
    );
}

#[test]
fn joining_the_open_room_views_it_alone_and_sends_its_page() {
    let older = Message {
        id: 6,
        seq: 4,
        sender_id: user("bob"),
        ..message()
    };
    let page = HistoryPage {
        conversation: conversation(ConversationKind::Direct, None),
        messages: vec![older, message()],
        total: 5,
        senders: vec![],
    };
    let outs = VChatMessage.encode(&actor("alice"), "join", &Outcome::History(page.clone()));
    let [
        Out::UnviewAll,
        Out::View(3),
        Out::Emit("all_messages", Value::String(all)),
        Out::Ack(ack),
    ] = &outs[..]
    else {
        panic!("{outs:?}")
    };
    assert_eq!(ack, &json!({"success": true}));
    let all: Value = serde_json::from_str(all).unwrap();
    assert_eq!(all[0]["_id"], "7");
    assert_eq!(all[1]["_id"], "6");
    assert_eq!(all[1]["senderName"], "bob");
    let more = VChatMessage.encode(&actor("alice"), "load_more", &Outcome::History(page));
    assert!(matches!(&more[..], [Out::Ack(Value::String(_))]));
}

#[test]
fn domain_events_render_to_room_updates_and_emits() {
    let room_update = |users: Vec<UserId>| Delivery::PerUser {
        users,
        command: Command::Room {
            conversation: row(3),
        },
        event: "update_one_room",
    };
    let direct_room = |user: &str, peer: &str, event| Delivery::PerUser {
        users: vec![crate::dialects::testing::user(user)],
        command: Command::DirectRoomWith {
            peer: crate::dialects::testing::user(peer),
        },
        event,
    };
    let blocked = Friendship {
        requester: user("alice"),
        addressee: user("bob"),
        status: FriendshipStatus::Blocked,
        blocked_by: Some(user("alice")),
        created_at: AT,
        updated_at: AT,
    };
    assert_renders(
        &VChat,
        vec![
            (message_created(None), vec![room_update(members())]),
            (
                DomainEvent::MessageDeleted {
                    message: message(),
                    members: members(),
                },
                vec![room_update(members())],
            ),
            (read_by_bob(), vec![room_update(members())]),
            (
                bob_removed(),
                vec![
                    room_update(vec![user("alice")]),
                    Delivery::to_rooms(
                        vec!["u:bob".into()],
                        "kick_from_group",
                        Value::String("3".into()),
                    ),
                    Delivery::PerUser {
                        users: vec![user("bob")],
                        command: first_rooms(),
                        event: "all_rooms",
                    },
                ],
            ),
            (
                DomainEvent::RoomChanged {
                    conversation: ids(),
                    audience: vec![user("bob")],
                },
                vec![room_update(vec![user("bob")])],
            ),
            (
                DomainEvent::FriendshipChanged {
                    friendship: blocked,
                },
                vec![
                    direct_room("alice", "bob", "update_one_room"),
                    direct_room("bob", "alice", "update_one_room"),
                ],
            ),
            (
                DomainEvent::Unblocked {
                    by: user("bob"),
                    other: user("alice"),
                },
                vec![
                    direct_room("bob", "alice", "update_one_room"),
                    direct_room("alice", "bob", "update_one_room"),
                ],
            ),
            (
                presence(true),
                vec![direct_room("bob", "alice", "user_online_changed")],
            ),
            // A room's peer is a contact: everyone or not, the same rooms.
            (
                presence_to_everyone(false),
                vec![direct_room("bob", "alice", "user_online_changed")],
            ),
            (
                typing("alice", true, true),
                vec![Delivery::to_rooms(
                    vec!["u:bob".into()],
                    "user_typing_changed",
                    json!({"status": "recording", "name": "Alice", "roomId": "3"}),
                )],
            ),
            (
                typing("bob", false, false),
                vec![Delivery::to_rooms(
                    vec!["u:alice".into()],
                    "user_typing_changed",
                    json!({"status": "stop", "name": "bob", "roomId": "3"}),
                )],
            ),
            (
                DomainEvent::AgentAdded {
                    department: 1,
                    user: user("bob"),
                },
                vec![],
            ),
        ],
    );
    let new_message = json!({
        "_id": "7",
        "messageType": "text",
        "messageAttachment": null,
        "createdAt": AT,
        "content": "hi",
        "senderId": "alice",
        "senderName": "Alice",
        "senderImageThumb": DEFAULT_USER_IMAGE,
        "roomId": "3",
    });
    assert_renders(
        &VChatMessage,
        vec![
            (
                message_created(None),
                vec![Delivery::new_message(
                    vec!["c:3".into()],
                    "new_message",
                    Value::String(new_message.to_string()),
                    receipt(),
                )],
            ),
            (
                bob_removed(),
                vec![Delivery::Leave {
                    of: "u:bob".into(),
                    room: "c:3".into(),
                }],
            ),
            (typing("alice", true, false), vec![]),
        ],
    );
}

#[test]
fn an_image_shows_its_attachment_until_deleted() {
    let picture = "/uploads/chat-messages/images/a.webp";
    let image = message_json(&image_message(), "Alice", Some(picture));
    assert_eq!(image["messageType"], "image");
    // Relative to the SDK's `/api/v1/public/messages/` and `/profile/`.
    // Of unknown size: the stand-in side the SDK's widget can parse.
    assert_eq!(
        image["messageAttachment"],
        json!({"imageUrl": "image/x.webp", "width": "300", "height": "300", "fileSize": ""})
    );
    assert_eq!(image["senderImageThumb"], "chat-messages/images/a.webp");
    // A picture confab does not serve shows the default one.
    let elsewhere = message_json(&image_message(), "Alice", Some("https://cdn/a.png"));
    assert_eq!(elsewhere["senderImageThumb"], DEFAULT_USER_IMAGE);
    let deleted = Message {
        deleted_at: Some(AT),
        ..image_message()
    };
    let deleted = message_json(&deleted, "Alice", None);
    assert_eq!(deleted["messageType"], "text");
    assert_eq!(deleted["messageAttachment"], Value::Null);
    assert_eq!(deleted["content"], "");
}

/// A message of `kind` carrying `url` with `meta`.
fn with_file(kind: MessageKind, url: &str, meta: AttachmentMeta) -> Message {
    Message {
        kind,
        attachments: vec![Attachment {
            url: url.to_owned(),
            meta,
        }],
        ..message()
    }
}

/// The fields `VChatMessageAttachment.fromMap` reads, each cast `as
/// String?`: a value of any other type would throw.
const SDK_FIELDS: &[&str] = &[
    "imageUrl",
    "playUrl",
    "fileSize",
    "fileDuration",
    "width",
    "height",
    "lat",
    "lang",
    "linkTitle",
    "linkDescription",
    "linkDataUrl",
];

fn assert_sdk_parses(attachment: &Value) {
    let o = attachment.as_object().expect("an object");
    for (k, v) in o {
        assert!(SDK_FIELDS.contains(&k.as_str()), "{k} is not the SDK's");
        assert!(v.is_string(), "{k} must be a string: {v}");
    }
}

#[test]
fn every_field_the_sdk_reads_is_filled_from_the_metadata_as_a_string() {
    let image = with_file(
        MessageKind::Image,
        "/uploads/chat-messages/images/p.webp",
        AttachmentMeta {
            name: Some("photo.jpg".into()),
            size: Some(245_678),
            width: Some(640),
            height: Some(480),
            ..AttachmentMeta::default()
        },
    );
    let a = &message_json(&image, "Alice", None)["messageAttachment"];
    assert_eq!(
        a,
        &json!({"imageUrl": "chat-messages/images/p.webp", "width": "640", "height": "480",
                "fileSize": "239.92 KB", "linkTitle": "photo.jpg"})
    );
    assert_sdk_parses(a);

    let video = with_file(
        MessageKind::Video,
        "/uploads/chat-messages/videos/v.mp4",
        AttachmentMeta {
            size: Some(3_500_000),
            width: Some(720),
            height: Some(1280),
            duration_ms: Some(95_400),
            thumbnail: Some("/uploads/chat-messages/images/still.webp".into()),
            ..AttachmentMeta::default()
        },
    );
    let a = &message_json(&video, "Alice", None)["messageAttachment"];
    assert_eq!(
        a,
        &json!({"playUrl": "chat-messages/videos/v.mp4", "imageUrl": "chat-messages/images/still.webp",
                "width": "720", "height": "1280", "fileDuration": "01:35", "fileSize": "3.34 MB"})
    );
    assert_sdk_parses(a);

    let voice = with_file(
        MessageKind::Audio,
        "/uploads/chat-messages/audio/n.m4a",
        AttachmentMeta {
            size: Some(1000),
            duration_ms: Some(7_000),
            ..AttachmentMeta::default()
        },
    );
    let a = &message_json(&voice, "Alice", None)["messageAttachment"];
    assert_eq!(
        a,
        &json!({"playUrl": "chat-messages/audio/n.m4a", "fileDuration": "00:07", "fileSize": "0.98 KB"})
    );
    assert_sdk_parses(a);

    let file = with_file(
        MessageKind::File,
        "/uploads/chat-messages/files/r.pdf",
        AttachmentMeta {
            name: Some("report.pdf".into()),
            size: Some(512),
            ..AttachmentMeta::default()
        },
    );
    let a = &message_json(&file, "Alice", None)["messageAttachment"];
    assert_eq!(
        a,
        &json!({"playUrl": "chat-messages/files/r.pdf", "linkTitle": "report.pdf", "fileSize": "512.00 B"})
    );
    assert_sdk_parses(a);
}

#[test]
fn what_the_sdks_widgets_unwrap_is_there_when_nothing_is_known() {
    // `double.parse(width!)`, `fileDuration!`, `fileSize!`, `linkTitle!`.
    for (kind, message_type, needed) in [
        (
            MessageKind::Image,
            "image",
            &["imageUrl", "width", "height"][..],
        ),
        (
            MessageKind::Video,
            "video",
            &["playUrl", "width", "height", "fileDuration", "fileSize"][..],
        ),
        (
            MessageKind::Audio,
            "voice",
            &["playUrl", "fileDuration"][..],
        ),
        (
            MessageKind::File,
            "file",
            &["playUrl", "linkTitle", "fileSize"][..],
        ),
    ] {
        let m = Message {
            kind,
            attachments: vec!["https://cdn.example.com/old/v.mp4?sig=1".into()],
            ..message()
        };
        let m = message_json(&m, "Alice", None);
        assert_eq!(m["messageType"], message_type);
        let a = &m["messageAttachment"];
        assert_sdk_parses(a);
        for field in needed {
            assert!(a[field].is_string(), "{message_type}: {field} in {a}");
        }
        for side in ["width", "height"] {
            if needed.contains(&side) {
                assert_eq!(a[side], attachment::UNKNOWN_SIDE);
            }
        }
        if kind == MessageKind::File {
            assert_eq!(a["linkTitle"], "v.mp4", "the name from the URL");
        }
        // A file from elsewhere is named by its whole URL.
        assert_eq!(
            a[if kind == MessageKind::Image {
                "imageUrl"
            } else {
                "playUrl"
            }],
            "https://cdn.example.com/old/v.mp4?sig=1"
        );
    }
}

#[test]
fn sizes_and_durations_are_shown_as_the_sdk_computes_them() {
    use attachment::{duration, file_size};
    // `FileUtils.getFileSize`: the unit by powers of 1000, the number by
    // powers of 1024.
    assert_eq!(file_size(0), "0 B");
    assert_eq!(file_size(1), "1.00 B");
    assert_eq!(file_size(999), "999.00 B");
    assert_eq!(file_size(1000), "0.98 KB");
    assert_eq!(file_size(1_048_576), "1.00 MB");
    assert_eq!(file_size(5_000_000_000), "4.66 GB");
    // A tie rounds up, as Dart's `toStringAsFixed` does: 1152 / 1024 = 1.125.
    assert_eq!(file_size(1152), "1.13 KB");
    assert_eq!(file_size(u64::MAX), "16.00 EB");
    assert_eq!(duration(0), "00:00");
    assert_eq!(duration(59_999), "00:59");
    assert_eq!(duration(61_000), "01:01");
    assert_eq!(duration(4_500_000), "75:00");
}

#[test]
fn what_the_sdk_sends_of_a_file_is_kept() {
    use attachment::sent_meta;
    // `jsonEncode(VChatMessageAttachment(...).toMap())`: `"null"` for none.
    let video = json!(
        r#"{"imageUrl":"null","playUrl":"null","fileSize":"3.34 MB","fileDuration":"01:35","width":"720","height":"1280","lat":"null","lang":"null","linkTitle":"null","linkDescription":"null","linkDataUrl":"null"}"#
    );
    assert_eq!(
        sent_meta(Some(&video)).expect("video"),
        AttachmentMeta {
            width: Some(720),
            height: Some(1280),
            duration_ms: Some(95_000),
            ..AttachmentMeta::default()
        }
    );
    let file = json!(r#"{"fileSize":"512.00 B","linkTitle":"report (1).pdf"}"#);
    assert_eq!(
        sent_meta(Some(&file)).expect("file").name.as_deref(),
        Some("report (1).pdf")
    );
    // An object, numbers, `h:mm:ss`, a fraction of a second.
    let object = json!({"width": 640.0, "height": 480, "fileDuration": "1:02:03.5"});
    let meta = sent_meta(Some(&object)).expect("object");
    assert_eq!((meta.width, meta.height), (Some(640), Some(480)));
    assert_eq!(meta.duration_ms, Some(3_723_500));
    for none in [None, Some(Value::Null), Some(json!("")), Some(json!("{}"))] {
        assert!(sent_meta(none.as_ref()).expect("nothing").is_empty());
    }
    for (bad, says) in [
        (json!("not json"), "attachment must be a JSON object"),
        (json!([1]), "attachment must be a JSON object"),
        (json!({"width": "wide"}), "attachment.width"),
        (json!({"height": "0"}), "attachment.height"),
        (json!({"width": "1e9"}), "attachment.width"),
        (json!({"fileDuration": "1:75"}), "attachment.fileDuration"),
        (json!({"fileDuration": "soon"}), "attachment.fileDuration"),
        (json!({"fileDuration": "-3"}), "attachment.fileDuration"),
        (json!({"linkTitle": {"a": 1}}), "attachment.linkTitle"),
        (json!({"linkTitle": "a\u{0}b"}), "attachment.linkTitle"),
        (
            json!({"linkTitle": "x".repeat(256)}),
            "attachment.linkTitle",
        ),
    ] {
        let e = sent_meta(Some(&bad))
            .expect_err(&bad.to_string())
            .to_string();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

fn member(id: &str, role: Role) -> Member {
    Member {
        conversation_id: 3,
        user_id: user(id),
        role,
        joined_at: AT,
        last_read_seq: 0,
        last_delivered_seq: 0,
        muted: false,
    }
}

fn profile(id: &str, avatar: Option<&str>) -> User {
    User {
        id: user(id),
        username: None,
        display_name: (id == "alice").then(|| "Alice".to_owned()),
        avatar_url: avatar.map(str::to_owned),
        email: Some(format!("{id}@example.com")),
        placeholder: false,
        created_at: AT,
        last_seen_at: None,
        disabled: false,
        tokens_valid_after: None,
        deleted_at: None,
    }
}

fn view(kind: ConversationKind, members: Vec<Member>, last: Option<Message>) -> ConversationView {
    let users = members
        .iter()
        .map(|m| profile(m.user_id.as_str(), None))
        .collect();
    ConversationView {
        summary: ConversationSummary {
            conversation: Conversation {
                title: (kind == ConversationKind::Group).then(|| "Team".to_owned()),
                ..conversation(kind, None)
            },
            members,
            last_message: last,
            unread_count: 0,
        },
        users,
        online: vec![],
        friendship: None,
        catch_up: vec![],
    }
}

#[test]
fn a_room_without_messages_has_the_stand_in_last_message_the_sdk_parses() {
    let single = view(
        ConversationKind::Direct,
        vec![member("alice", Role::Owner), member("bob", Role::Member)],
        None,
    );
    let room = room_json(&single, &user("bob"));
    assert_eq!(
        room["lastMessage"],
        json!({
            "_id": "0",
            "messageType": "text",
            "messageAttachment": null,
            "createdAt": AT,
            "content": "",
            "senderId": "alice",
            "senderName": "Alice",
            "senderImageThumb": DEFAULT_USER_IMAGE,
            "roomId": "3",
        })
    );
    assert_eq!(room["thumbImage"], DEFAULT_USER_IMAGE);
    assert_eq!(room["peerEmail"], "alice@example.com");
    assert_eq!(room["groupSetting"], Value::Null);
    assert_eq!(room["ifPeerReadMyLastMessage"], 0);

    let group = view(
        ConversationKind::Group,
        vec![
            member("alice", Role::Owner),
            member("bob", Role::Admin),
            member("carol", Role::Member),
        ],
        None,
    );
    let room = room_json(&group, &user("carol"));
    assert_eq!(room["lastMessage"]["messageType"], "create");
    assert_eq!(room["lastMessage"]["senderName"], "Alice");
    assert_eq!(room["thumbImage"], DEFAULT_GROUP_IMAGE);
}

#[test]
fn group_setting_is_what_vchat_group_chat_info_reads_for_the_caller() {
    let group = view(
        ConversationKind::Group,
        vec![
            member("alice", Role::Owner),
            member("bob", Role::Admin),
            member("carol", Role::Member),
        ],
        Some(message()),
    );
    let setting = |me: &str| room_json(&group, &user(me))["groupSetting"].clone();
    let expected = |role: &str, creator: bool| {
        json!({
            "name": "Team",
            "imageThumb": DEFAULT_GROUP_IMAGE,
            "roomMembersCount": 3,
            "role": role,
            "isGroupCreator": creator,
        })
    };
    assert_eq!(setting("alice"), expected("admin", true));
    assert_eq!(setting("bob"), expected("admin", false));
    assert_eq!(setting("carol"), expected("member", false));
    assert_eq!(room_json(&group, &user("carol"))["lastMessage"]["_id"], "7");
}

#[test]
fn all_rooms_is_emitted_with_the_rooms_list() {
    let outcome = Outcome::Conversations {
        me: user("bob"),
        views: vec![view(
            ConversationKind::Direct,
            vec![member("alice", Role::Owner), member("bob", Role::Member)],
            Some(message()),
        )],
        total: 1,
        direct_only: false,
    };
    let outs = VChat.encode(&actor("bob"), "all_rooms", &outcome);
    let [Out::Emit("all_rooms", Value::Array(rooms))] = &outs[..] else {
        panic!("{outs:?}")
    };
    assert_eq!(rooms[0]["_id"], "3");
    let outs = VChat.encode(&actor("bob"), "join", &outcome);
    let [Out::Ack(ack)] = &outs[..] else {
        panic!("{outs:?}")
    };
    assert_eq!(ack["success"], true);
    assert_eq!(ack["data"][0]["peerId"], "alice");
}

proptest! {
    #[test]
    fn decoding_arbitrary_json_never_panics(event in arb_event(EVENTS), payload in arb_json(KEYS)) {
        decodes_or_refuses(&VChat, &event, &payload)?;
        decodes_or_refuses(&VChatMessage, &event, &payload)?;
    }
}

#[test]
fn a_push_carries_the_room_and_the_message_the_sdk_parses_cut_to_fit() {
    use crate::core::UserSummary;
    let sender = UserSummary {
        id: user("alice"),
        username: None,
        display_name: Some("Alice".into()),
        avatar_url: None,
    };
    let data = push::push_data(&message(), &sender);
    assert_eq!(data.len(), 2);
    assert_eq!(data["roomId"], "3");
    let m: Value = serde_json::from_str(&data["message"]).expect("JSON");
    assert_eq!(m, message_json(&message(), "Alice", None));
    assert_eq!(m["createdAt"], AT, "an int, as fromMap casts it");

    let long = Message {
        text: Some("\"é\"".repeat(2000)),
        ..message()
    };
    let data = push::push_data(&long, &sender);
    let json = &data["message"];
    assert!(json.len() <= push::MAX_MESSAGE_BYTES, "{}", json.len());
    let m: Value = serde_json::from_str(json).expect("JSON");
    let content = m["content"].as_str().expect("content");
    assert!(
        content.len() > 1000,
        "cut no more than needed: {}",
        content.len()
    );
    assert!(
        long.text
            .as_deref()
            .unwrap_or_default()
            .starts_with(content)
    );
    assert_eq!(m["_id"], "7");
}
