//! `/api/friendships`: requests and answers, blocks.

use serde_json::{Value, json};

use super::spawn_api;

#[tokio::test]
async fn a_friend_request_is_listed_for_both_and_accepted_by_its_addressee() {
    let api = spawn_api().await;
    let (alice, bob) = (api.token_for("alice"), api.token_for("bob"));
    let r = api
        .post("/api/friendships", Some(&alice), json!({"userId": "bob"}))
        .await;
    let f = r.assert_status(200).clone();
    assert_eq!(f["userId"], "bob");
    assert_eq!(f["status"], 0);
    assert_eq!(f["statusName"], "pending");
    assert_eq!(f["requestedBy"], "alice");
    assert!(f["blockedBy"].is_null());
    assert!(
        f["createdAt"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000_000)
    );
    assert_eq!(f["updatedAt"], f["createdAt"]);

    let r = api.get("/api/friendships", Some(&bob)).await;
    let list = r.assert_status(200).clone();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["userId"], "alice");
    assert_eq!(list[0]["requestedBy"], "alice");

    let r = api
        .post("/api/friendships/alice/accept", Some(&bob), json!({}))
        .await;
    let f = r.assert_status(200).clone();
    assert_eq!(
        (f["status"].clone(), f["statusName"].clone()),
        (json!(1), json!("accepted"))
    );
    assert_eq!(f["userId"], "alice");

    let r = api.get("/api/friendships", Some(&alice)).await;
    assert_eq!(r.assert_status(200)[0]["statusName"], "accepted");
}

#[tokio::test]
async fn a_rejected_request_can_be_asked_again_the_other_way() {
    let api = spawn_api().await;
    let (alice, bob) = (api.token_for("alice"), api.token_for("bob"));
    api.post("/api/friendships", Some(&alice), json!({"userId": "bob"}))
        .await
        .assert_status(200);
    let r = api
        .post("/api/friendships/alice/reject", Some(&bob), json!({}))
        .await;
    assert_eq!(r.assert_status(200)["status"], 2);
    let r = api
        .post("/api/friendships", Some(&bob), json!({"userId": "alice"}))
        .await;
    let f = r.assert_status(200);
    assert_eq!(
        (f["status"].clone(), f["requestedBy"].clone()),
        (json!(0), json!("bob"))
    );
}

#[tokio::test]
async fn friendship_requests_with_bad_input_are_refused_and_store_nothing() {
    let api = spawn_api().await;
    let alice = api.token_for("alice");
    for body in [
        json!({}),
        json!({"userId": 42}),
        json!({"userId": ""}),
        json!({"userId": "a b"}),
        json!({"userId": "alice"}),
    ] {
        api.post("/api/friendships", Some(&alice), body.clone())
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    for path in [
        "/api/friendships/a%20b/accept",
        "/api/friendships/a%20b/reject",
        "/api/friendships/a%20b/block",
        "/api/friendships/alice/block",
    ] {
        api.post(path, Some(&alice), json!({}))
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    api.delete("/api/friendships/a%20b/block", Some(&alice))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    let r = api.get("/api/friendships", Some(&alice)).await;
    assert_eq!(r.assert_status(200), &json!([]));
}

#[tokio::test]
async fn friendship_and_device_routes_require_a_valid_token() {
    let api = spawn_api().await;
    use reqwest::Method;
    let routes: [(Method, &str, Option<Value>); 8] = [
        (Method::GET, "/api/friendships", None),
        (
            Method::POST,
            "/api/friendships",
            Some(json!({"userId": "bob"})),
        ),
        (Method::POST, "/api/friendships/bob/accept", Some(json!({}))),
        (Method::POST, "/api/friendships/bob/reject", Some(json!({}))),
        (Method::POST, "/api/friendships/bob/block", Some(json!({}))),
        (Method::DELETE, "/api/friendships/bob/block", None),
        (
            Method::POST,
            "/api/devices",
            Some(json!({"token": "t", "platform": "android"})),
        ),
        (Method::DELETE, "/api/devices/t", None),
    ];
    for (method, path, body) in routes {
        api.assert_refuses_bad_tokens(method, path, body).await;
    }
}

#[tokio::test]
async fn only_the_addressee_answers_a_friend_request() {
    let api = spawn_api().await;
    let (alice, bob, carol) = (
        api.token_for("alice"),
        api.token_for("bob"),
        api.token_for("carol"),
    );
    api.post("/api/friendships", Some(&alice), json!({"userId": "bob"}))
        .await
        .assert_status(200);
    // The requester cannot accept on bob's behalf.
    api.post("/api/friendships/bob/accept", Some(&alice), json!({}))
        .await
        .assert_error(403, "FORBIDDEN");
    api.post("/api/friendships/bob/reject", Some(&alice), json!({}))
        .await
        .assert_error(403, "FORBIDDEN");
    // A third user has no request from alice to answer.
    api.post("/api/friendships/alice/accept", Some(&carol), json!({}))
        .await
        .assert_error(404, "NOT_FOUND");
    let r = api.get("/api/friendships", Some(&bob)).await;
    assert_eq!(r.assert_status(200)[0]["statusName"], "pending");
    assert_eq!(
        api.get("/api/friendships", Some(&carol))
            .await
            .assert_status(200),
        &json!([])
    );
}

#[tokio::test]
async fn a_block_stops_direct_messages_both_ways_until_unblocked() {
    let api = spawn_api().await;
    let (alice, bob) = (api.token_for("alice"), api.token_for("bob"));
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    api.send("bob", &c, "before").await;

    let r = api
        .post("/api/friendships/bob/block", Some(&alice), json!({}))
        .await;
    let f = r.assert_status(200).clone();
    assert_eq!(
        (f["status"].clone(), f["blockedBy"].clone()),
        (json!(3), json!("alice"))
    );
    let r = api.get("/api/friendships", Some(&bob)).await;
    assert_eq!(r.assert_status(200)[0]["statusName"], "blocked");

    for token in [&alice, &bob] {
        api.post(&path, Some(token), json!({"text": "blocked"}))
            .await
            .assert_error(403, "FORBIDDEN");
    }
    assert_eq!(api.message_count("alice", &c).await, 1);
    // Neither a friend request nor an unblock by the blocked user.
    api.post("/api/friendships", Some(&bob), json!({"userId": "alice"}))
        .await
        .assert_error(403, "FORBIDDEN");
    api.delete("/api/friendships/alice/block", Some(&bob))
        .await
        .assert_error(403, "FORBIDDEN");

    api.delete("/api/friendships/bob/block", Some(&alice))
        .await
        .assert_status(204);
    let r = api.get("/api/friendships", Some(&alice)).await;
    assert_eq!(r.assert_status(200), &json!([]));
    api.send("bob", &c, "after").await;
    api.send("alice", &c, "back").await;
    api.delete("/api/friendships/bob/block", Some(&alice))
        .await
        .assert_error(404, "NOT_FOUND");
}
