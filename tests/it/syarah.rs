//! The Syarah dialect driven by a Rust Socket.IO client, next to a Dozaar
//! client in the same conversation.

use serde_json::json;

use crate::helpers::{Auth, joined_dozaar_client, socket_client, spawn_server};

#[tokio::test]
async fn a_syarah_client_proves_its_user_per_event_and_talks_with_a_dozaar_client() {
    let server = spawn_server().await;
    let syarah = server.syarah_url.clone().expect("syarah listens");
    let conv = server.direct_conversation("alice", "bob").await;
    let chat = conv.conversation.id;

    let mut alice = socket_client(&format!("{syarah}/?userId=alice"), "/", Auth::None).await;
    assert!(alice.refused.is_none(), "{:?}", alice.refused);
    let refused = alice
        .emit_ack("joinRoom", json!({ "chatHeaderId": chat }))
        .await;
    assert_eq!(refused["code"], "UNAUTHENTICATED", "{refused}");
    let bob_token = server.token_for("bob");
    let wrong = alice
        .emit_ack(
            "joinRoom",
            json!({ "chatHeaderId": chat, "accessToken": bob_token }),
        )
        .await;
    assert_eq!(wrong["code"], "UNAUTHENTICATED");
    let token = server.token_for("alice");
    let joined = alice
        .emit_ack(
            "joinRoom",
            json!({ "chatHeaderId": chat, "accessToken": format!("Bearer {token}") }),
        )
        .await;
    assert_eq!(joined["chatHeaderId"], chat);
    assert_eq!(joined["joined"], true);

    let mut bob = joined_dozaar_client(&server, "bob", &conv.conversation.uuid.to_string()).await;

    let ack = alice
        .emit_ack(
            "createMessage",
            json!({ "message": "hi bob", "chatHeaderId": chat, "messageType": 0 }),
        )
        .await;
    assert_eq!(ack["message"], "hi bob");
    let m = bob.expect("new:message").await;
    assert_eq!(m["message"], "hi bob");
    assert_eq!(m["senderId"], "alice");

    bob.emit(
        "send:message",
        json!({ "conversationId": conv.conversation.uuid.to_string(), "message": "hi alice" }),
    )
    .await;
    let got = alice
        .expect_where("message", |m| m["chatMessage"]["userId"] == "bob")
        .await;
    assert_eq!(got["chatHeaderId"], chat);
    assert_eq!(got["chatMessage"]["message"], "hi alice");
    assert_eq!(got["chatMessage"]["userId"], "bob");

    let bad = alice
        .emit_ack("createMessage", json!({ "chatHeaderId": chat }))
        .await;
    assert_eq!(bad["code"], "INVALID_PAYLOAD");
    let page = alice
        .emit_ack(
            "findAllMessages",
            json!({ "chatHeaderId": chat.to_string(), "maxResultCount": 10 }),
        )
        .await;
    assert_eq!(page["totalCount"], 2);
    assert_eq!(page["items"][0]["message"], "hi alice");
}

#[tokio::test]
async fn a_handshake_token_of_another_user_than_user_id_is_refused() {
    let server = spawn_server().await;
    let syarah = server.syarah_url.clone().expect("syarah listens");
    let bob_token = server.token_for("bob");
    let c = socket_client(
        &format!("{syarah}/?userId=alice"),
        "/",
        Auth::Token(&bob_token),
    )
    .await;
    let refused = c.refused.as_deref().unwrap_or("connected");
    assert!(refused.contains("userId does not match"), "{refused}");
}
