//! The JobSpare dialect driven by a Rust Socket.IO client, next to a Dozaar
//! client in the same conversation.

use serde_json::json;

use crate::helpers::{Auth, joined_dozaar_client, socket_client, spawn_server};

#[tokio::test]
async fn a_jobspare_client_opens_a_pair_conversation_and_talks_with_a_dozaar_client() {
    let server = spawn_server().await;
    let jobspare = server.jobspare_url.clone().expect("jobspare listens");
    let alice_token = server.token_for("alice");
    let mut alice = socket_client(&jobspare, "/", Auth::Token(&alice_token)).await;
    assert!(alice.refused.is_none(), "{:?}", alice.refused);
    let hello = alice.expect("authenticated").await;
    assert_eq!(hello, json!({ "userId": "alice", "success": true }));

    // Bob exists (placeholder) once the pair is used; his Dozaar socket joins.
    alice
        .emit(
            "join_conversation",
            json!({ "conversationId": "alice_bob" }),
        )
        .await;
    let joined = alice.expect("joined_conversation").await;
    // Named as the socket named it.
    assert_eq!(joined["conversationId"], "alice_bob");
    let uuid = joined["uuid"].as_str().expect("uuid").to_owned();

    let mut bob = joined_dozaar_client(&server, "bob", &uuid).await;

    alice
        .emit(
            "send_message",
            json!({ "conversationId": "bob_alice", "receiverId": "bob",
                    "messageType": "text", "content": { "text": "hi bob" } }),
        )
        .await;
    let m = bob.expect("new:message").await;
    assert_eq!(m["message"], "hi bob");
    let delivered = alice
        .expect_where("message_delivered", |d| d["messageId"] == m["id"])
        .await;
    assert_eq!(delivered["deliveredTo"], "bob");

    bob.emit(
        "send:message",
        json!({ "conversationId": uuid, "message": "hi alice" }),
    )
    .await;
    let got = alice
        .expect_where("new_message", |m| m["senderId"]["_id"] == "bob")
        .await;
    assert_eq!(got["content"]["text"], "hi alice");
    // Named as this socket last named it.
    assert_eq!(got["conversationId"], "bob_alice");
}
