//! `/api/conversations`: creating, listing and getting conversations,
//! adding and removing members.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::spawn_api;
use crate::helpers::user_id;

#[tokio::test]
async fn creating_a_group_returns_201_with_the_summary() {
    let api = spawn_api().await;
    let r = api
        .post(
            "/api/conversations",
            Some(&api.token_for("alice")),
            json!({"kind": "group", "memberIds": ["bob", "carol", "bob"], "title": "Team"}),
        )
        .await;
    let c = r.assert_status(201);
    assert!(c["id"].as_i64().is_some());
    assert!(c["uuid"].as_str().is_some_and(|u| u.len() == 36));
    assert_eq!(c["kind"], "group");
    assert_eq!(c["title"], "Team");
    assert_eq!(c["createdBy"], "alice");
    assert_eq!(c["lastSeq"], 0);
    assert_eq!(c["unreadCount"], 0);
    assert!(c["lastMessage"].is_null());
    assert!(
        c["createdAt"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000_000)
    );
    assert!(c["updatedAt"].as_i64().is_some());
    let members = c["members"].as_array().expect("members");
    assert_eq!(members.len(), 3);
    let alice = members
        .iter()
        .find(|m| m["userId"] == "alice")
        .expect("alice is a member");
    assert_eq!(alice["role"], "owner");
    assert_eq!(alice["lastReadSeq"], 0);
    assert_eq!(alice["lastDeliveredSeq"], 0);
    assert!(alice["joinedAt"].as_i64().is_some());
}

#[tokio::test]
async fn a_direct_conversation_is_deduplicated_in_both_directions() {
    let api = spawn_api().await;
    let first = api
        .post(
            "/api/conversations",
            Some(&api.token_for("alice")),
            json!({"kind": "direct", "memberIds": ["bob"]}),
        )
        .await;
    let id = first.assert_status(201)["id"].clone();
    let again = api
        .post(
            "/api/conversations",
            Some(&api.token_for("alice")),
            json!({"kind": "direct", "memberIds": ["bob"]}),
        )
        .await;
    assert_eq!(again.assert_status(200)["id"], id);
    let other_way = api
        .post(
            "/api/conversations",
            Some(&api.token_for("bob")),
            json!({"kind": "direct", "memberIds": ["alice"]}),
        )
        .await;
    assert_eq!(other_way.assert_status(200)["id"], id);
    assert_eq!(other_way.body["uuid"], first.body["uuid"]);
    let list = api
        .get("/api/conversations", Some(&api.token_for("bob")))
        .await;
    assert_eq!(list.assert_status(200).as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn creating_a_conversation_with_bad_input_is_refused_and_stores_nothing() {
    let api = spawn_api().await;
    let token = api.token_for("alice");
    let cases = [
        json!({"kind": "direct", "memberIds": []}),
        json!({"kind": "direct", "memberIds": ["alice"]}),
        json!({"kind": "direct", "memberIds": ["bob", "carol"]}),
        json!({"kind": "group", "memberIds": ["not a valid id"]}),
        json!({"kind": "group", "memberIds": ["bob"], "title": "t".repeat(201)}),
        json!({"kind": "triple", "memberIds": ["bob"]}),
        json!({"kind": "group"}),
        json!({"kind": "group", "memberIds": "bob"}),
    ];
    for body in cases {
        let r = api
            .post("/api/conversations", Some(&token), body.clone())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        r.assert_error(400, "INVALID_PAYLOAD");
    }
    api.raw(
        reqwest::Method::POST,
        "/api/conversations",
        &token,
        "application/json",
        "{not json",
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");
    api.raw(
        reqwest::Method::POST,
        "/api/conversations",
        &token,
        "text/plain",
        r#"{"kind":"direct","memberIds":["bob"]}"#,
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");

    let list = api.get("/api/conversations", Some(&token)).await;
    assert_eq!(list.assert_status(200), &json!([]));
    let bob = api.state.service.user(&user_id("bob")).await;
    assert!(bob.is_err(), "no placeholder was created for bob");
}

#[tokio::test]
async fn creating_and_listing_conversations_require_a_valid_token() {
    let api = spawn_api().await;
    api.assert_refuses_bad_tokens(
        reqwest::Method::POST,
        "/api/conversations",
        Some(json!({"kind": "direct", "memberIds": ["bob"]})),
    )
    .await;
    api.assert_refuses_bad_tokens(reqwest::Method::GET, "/api/conversations", None)
        .await;
    let list = api
        .get("/api/conversations", Some(&api.token_for("alice")))
        .await;
    assert_eq!(list.assert_status(200), &json!([]));
}

#[tokio::test]
async fn listing_conversations_shows_only_the_callers_most_recent_first() {
    let api = spawn_api().await;
    let g1 = api.conversation("alice", "group", &["bob"]).await;
    let g2 = api.conversation("alice", "group", &["bob"]).await;
    api.conversation("carol", "direct", &["dave"]).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    api.send("bob", &g1, "bump").await;

    let list = api
        .get("/api/conversations", Some(&api.token_for("alice")))
        .await;
    let ids: Vec<Value> = list
        .assert_status(200)
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, vec![g1["id"].clone(), g2["id"].clone()]);
    let first = &list.body[0];
    assert_eq!(first["lastMessage"]["text"], "bump");
    assert_eq!(first["unreadCount"], 1);

    let eve = api
        .get("/api/conversations", Some(&api.token_for("eve")))
        .await;
    assert_eq!(eve.assert_status(200), &json!([]));
}

#[tokio::test]
async fn a_conversation_is_found_by_id_or_uuid() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    api.send("alice", &c, "hello").await;
    let token = api.token_for("bob");
    let by_id = api
        .get(&format!("/api/conversations/{}", c["id"]), Some(&token))
        .await;
    let uuid = c["uuid"].as_str().expect("uuid");
    let by_uuid = api
        .get(&format!("/api/conversations/{uuid}"), Some(&token))
        .await;
    assert_eq!(by_id.assert_status(200), by_uuid.assert_status(200));
    assert_eq!(by_id.body["lastMessage"]["text"], "hello");
    assert_eq!(by_id.body["unreadCount"], 1);
    assert_eq!(by_id.body["lastSeq"], 1);
}

#[tokio::test]
async fn getting_a_conversation_with_a_bad_id_or_token_is_refused() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let token = api.token_for("alice");
    for bad in ["bad!id", "0", "-1", "1,5"] {
        api.get(&format!("/api/conversations/{bad}"), Some(&token))
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    for missing in ["999999", "123e4567-e89b-12d3-a456-426614174000"] {
        api.get(&format!("/api/conversations/{missing}"), Some(&token))
            .await
            .assert_error(404, "NOT_FOUND");
    }
    api.assert_refuses_bad_tokens(
        reqwest::Method::GET,
        &format!("/api/conversations/{}", c["id"]),
        None,
    )
    .await;
}

#[tokio::test]
async fn a_non_member_asking_for_someone_elses_conversation_gets_404() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "group", &["bob"]).await;
    let m = api.send("alice", &c, "secret").await;
    let eve = api.token_for("eve");
    let cid = &c["id"];
    let cuuid = c["uuid"].as_str().expect("uuid");
    let mid = &m["id"];

    let replies = [
        api.get(&format!("/api/conversations/{cid}"), Some(&eve))
            .await,
        api.get(&format!("/api/conversations/{cuuid}"), Some(&eve))
            .await,
        api.get(&format!("/api/conversations/{cid}/messages"), Some(&eve))
            .await,
        api.post(
            &format!("/api/conversations/{cid}/messages"),
            Some(&eve),
            json!({"text": "let me in"}),
        )
        .await,
        api.post(
            &format!("/api/conversations/{cid}/members"),
            Some(&eve),
            json!({"userId": "eve"}),
        )
        .await,
        api.delete(&format!("/api/conversations/{cid}/members/bob"), Some(&eve))
            .await,
        api.patch(
            &format!("/api/messages/{mid}"),
            Some(&eve),
            json!({"text": "defaced"}),
        )
        .await,
        api.delete(&format!("/api/messages/{mid}"), Some(&eve))
            .await,
        api.post(&format!("/api/messages/{mid}/read"), Some(&eve), json!({}))
            .await,
    ];
    for r in replies {
        r.assert_error(404, "NOT_FOUND");
        assert!(!r.body.to_string().contains("secret"), "leaked: {}", r.body);
    }
    assert_eq!(api.message_count("alice", &c).await, 1);
    let conv = api
        .get(
            &format!("/api/conversations/{cid}"),
            Some(&api.token_for("alice")),
        )
        .await;
    assert_eq!(
        conv.assert_status(200)["members"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn adding_a_member_returns_the_summary_and_gives_them_access() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "group", &["bob"]).await;
    let path = format!("/api/conversations/{}/members", c["id"]);
    let r = api
        .post(
            &path,
            Some(&api.token_for("alice")),
            json!({"userId": "carol"}),
        )
        .await;
    let body = r.assert_status(200);
    assert!(body["members"].as_array().is_some_and(|ms| {
        ms.iter()
            .any(|m| m["userId"] == "carol" && m["role"] == "member")
    }));
    let carol = api
        .get(
            &format!("/api/conversations/{}", c["id"]),
            Some(&api.token_for("carol")),
        )
        .await;
    carol.assert_status(200);
}

#[tokio::test]
async fn adding_a_member_with_bad_input_is_refused_and_changes_nothing() {
    let api = spawn_api().await;
    let group = api.conversation("alice", "group", &["bob"]).await;
    let direct = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/members", group["id"]);
    let alice = api.token_for("alice");
    for body in [
        json!({"userId": "not valid"}),
        json!({}),
        json!({"userId": 5}),
    ] {
        api.post(&path, Some(&alice), body)
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    api.post(
        &path,
        Some(&api.token_for("bob")),
        json!({"userId": "carol"}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    api.post(
        &format!("/api/conversations/{}/members", direct["id"]),
        Some(&alice),
        json!({"userId": "carol"}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    api.assert_refuses_bad_tokens(
        reqwest::Method::POST,
        &path,
        Some(json!({"userId": "carol"})),
    )
    .await;
    let conv = api
        .get(&format!("/api/conversations/{}", group["id"]), Some(&alice))
        .await;
    assert_eq!(
        conv.assert_status(200)["members"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn removing_a_member_answers_204_and_they_lose_access() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "group", &["bob", "carol"]).await;
    let r = api
        .delete(
            &format!("/api/conversations/{}/members/bob", c["id"]),
            Some(&api.token_for("alice")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_null());
    api.get(
        &format!("/api/conversations/{}", c["id"]),
        Some(&api.token_for("bob")),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    // A member may leave.
    let r = api
        .delete(
            &format!("/api/conversations/{}/members/carol", c["id"]),
            Some(&api.token_for("carol")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn removing_a_member_with_bad_input_is_refused_and_changes_nothing() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "group", &["bob", "carol"]).await;
    let alice = api.token_for("alice");
    let base = format!("/api/conversations/{}/members", c["id"]);
    api.delete(&format!("{base}/not%20valid"), Some(&alice))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    api.delete(&format!("{base}/zed"), Some(&alice))
        .await
        .assert_error(404, "NOT_FOUND");
    api.delete(&format!("{base}/carol"), Some(&api.token_for("bob")))
        .await
        .assert_error(403, "FORBIDDEN");
    api.delete(&format!("{base}/alice"), Some(&api.token_for("bob")))
        .await
        .assert_error(403, "FORBIDDEN");
    api.assert_refuses_bad_tokens(reqwest::Method::DELETE, &format!("{base}/carol"), None)
        .await;
    let conv = api
        .get(&format!("/api/conversations/{}", c["id"]), Some(&alice))
        .await;
    assert_eq!(
        conv.assert_status(200)["members"].as_array().map(Vec::len),
        Some(3)
    );
}
