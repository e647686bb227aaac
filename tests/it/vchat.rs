//! The V Chat dialect driven by a Rust Socket.IO client: the raw token in
//! the `Authorization` header, the rooms list on `/`, and the open room on
//! `/message` with its JSON-string payloads, next to a Dozaar client.

use serde_json::{Value, json};

use crate::helpers::{Auth, joined_dozaar_client, socket_client, spawn_server};

#[tokio::test]
async fn a_vchat_client_lists_its_rooms_and_reads_an_open_room() {
    let server = spawn_server().await;
    let vchat = server.vchat_url.clone().expect("vchat listens");
    let conv = server
        .direct_conversation("alice", "bob")
        .await
        .conversation;
    let alice_token = server.token_for("alice");

    // Bob (Dozaar) writes before Alice opens anything.
    let mut bob = joined_dozaar_client(&server, "bob", &conv.uuid.to_string()).await;
    bob.emit(
        "send:message",
        json!({ "conversationId": conv.uuid.to_string(), "message": "first" }),
    )
    .await;
    bob.expect("new:message").await;

    let rooms = socket_client(&vchat, "/", Auth::RawHeader(&alice_token)).await;
    assert!(rooms.refused.is_none(), "{:?}", rooms.refused);
    let list = rooms.emit_ack("join", Value::Null).await;
    assert_eq!(list["success"], true);
    let room = &list["data"][0];
    assert_eq!(room["_id"], conv.id.to_string());
    assert_eq!(room["roomType"], "single");
    assert_eq!(room["peerId"], "bob");
    assert_eq!(room["unReadCount"], 1);
    assert_eq!(room["lastMessage"]["content"], "first");

    let mut message = socket_client(&vchat, "/message", Auth::RawHeader(&alice_token)).await;
    assert!(message.refused.is_none(), "{:?}", message.refused);
    message.emit("join", json!(conv.id.to_string())).await;
    let all = message.expect("all_messages").await;
    let all: Value = serde_json::from_str(all.as_str().expect("a JSON string")).expect("JSON");
    assert_eq!(all[0]["content"], "first");
    assert_eq!(all[0]["senderId"], "bob");

    // Viewing: a new message arrives as a string and leaves nothing unread.
    bob.emit(
        "send:message",
        json!({ "conversationId": conv.uuid.to_string(), "message": "second" }),
    )
    .await;
    let m = message.expect("new_message").await;
    let m: Value = serde_json::from_str(m.as_str().expect("a JSON string")).expect("JSON");
    assert_eq!(m["content"], "second");
    assert_eq!(m["roomId"], conv.id.to_string());
    let mut unread = i64::MAX;
    for _ in 0..50 {
        let list = rooms.emit_ack("join", Value::Null).await;
        unread = list["data"][0]["unReadCount"].as_i64().expect("count");
        if unread == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(unread, 0, "a viewed message is read");
}

#[tokio::test]
async fn a_vchat_connection_needs_a_valid_token() {
    let server = spawn_server().await;
    let vchat = server.vchat_url.clone().expect("vchat listens");
    let none = socket_client(&vchat, "/", Auth::None).await;
    assert!(none.refused.is_some());
    let bad = socket_client(&vchat, "/message", Auth::RawHeader("not.a.token")).await;
    assert!(bad.refused.is_some());
}
