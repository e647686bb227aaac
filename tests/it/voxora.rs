//! The Voxora dialect driven by a Rust Socket.IO client: a message to a
//! Dozaar client in the same conversation, and the `/department` namespace
//! closed to anyone who is not one of the department's agents.

use serde_json::json;

use crate::helpers::{Auth, joined_dozaar_client, socket_client, spawn_server};

#[tokio::test]
async fn a_voxora_client_is_in_its_conversations_on_connect_and_talks_with_a_dozaar_client() {
    let server = spawn_server().await;
    let voxora = server.voxora_url.clone().expect("voxora listens");
    let conv = server
        .direct_conversation("alice", "bob")
        .await
        .conversation;
    let alice_token = server.token_for("alice");
    let mut alice = socket_client(&voxora, "/", Auth::Token(&alice_token)).await;
    assert!(alice.refused.is_none(), "{:?}", alice.refused);

    let mut bob = joined_dozaar_client(&server, "bob", &conv.uuid.to_string()).await;

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
    let other = server
        .direct_conversation("carol", "dave")
        .await
        .conversation;
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
    let server = spawn_server().await;
    let voxora = server.voxora_url.clone().expect("voxora listens");
    let keeper = server.provisioned_actor("keeper").await;
    let department = server
        .running
        .state
        .service
        .create_department(&keeper, "Support")
        .await
        .expect("department");
    let url = format!("{voxora}?departmentId={}", department.department.id);

    let token = server.token_for("keeper");
    let agent = socket_client(&url, "/department", Auth::Token(&token)).await;
    assert!(agent.refused.is_none(), "{:?}", agent.refused);

    let token = server.token_for("mallory");
    let stranger = socket_client(&url, "/department", Auth::Token(&token)).await;
    let refusal = stranger.refused.expect("refused");
    assert!(refusal.contains("not an agent"), "{refusal}");
}
