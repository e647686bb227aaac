//! The Voxora dialect driven by a Rust Socket.IO client: a message to a
//! Dozaar client in the same conversation, and the `/department` namespace
//! closed to anyone who is not one of the department's agents.

mod common;

use common::{Auth, connect, open, start};
use serde_json::json;
use tf_rust_socketio::TransportType;

#[tokio::test]
async fn a_voxora_client_is_in_its_conversations_on_connect_and_talks_with_a_dozaar_client() {
    let server = start().await;
    let voxora = server.voxora_url.clone().expect("voxora listens");
    let conv = server.conversation("alice", &["bob"]).await.conversation;
    let alice_token = server.token("alice");
    let mut alice = open(
        &voxora,
        "/",
        Auth::Token(&alice_token),
        TransportType::Websocket,
    )
    .await;
    assert!(alice.refused.is_none(), "{:?}", alice.refused);

    let bob_token = server.token("bob");
    let mut bob = connect(&server, Auth::Token(&bob_token)).await;
    bob.emit(
        "join:conversation",
        json!({ "conversationId": conv.uuid.to_string() }),
    )
    .await;
    bob.expect("joined:conversation").await;

    // No join_conversation: the socket is in the room since it connected.
    alice
        .emit(
            "send_message",
            json!({ "conversationId": conv.id.to_string(), "content": "hi bob", "type": "text" }),
        )
        .await;
    let m = bob.expect("new:message").await;
    assert_eq!(m["message"], "hi bob");
    let own = alice.expect("new_message").await;
    assert_eq!(own["content"], "hi bob");
    let delivered = alice.expect("message_delivered").await;
    assert_eq!(delivered, own["id"]);

    bob.emit(
        "send:message",
        json!({ "conversationId": conv.uuid.to_string(), "message": "hi alice" }),
    )
    .await;
    let got = alice
        .expect_where("new_message", |m| m["senderId"] == "bob")
        .await;
    assert_eq!(got["content"], "hi alice");
    assert_eq!(got["conversationId"], conv.id.to_string());

    // A conversation alice is not in is not found, and the socket stays usable.
    let other = server.conversation("carol", &["dave"]).await.conversation;
    alice
        .emit(
            "send_message",
            json!({ "conversationId": other.id.to_string(), "content": "intrusion" }),
        )
        .await;
    let refused = alice.expect("message_error").await;
    assert_eq!(refused["code"], "NOT_FOUND");
    assert_eq!(server.message_count("carol", other.id).await, 0);
}

#[tokio::test]
async fn only_a_departments_agents_connect_to_its_namespace() {
    let server = start().await;
    let voxora = server.voxora_url.clone().expect("voxora listens");
    let keeper = server.actor("keeper").await;
    let department = server
        .running
        .state
        .service
        .create_department(&keeper, "Support")
        .await
        .expect("department");
    let url = format!("{voxora}?departmentId={}", department.department.id);

    let token = server.token("keeper");
    let agent = open(
        &url,
        "/department",
        Auth::Token(&token),
        TransportType::Websocket,
    )
    .await;
    assert!(agent.refused.is_none(), "{:?}", agent.refused);

    let token = server.token("mallory");
    let stranger = open(
        &url,
        "/department",
        Auth::Token(&token),
        TransportType::Websocket,
    )
    .await;
    let refusal = stranger.refused.expect("refused");
    assert!(refusal.contains("not an agent"), "{refusal}");
}
