//! Registering, logging in, and the tokens every endpoint checks.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use confab::core::login::{LoginLimits, Registration};
use confab::core::service::Limits;

use super::{Api, SECRET, expired_token, signed, spawn_api, spawn_api_with};
use crate::helpers::http::Reply;
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

fn closed() -> Limits {
    Limits {
        registration: Registration::Closed,
        ..Limits::default()
    }
}

#[tokio::test]
async fn with_registration_closed_every_register_route_answers_403_and_stores_nothing() {
    let api = spawn_api_with(|_| {}, closed()).await;
    let r = api
        .post(
            "/api/auth/register",
            None,
            json!({"username": "mallory", "password": "correct horse"}),
        )
        .await;
    let message = r.assert_error(403, "FORBIDDEN");
    assert!(message.contains("registration is closed"), "{message}");
    for path in ["/api/v1/auth/register", "/api/v1/user/register"] {
        let r = api
            .post(
                path,
                None,
                json!({"email": "mallory@example.com", "fullName": "M", "name": "M",
                       "password": "correct horse"}),
            )
            .await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert_eq!(r.body["success"], false, "{path}: {}", r.body);
        assert_eq!(r.body["code"], "FORBIDDEN", "{path}: {}", r.body);
    }
    for (path, body) in [
        (
            "/api/auth/login",
            json!({"username": "mallory", "password": "correct horse"}),
        ),
        (
            "/api/v1/auth/login",
            json!({"email": "mallory@example.com", "password": "correct horse"}),
        ),
    ] {
        let r = api.post(path, None, body).await;
        assert_eq!(r.status, 401, "nothing was stored: {path}: {}", r.body);
    }
    // Users still come from tokens, and from the operator.
    let token = api.token_for("tokenuser");
    api.get("/api/me", Some(&token)).await.assert_status(200);
    api.state
        .service
        .register(None, "operator-made", "correct horse", None)
        .await
        .expect("the operator adds a user");
    api.post(
        "/api/auth/login",
        None,
        json!({"username": "operator-made", "password": "correct horse"}),
    )
    .await
    .assert_status(200);
}

fn throttled(per_account: u32, per_address: u32, window: Duration) -> Limits {
    Limits {
        logins: LoginLimits {
            per_account,
            per_address,
            window,
        },
        ..Limits::default()
    }
}

async fn register(api: &Api, username: &str) {
    api.post(
        "/api/auth/register",
        None,
        json!({"username": username, "password": "correct horse"}),
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_is_throttled_and_the_right_one_works_after_the_window() {
    let window = Duration::from_secs(2);
    let api = spawn_api_with(|_| {}, throttled(5, 0, window)).await;
    register(&api, "alice").await;
    register(&api, "bob").await;
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let r = api
            .post(
                "/api/auth/login",
                None,
                json!({"username": "alice", "password": "wrong horse"}),
            )
            .await;
        if r.status == 429 {
            r.assert_error(429, "RATE_LIMITED");
            let secs: u64 = r.headers["retry-after"]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("seconds");
            assert!((1..=2).contains(&secs), "Retry-After {secs}");
        }
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 25);
    // The right password is refused too while the account is locked...
    let right = json!({"username": "ALICE", "password": "correct horse"});
    if started.elapsed() < window {
        api.post("/api/auth/login", None, right.clone())
            .await
            .assert_error(429, "RATE_LIMITED");
    }
    // ... another account is not ...
    api.post(
        "/api/auth/login",
        None,
        json!({"username": "bob", "password": "correct horse"}),
    )
    .await
    .assert_status(200);
    // ... and after the window the right password works.
    tokio::time::sleep(window.saturating_sub(started.elapsed()) + Duration::from_millis(200)).await;
    api.post("/api/auth/login", None, right)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_successful_login_resets_the_account_count() {
    let api = spawn_api_with(|_| {}, throttled(3, 0, Duration::from_secs(60))).await;
    register(&api, "alice").await;
    let wrong = json!({"username": "alice", "password": "wrong horse"});
    let right = json!({"username": "alice", "password": "correct horse"});
    for _ in 0..2 {
        for _ in 0..2 {
            api.post("/api/auth/login", None, wrong.clone())
                .await
                .assert_error(401, "UNAUTHENTICATED");
        }
        api.post("/api/auth/login", None, right.clone())
            .await
            .assert_status(200);
    }
    for _ in 0..3 {
        api.post("/api/auth/login", None, wrong.clone()).await;
    }
    api.post("/api/auth/login", None, right)
        .await
        .assert_error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn every_login_route_counts_and_v_chat_answers_429_in_its_shape() {
    let api = spawn_api_with(|_| {}, throttled(2, 0, Duration::from_secs(60))).await;
    register(&api, "carol@example.com").await;
    let wrong = |_| json!({"email": "carol@example.com", "password": "wrong horse"});
    api.post("/api/v1/auth/login", None, wrong(0)).await;
    api.post("/api/v1/user/login", None, wrong(1)).await;
    for path in ["/api/v1/auth/login", "/api/v1/user/login"] {
        let r = api.post(path, None, wrong(2)).await;
        assert_eq!(r.status, 429, "{path}: {}", r.body);
        assert_eq!(r.body["success"], false);
        assert_eq!(r.body["code"], "RATE_LIMITED");
        assert!(r.headers.contains_key("retry-after"), "{path}");
    }
    api.post(
        "/api/auth/login",
        None,
        json!({"username": "carol@example.com", "password": "correct horse"}),
    )
    .await
    .assert_error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn failed_logins_from_one_address_are_throttled_across_accounts() {
    let api = spawn_api_with(
        |c| c.auth.client_ip_header = Some("X-Forwarded-For".into()),
        throttled(100, 4, Duration::from_secs(60)),
    )
    .await;
    register(&api, "dave").await;
    let login = |ip: &str, user: &str, pw: &str| {
        api.client
            .post(format!("{}/api/auth/login", api.base))
            .header("x-forwarded-for", format!("203.0.113.99, {ip}"))
            .json(&json!({"username": user, "password": pw}))
    };
    for i in 0..4 {
        let r = Reply::of(login("198.51.100.1", &format!("guess{i}"), "nope")).await;
        r.assert_error(401, "UNAUTHENTICATED");
    }
    Reply::of(login("198.51.100.1", "dave", "correct horse"))
        .await
        .assert_error(429, "RATE_LIMITED");
    // The last address of the header is the client: another one logs in.
    Reply::of(login("198.51.100.2", "dave", "correct horse"))
        .await
        .assert_status(200);
}
