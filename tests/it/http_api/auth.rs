//! Registering, logging in, and the tokens every endpoint checks.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{SECRET, expired_token, signed, spawn_api};
use crate::helpers::{now_secs, user_id};

#[tokio::test]
async fn registering_returns_201_with_a_token_that_works_on_api_me() {
    let api = spawn_api().await;
    let r = api
        .post(
            "/api/auth/register",
            None,
            json!({"username": "alice", "password": "correct horse", "displayName": "Alice A."}),
        )
        .await;
    let body = r.assert_status(201);
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["displayName"], "Alice A.");
    assert!(
        body["user"]["createdAt"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000_000)
    );
    let token = body["token"].as_str().expect("token").to_owned();
    let me = api.get("/api/me", Some(&token)).await;
    assert_eq!(me.assert_status(200)["id"], body["user"]["id"]);
    assert_eq!(me.body["displayName"], "Alice A.");
}

#[tokio::test]
async fn registering_a_taken_username_is_a_conflict() {
    let api = spawn_api().await;
    let creds = json!({"username": "alice", "password": "correct horse"});
    api.post("/api/auth/register", None, creds.clone())
        .await
        .assert_status(201);
    api.post("/api/auth/register", None, creds)
        .await
        .assert_error(409, "CONFLICT");
    api.post(
        "/api/auth/register",
        None,
        json!({"username": "ALICE", "password": "another pass"}),
    )
    .await
    .assert_error(409, "CONFLICT");
}

#[tokio::test]
async fn registering_with_bad_input_is_refused_and_stores_nothing() {
    let api = spawn_api().await;
    let cases = [
        json!({"username": "a b", "password": "correct horse"}),
        json!({"username": "xy", "password": "correct horse"}),
        json!({"username": "bob", "password": "short"}),
        json!({"username": "bob", "password": "correct horse", "displayName": "   "}),
        json!({"username": "bob"}),
        json!({"username": 7, "password": "correct horse"}),
        json!("bob:correct horse"),
    ];
    for body in cases {
        api.post("/api/auth/register", None, body.clone())
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    for username in ["a b", "xy", "bob"] {
        let r = api
            .post(
                "/api/auth/login",
                None,
                json!({"username": username, "password": "correct horse"}),
            )
            .await;
        r.assert_error(401, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn logging_in_returns_a_token_for_the_registered_user() {
    let api = spawn_api().await;
    let reg = api
        .post(
            "/api/auth/register",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    let id = reg.assert_status(201)["user"]["id"].clone();
    let r = api
        .post(
            "/api/auth/login",
            None,
            json!({"username": "Alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(r.assert_status(200)["user"]["id"], id);
    let token = r.body["token"].as_str().expect("token");
    assert_eq!(
        api.get("/api/me", Some(token)).await.assert_status(200)["id"],
        id
    );
}

#[tokio::test]
async fn logging_in_with_a_wrong_password_is_unauthorized() {
    let api = spawn_api().await;
    api.post(
        "/api/auth/register",
        None,
        json!({"username": "alice", "password": "correct horse"}),
    )
    .await
    .assert_status(201);
    for body in [
        json!({"username": "alice", "password": "wrong horse"}),
        json!({"username": "nobody", "password": "correct horse"}),
    ] {
        let r = api.post("/api/auth/login", None, body).await;
        r.assert_error(401, "UNAUTHENTICATED");
        assert_eq!(r.headers["www-authenticate"], "Bearer");
        assert!(r.body["token"].is_null());
    }
    api.post("/api/auth/login", None, json!({"username": "alice"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
}

#[tokio::test]
async fn api_me_refuses_missing_bad_and_expired_tokens() {
    let api = spawn_api().await;
    api.assert_refuses_bad_tokens(reqwest::Method::GET, "/api/me", None)
        .await;
    let r = api.get("/api/me", None).await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Bearer")),
        "{}",
        r.body
    );
    let expired = api.get("/api/me", Some(&expired_token())).await;
    assert_eq!(expired.body["error"]["message"], "token expired");
}

#[tokio::test]
async fn a_raw_token_without_the_bearer_scheme_is_accepted() {
    let api = spawn_api().await;
    let r = api
        .client
        .get(format!("{}/api/me", api.base))
        .header("authorization", api.token_for("alice"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_first_token_provisions_an_unknown_user_from_its_claims() {
    let api = spawn_api().await;
    let token = signed(
        json!({
            "sub": "ext-42",
            "exp": now_secs() + 600,
            "name": "Ext User",
            "email": "ext@example.com",
            "picture": "https://cdn.example.com/ext.png",
        }),
        SECRET,
    );
    let me = api.get("/api/me", Some(&token)).await;
    let body = me.assert_status(200);
    assert_eq!(body["id"], "ext-42");
    assert_eq!(body["displayName"], "Ext User");
    assert_eq!(body["email"], "ext@example.com");
    assert_eq!(body["avatarUrl"], "https://cdn.example.com/ext.png");
}

#[tokio::test]
async fn a_placeholder_member_is_filled_in_from_their_first_token() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let bob_id = user_id("bob");
    let stored = api.state.service.user(&bob_id).await.expect("bob exists");
    assert!(stored.placeholder);
    assert_eq!(stored.display_name, None);

    let token = api
        .state
        .keys
        .issue("bob", Some("Bob Builder"), Duration::from_secs(600))
        .expect("token");
    let me = api.get("/api/me", Some(&token)).await;
    assert_eq!(me.assert_status(200)["displayName"], "Bob Builder");
    let stored = api.state.service.user(&bob_id).await.expect("bob exists");
    assert!(!stored.placeholder);

    let r = api
        .get(&format!("/api/conversations/{}", c["id"]), Some(&token))
        .await;
    assert_eq!(r.assert_status(200)["id"], c["id"]);
}
