//! The Dozaar dialect driven end to end by a Rust Socket.IO client.

use serde_json::{Value, json};
use std::time::Duration;
use tf_rust_socketio::TransportType;

use crate::helpers::{
    Auth, dozaar_client, dozaar_client_of, dozaar_client_over, eventually, joined_dozaar_client,
    spawn_server, spawn_server_with,
};

fn conv_uuid(c: &confab::core::ConversationSummary) -> String {
    c.conversation.uuid.to_string()
}

fn is_code(code: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["code"] == code
}

#[tokio::test]
async fn a_message_reaches_the_room_with_its_sender_and_a_notification_reaches_members_elsewhere() {
    let server = spawn_server().await;
    let conv = server.group_conversation("alice", &["bob", "carol"]).await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    let mut bob = joined_dozaar_client(&server, "bob", &id).await;
    let carol_token = server.token_for("carol");
    let mut carol = dozaar_client(&server, Auth::Header(&carol_token)).await;

    alice
        .emit("send:message", json!({ "conversationId": id, "message": "hello bob", "attachmentUrls": ["https://example.com/a.jpg"] }))
        .await;
    let m = bob.expect("new:message").await;
    assert_eq!(m["message"], "hello bob");
    assert_eq!(m["conversationId"], id);
    assert_eq!(m["senderId"], "alice");
    assert_eq!(m["sender"]["id"], "alice");
    assert_eq!(m["sender"]["username"], "alice name");
    assert_eq!(m["attachmentUrls"], json!(["https://example.com/a.jpg"]));
    assert_eq!(m["seq"], 1);
    assert!(m["createdAt"].as_str().is_some_and(|s| s.ends_with('Z')));

    let n = carol.expect("message:notification").await;
    assert_eq!(n["conversationId"], id);
    assert_eq!(n["messageId"], m["id"]);
    assert_eq!(n["preview"], "hello bob");
    assert_eq!(
        n["sender"],
        json!({ "id": "alice", "username": "alice name" })
    );
    assert!(n["timestamp"].as_i64().is_some());
    bob.expect_none("message:notification", Duration::from_millis(200))
        .await;
    alice.expect("new:message").await;
    assert_eq!(server.message_count("alice", conv.conversation.id).await, 1);
}

#[tokio::test]
async fn a_preview_is_the_first_hundred_characters() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    let mut bob = dozaar_client_of(&server, "bob").await;
    let text: String = "é".repeat(150);
    alice
        .emit(
            "send:message",
            json!({ "conversationId": id, "message": text }),
        )
        .await;
    let n = bob.expect("message:notification").await;
    assert_eq!(n["preview"].as_str().map(|s| s.chars().count()), Some(100));
    alice.expect("new:message").await;
}

#[tokio::test]
async fn invalid_payloads_get_an_exception_store_nothing_and_keep_the_connection() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    let cases = [
        ("join:conversation", json!({})),
        ("leave:conversation", json!({ "conversationId": 17.5 })),
        ("send:message", json!({ "conversationId": id })),
        (
            "send:message",
            json!({ "conversationId": id, "message": "x".repeat(10_001) }),
        ),
        (
            "send:message",
            json!({ "conversationId": id, "message": "hi", "attachmentUrls": ["javascript:alert(1)"] }),
        ),
        ("send:message", json!("just a string")),
        ("typing:start", json!({ "conversationId": "not-a-uuid" })),
        ("typing:stop", json!(42)),
        ("mark:read", json!({ "messageId": null })),
        ("get:online_status", json!({ "userIds": "alice" })),
        ("no:such:event", json!({})),
    ];
    for (event, payload) in cases {
        alice.emit(event, payload).await;
        let e = alice
            .expect_where("exception", |v| v["event"] == event)
            .await;
        assert_eq!(e["code"], "INVALID_PAYLOAD", "{event}: {e}");
        assert!(e["error"].as_str().is_some_and(|s| !s.is_empty()));
    }
    assert_eq!(server.message_count("alice", conv.conversation.id).await, 0);
    alice
        .emit(
            "send:message",
            json!({ "conversationId": id, "message": "still here" }),
        )
        .await;
    assert_eq!(alice.expect("new:message").await["message"], "still here");
}

#[tokio::test]
async fn a_non_member_can_neither_join_send_type_nor_read() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    alice
        .emit(
            "send:message",
            json!({ "conversationId": id, "message": "private" }),
        )
        .await;
    let m = alice.expect("new:message").await;

    let mut mallory = dozaar_client_of(&server, "mallory").await;
    for (event, payload) in [
        ("join:conversation", json!({ "conversationId": id })),
        (
            "send:message",
            json!({ "conversationId": id, "message": "intrusion" }),
        ),
        ("typing:start", json!({ "conversationId": id })),
        ("mark:read", json!({ "messageId": m["id"] })),
        (
            "leave:conversation",
            json!({ "conversationId": conv.conversation.id }),
        ),
    ] {
        mallory.emit(event, payload).await;
        let e = mallory
            .expect_where("exception", |v| v["event"] == event)
            .await;
        assert_eq!(e["code"], "NOT_FOUND", "{event}");
    }
    mallory
        .expect_none("new:message", Duration::from_millis(200))
        .await;
    alice
        .expect_none("user:typing", Duration::from_millis(100))
        .await;
    assert_eq!(server.message_count("alice", conv.conversation.id).await, 1);
}

#[tokio::test]
async fn an_unknown_conversation_looks_the_same_as_a_foreign_one() {
    let server = spawn_server().await;
    let mut alice = dozaar_client_of(&server, "alice").await;
    alice
        .emit(
            "join:conversation",
            json!({ "conversationId": uuid::Uuid::new_v4().to_string() }),
        )
        .await;
    let e = alice.expect("exception").await;
    assert_eq!(e["code"], "NOT_FOUND");
    assert_eq!(e["error"], "conversation not found");
}

#[tokio::test]
async fn typing_is_told_to_the_room_and_stops_by_itself() {
    let server = spawn_server_with(|c| c.typing_ttl_secs = 1).await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    let mut bob = joined_dozaar_client(&server, "bob", &id).await;

    alice
        .emit("typing:start", json!({ "conversationId": id }))
        .await;
    let t = bob.expect("user:typing").await;
    assert_eq!(
        t,
        json!({ "conversationId": id, "userId": "alice", "username": "alice name" })
    );
    alice
        .emit("typing:stop", json!({ "conversationId": id }))
        .await;
    assert_eq!(bob.expect("user:stopped_typing").await["userId"], "alice");

    alice
        .emit("typing:start", json!({ "conversationId": id }))
        .await;
    bob.expect("user:typing").await;
    let started = std::time::Instant::now();
    bob.expect("user:stopped_typing").await;
    assert!(started.elapsed() >= Duration::from_millis(800));
    alice
        .expect_none("user:typing", Duration::from_millis(100))
        .await;
}

#[tokio::test]
async fn mark_read_tells_the_other_members_and_clears_unread() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    let mut bob = joined_dozaar_client(&server, "bob", &id).await;
    alice
        .emit(
            "send:message",
            json!({ "conversationId": id, "message": "read me" }),
        )
        .await;
    let m = bob.expect("new:message").await;
    let bob_actor = server.provisioned_actor("bob").await;
    let summary = server
        .running
        .state
        .service
        .conversation(&bob_actor, confab::core::RowRef::Id(conv.conversation.id))
        .await
        .expect("summary");
    assert_eq!(summary.unread_count, 1);

    bob.emit("mark:read", json!({ "messageId": m["id"] })).await;
    let r = alice.expect("message:read").await;
    assert_eq!(r["messageId"], m["id"]);
    assert_eq!(r["readBy"], "bob");
    assert_eq!(r["conversationId"], id);
    assert!(r["timestamp"].as_i64().is_some());
    let summary = server
        .running
        .state
        .service
        .conversation(&bob_actor, confab::core::RowRef::Id(conv.conversation.id))
        .await
        .expect("summary");
    assert_eq!(summary.unread_count, 0);
}

#[tokio::test]
async fn online_status_shows_everyone_by_default() {
    let server = spawn_server().await;
    let _stranger = dozaar_client_of(&server, "stranger").await;
    let mut alice = dozaar_client_of(&server, "alice").await;
    alice
        .emit(
            "get:online_status",
            json!({ "userIds": ["stranger", "nobody"] }),
        )
        .await;
    let s = alice.expect("online:status").await;
    assert_eq!(s["statuses"][0]["isOnline"], true);
    assert!(s["statuses"][0]["lastSeen"].is_i64());
    assert_eq!(s["statuses"][1]["isOnline"], false);
}

#[tokio::test]
async fn online_status_shows_contacts_and_hides_strangers() {
    let server = spawn_server_with(|c| {
        c.presence.visible_to = confab::config::Visibility::Contacts;
    })
    .await;
    server.direct_conversation("alice", "bob").await;
    let _bob = dozaar_client_of(&server, "bob").await;
    let _stranger = dozaar_client_of(&server, "stranger").await;
    let mut alice = dozaar_client_of(&server, "alice").await;
    alice
        .emit(
            "get:online_status",
            json!({ "userIds": ["bob", "stranger", "nobody"] }),
        )
        .await;
    let s = alice.expect("online:status").await;
    let statuses = s["statuses"].as_array().expect("array");
    assert_eq!(statuses.len(), 3);
    assert_eq!(statuses[0]["userId"], "bob");
    assert_eq!(statuses[0]["isOnline"], true);
    assert_eq!(statuses[1]["isOnline"], false);
    assert_eq!(statuses[2]["isOnline"], false);
}

#[tokio::test]
async fn presence_follows_the_last_socket_of_a_user() {
    let server = spawn_server().await;
    server.direct_conversation("alice", "bob").await;
    let mut alice = dozaar_client_of(&server, "alice").await;
    let tab1 = dozaar_client_of(&server, "bob").await;
    let on = alice.expect("user:online").await;
    assert_eq!(on["userId"], "bob");
    assert!(on["timestamp"].as_i64().is_some());
    let tab2 = dozaar_client(&server, Auth::Header(&server.token_for("bob"))).await;
    alice
        .expect_none("user:online", Duration::from_millis(300))
        .await;
    tab1.disconnect().await;
    alice
        .expect_none("user:offline", Duration::from_millis(300))
        .await;
    tab2.disconnect().await;
    assert_eq!(alice.expect("user:offline").await["userId"], "bob");
}

#[tokio::test]
async fn leaving_a_conversation_stops_its_messages_but_not_notifications() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    let mut bob = joined_dozaar_client(&server, "bob", &id).await;
    bob.emit("leave:conversation", json!({ "conversationId": id }))
        .await;
    bob.emit("get:online_status", json!({ "userIds": [] }))
        .await;
    bob.expect("online:status").await; // the leave was handled before this
    alice
        .emit(
            "send:message",
            json!({ "conversationId": id, "message": "gone?" }),
        )
        .await;
    alice.expect("new:message").await;
    bob.expect("message:notification").await;
    bob.expect_none("new:message", Duration::from_millis(200))
        .await;
}

#[tokio::test]
async fn a_client_id_retry_stores_one_message() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    let mut bob = joined_dozaar_client(&server, "bob", &id).await;
    for _ in 0..2 {
        alice
            .emit(
                "send:message",
                json!({ "conversationId": id, "message": "once", "clientId": "c-1" }),
            )
            .await;
    }
    bob.expect("new:message").await;
    bob.expect_none("new:message", Duration::from_millis(300))
        .await;
    assert_eq!(server.message_count("alice", conv.conversation.id).await, 1);
    alice.expect("new:message").await;
}

#[tokio::test]
async fn sending_past_the_rate_limit_is_refused() {
    let server = spawn_server_with(|c| c.limits.messages_per_minute = 3).await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    for i in 0..4 {
        alice
            .emit(
                "send:message",
                json!({ "conversationId": id, "message": format!("m{i}") }),
            )
            .await;
    }
    let e = alice
        .expect_where("exception", is_code("RATE_LIMITED"))
        .await;
    assert_eq!(e["event"], "send:message");
    assert_eq!(server.message_count("alice", conv.conversation.id).await, 3);
}

#[tokio::test]
async fn edits_and_deletes_reach_the_room_and_only_the_author_may_edit() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let alice = joined_dozaar_client(&server, "alice", &id).await;
    let mut bob = joined_dozaar_client(&server, "bob", &id).await;
    alice
        .emit(
            "send:message",
            json!({ "conversationId": id, "message": "typo" }),
        )
        .await;
    let m = bob.expect("new:message").await;
    bob.emit(
        "edit:message",
        json!({ "messageId": m["id"], "message": "hijack" }),
    )
    .await;
    assert_eq!(bob.expect("exception").await["code"], "FORBIDDEN");
    alice
        .emit(
            "edit:message",
            json!({ "messageId": m["id"], "message": "fixed" }),
        )
        .await;
    let u = bob.expect("message:updated").await;
    assert_eq!(u["message"], "fixed");
    assert!(u["editedAt"].is_string());
    alice
        .emit("delete:message", json!({ "messageId": m["id"] }))
        .await;
    assert_eq!(bob.expect("message:deleted").await["messageId"], m["id"]);
}

#[tokio::test]
async fn numeric_conversation_ids_are_accepted_too() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let mut alice = dozaar_client_of(&server, "alice").await;
    alice
        .emit(
            "join:conversation",
            json!({ "conversationId": conv.conversation.id.to_string() }),
        )
        .await;
    assert_eq!(
        alice.expect("joined:conversation").await["conversationId"],
        conv_uuid(&conv)
    );
}

#[tokio::test]
async fn polling_clients_work_like_websocket_clients() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let token = server.token_for("alice");
    let mut alice = dozaar_client_over(&server, Auth::Header(&token), TransportType::Polling).await;
    alice
        .emit("join:conversation", json!({ "conversationId": id }))
        .await;
    alice.expect("joined:conversation").await;
    alice
        .emit(
            "send:message",
            json!({ "conversationId": id, "message": "over polling" }),
        )
        .await;
    assert_eq!(alice.expect("new:message").await["message"], "over polling");
}

#[tokio::test]
async fn handshakes_without_a_valid_token_are_refused_with_a_reason() {
    let server = spawn_server_with(|c| c.auth.leeway_secs = 0).await;
    let expired = server
        .running
        .state
        .keys
        .issue("alice", None, Duration::from_secs(0))
        .expect("token");
    let other_keys = confab::auth::jwt::JwtKeys::from_secret(
        b"another secret that is long enough!!",
        &server.running.state.config.auth,
    );
    let forged = other_keys
        .issue("alice", None, Duration::from_secs(3600))
        .expect("token");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cases: [(Auth<'_>, &str); 4] = [
        (Auth::None, "missing token"),
        (Auth::Token("not.a.jwt"), "malformed token"),
        (Auth::Header(&forged), "invalid token signature"),
        (Auth::Token(&expired), "token expired"),
    ];
    for (auth, reason) in cases {
        let c = dozaar_client(&server, auth).await;
        let refused = c.refused.as_deref().unwrap_or("connected");
        assert!(refused.contains(reason), "{reason}: {refused}");
    }
}

#[tokio::test]
async fn an_oversized_packet_is_refused_and_the_server_keeps_serving() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let mut alice = joined_dozaar_client(&server, "alice", &id).await;
    let bob = joined_dozaar_client(&server, "bob", &id).await;
    let _ = bob
        .client
        .emit(
            "send:message",
            json!({ "conversationId": id, "message": "x".repeat(70_000) }),
        )
        .await;
    alice
        .expect_none("new:message", Duration::from_millis(300))
        .await;
    assert_eq!(server.message_count("alice", conv.conversation.id).await, 0);
    alice
        .emit(
            "send:message",
            json!({ "conversationId": id, "message": "fine" }),
        )
        .await;
    assert_eq!(alice.expect("new:message").await["message"], "fine");
}

#[tokio::test]
async fn a_joined_conversation_is_viewed_until_left_or_disconnected() {
    let server = spawn_server().await;
    let conv = server.direct_conversation("alice", "bob").await;
    let id = conv_uuid(&conv);
    let c = conv.conversation.id;
    let mut bob = joined_dozaar_client(&server, "bob", &id).await;
    assert!(server.is_viewing("bob", c));
    bob.emit("leave:conversation", json!({ "conversationId": id }))
        .await;
    bob.emit("get:online_status", json!({ "userIds": [] }))
        .await;
    bob.expect("online:status").await;
    assert!(!server.is_viewing("bob", c));
    let bob2 = joined_dozaar_client(&server, "bob", &id).await;
    assert!(server.is_viewing("bob", c));
    bob2.disconnect().await;
    eventually("bob stopped viewing", || !server.is_viewing("bob", c)).await;
}
