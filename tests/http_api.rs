//! The REST API, served in-process on a random port over a fresh SQLite
//! database and driven with reqwest.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use confab::auth::jwt::JwtKeys;
use confab::config::Config;
use confab::core::UserId;
use confab::core::service::{Limits, Service};
use confab::fanout::Bus;
use confab::state::AppState;
use confab::store::DynStore;
use confab::store::sqlite::SqliteStore;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const SECRET: &[u8] = b"http-api-test-secret-that-is-long-enough";

struct Api {
    base: String,
    client: reqwest::Client,
    state: AppState,
    sqlite: Arc<SqliteStore>,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    /// Asserts the error shape `{"error": {"code", "message"}}`.
    #[track_caller]
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "no message: {}",
            self.body
        );
    }

    #[track_caller]
    fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }
}

async fn spawn() -> Api {
    spawn_with(|_| {}, Limits::default()).await
}

async fn spawn_with(adjust: impl FnOnce(&mut Config), limits: Limits) -> Api {
    let sqlite = Arc::new(
        SqliteStore::open("sqlite::memory:")
            .await
            .expect("in-memory store"),
    );
    let store: DynStore = sqlite.clone();
    let service = Service::new(store, Bus::new(), limits);
    let mut config = Config::default();
    adjust(&mut config);
    let keys = JwtKeys::from_secret(SECRET, &config.auth);
    let state = AppState {
        service,
        keys: Arc::new(keys),
        media: Arc::new(confab::media::Media::new(&config)),
        config: Arc::new(config),
        cluster: None,
    };
    let app = confab::http::router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Api {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        state,
        sqlite,
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A token with arbitrary claims, signed with `secret`.
fn signed(claims: Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

/// The unauthorized variants every protected endpoint must refuse.
fn bad_tokens() -> Vec<(&'static str, Option<String>)> {
    vec![
        ("no token", None),
        ("garbage token", Some("not-a-jwt".to_owned())),
        (
            "token signed with another secret",
            Some(signed(
                json!({"sub": "alice", "exp": now_secs() + 3600}),
                b"some-other-secret-of-sufficient-length",
            )),
        ),
        (
            "expired token",
            Some(signed(
                json!({"sub": "alice", "exp": now_secs() - 3600}),
                SECRET,
            )),
        ),
    ]
}

impl Api {
    fn token(&self, user: &str) -> String {
        self.state
            .keys
            .issue(
                user,
                Some(&format!("{user} name")),
                Duration::from_secs(3600),
            )
            .expect("token")
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req).await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(reqwest::Method::PATCH, path, token, Some(body))
            .await
    }

    async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(reqwest::Method::DELETE, path, token, None).await
    }

    /// A request with a raw body and content type.
    async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        ct: &str,
        body: &str,
    ) -> Reply {
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", ct)
            .body(body.to_owned());
        reply(req).await
    }

    /// Creates a conversation as `creator`; returns its JSON.
    async fn conversation(&self, creator: &str, kind: &str, others: &[&str]) -> Value {
        let r = self
            .post(
                "/api/conversations",
                Some(&self.token(creator)),
                json!({"kind": kind, "memberIds": others}),
            )
            .await;
        assert!(r.status.is_success(), "create failed: {}", r.body);
        r.body
    }

    /// Sends `text` as `sender`; returns the message JSON.
    async fn send(&self, sender: &str, conversation: &Value, text: &str) -> Value {
        let r = self
            .post(
                &format!("/api/conversations/{}/messages", conversation["id"]),
                Some(&self.token(sender)),
                json!({"text": text}),
            )
            .await;
        r.assert_status(201).clone()
    }

    async fn history(&self, user: &str, conversation: &Value, query: &str) -> Reply {
        self.get(
            &format!("/api/conversations/{}/messages{query}", conversation["id"]),
            Some(&self.token(user)),
        )
        .await
    }

    async fn message_count(&self, user: &str, conversation: &Value) -> usize {
        let r = self.history(user, conversation, "?limit=100").await;
        r.assert_status(200)["messages"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(usize::MAX)
    }

    /// Checks every bad-token variant against one request.
    async fn assert_refuses_bad_tokens(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) {
        for (what, token) in bad_tokens() {
            let r = self
                .call(method.clone(), path, token.as_deref(), body.clone())
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{what} on {method} {path}: {}",
                r.body
            );
            assert_eq!(r.body["error"]["code"], "UNAUTHENTICATED", "{what}");
            assert_eq!(
                r.headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer"),
                "{what}"
            );
        }
    }
}

async fn reply(req: reqwest::RequestBuilder) -> Reply {
    let res = req.send().await.expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .map(|ms| ms.iter().filter_map(|m| m["seq"].as_i64()).collect())
        .unwrap_or_default()
}

// ------------------------------------------------------------------- auth

#[tokio::test]
async fn registering_returns_201_with_a_token_that_works_on_api_me() {
    let api = spawn().await;
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
    let api = spawn().await;
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
    let api = spawn().await;
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
    let api = spawn().await;
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
    let api = spawn().await;
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
    let api = spawn().await;
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
    let expired = api
        .get(
            "/api/me",
            Some(&signed(
                json!({"sub": "alice", "exp": now_secs() - 3600}),
                SECRET,
            )),
        )
        .await;
    assert_eq!(expired.body["error"]["message"], "token expired");
}

#[tokio::test]
async fn a_raw_token_without_the_bearer_scheme_is_accepted() {
    let api = spawn().await;
    let r = api
        .client
        .get(format!("{}/api/me", api.base))
        .header("authorization", api.token("alice"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_first_token_provisions_an_unknown_user_from_its_claims() {
    let api = spawn().await;
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
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let bob_id = UserId::parse("bob").expect("id");
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

// ---------------------------------------------------------- conversations

#[tokio::test]
async fn creating_a_group_returns_201_with_the_summary() {
    let api = spawn().await;
    let r = api
        .post(
            "/api/conversations",
            Some(&api.token("alice")),
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
    let api = spawn().await;
    let first = api
        .post(
            "/api/conversations",
            Some(&api.token("alice")),
            json!({"kind": "direct", "memberIds": ["bob"]}),
        )
        .await;
    let id = first.assert_status(201)["id"].clone();
    let again = api
        .post(
            "/api/conversations",
            Some(&api.token("alice")),
            json!({"kind": "direct", "memberIds": ["bob"]}),
        )
        .await;
    assert_eq!(again.assert_status(200)["id"], id);
    let other_way = api
        .post(
            "/api/conversations",
            Some(&api.token("bob")),
            json!({"kind": "direct", "memberIds": ["alice"]}),
        )
        .await;
    assert_eq!(other_way.assert_status(200)["id"], id);
    assert_eq!(other_way.body["uuid"], first.body["uuid"]);
    let list = api.get("/api/conversations", Some(&api.token("bob"))).await;
    assert_eq!(list.assert_status(200).as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn creating_a_conversation_with_bad_input_is_refused_and_stores_nothing() {
    let api = spawn().await;
    let token = api.token("alice");
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
    let bob = api
        .state
        .service
        .user(&UserId::parse("bob").expect("id"))
        .await;
    assert!(bob.is_err(), "no placeholder was created for bob");
}

#[tokio::test]
async fn creating_and_listing_conversations_require_a_valid_token() {
    let api = spawn().await;
    api.assert_refuses_bad_tokens(
        reqwest::Method::POST,
        "/api/conversations",
        Some(json!({"kind": "direct", "memberIds": ["bob"]})),
    )
    .await;
    api.assert_refuses_bad_tokens(reqwest::Method::GET, "/api/conversations", None)
        .await;
    let list = api
        .get("/api/conversations", Some(&api.token("alice")))
        .await;
    assert_eq!(list.assert_status(200), &json!([]));
}

#[tokio::test]
async fn listing_conversations_shows_only_the_callers_most_recent_first() {
    let api = spawn().await;
    let g1 = api.conversation("alice", "group", &["bob"]).await;
    let g2 = api.conversation("alice", "group", &["bob"]).await;
    api.conversation("carol", "direct", &["dave"]).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    api.send("bob", &g1, "bump").await;

    let list = api
        .get("/api/conversations", Some(&api.token("alice")))
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

    let eve = api.get("/api/conversations", Some(&api.token("eve"))).await;
    assert_eq!(eve.assert_status(200), &json!([]));
}

#[tokio::test]
async fn a_conversation_is_found_by_id_or_uuid() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    api.send("alice", &c, "hello").await;
    let token = api.token("bob");
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
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let token = api.token("alice");
    for bad in ["abc", "0", "-1", "1.5"] {
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
    let api = spawn().await;
    let c = api.conversation("alice", "group", &["bob"]).await;
    let m = api.send("alice", &c, "secret").await;
    let eve = api.token("eve");
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
            Some(&api.token("alice")),
        )
        .await;
    assert_eq!(
        conv.assert_status(200)["members"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn adding_a_member_returns_the_summary_and_gives_them_access() {
    let api = spawn().await;
    let c = api.conversation("alice", "group", &["bob"]).await;
    let path = format!("/api/conversations/{}/members", c["id"]);
    let r = api
        .post(&path, Some(&api.token("alice")), json!({"userId": "carol"}))
        .await;
    let body = r.assert_status(200);
    assert!(body["members"].as_array().is_some_and(|ms| {
        ms.iter()
            .any(|m| m["userId"] == "carol" && m["role"] == "member")
    }));
    let carol = api
        .get(
            &format!("/api/conversations/{}", c["id"]),
            Some(&api.token("carol")),
        )
        .await;
    carol.assert_status(200);
}

#[tokio::test]
async fn adding_a_member_with_bad_input_is_refused_and_changes_nothing() {
    let api = spawn().await;
    let group = api.conversation("alice", "group", &["bob"]).await;
    let direct = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/members", group["id"]);
    let alice = api.token("alice");
    for body in [
        json!({"userId": "not valid"}),
        json!({}),
        json!({"userId": 5}),
    ] {
        api.post(&path, Some(&alice), body)
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    api.post(&path, Some(&api.token("bob")), json!({"userId": "carol"}))
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
    let api = spawn().await;
    let c = api.conversation("alice", "group", &["bob", "carol"]).await;
    let r = api
        .delete(
            &format!("/api/conversations/{}/members/bob", c["id"]),
            Some(&api.token("alice")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_null());
    api.get(
        &format!("/api/conversations/{}", c["id"]),
        Some(&api.token("bob")),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    // A member may leave.
    let r = api
        .delete(
            &format!("/api/conversations/{}/members/carol", c["id"]),
            Some(&api.token("carol")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn removing_a_member_with_bad_input_is_refused_and_changes_nothing() {
    let api = spawn().await;
    let c = api.conversation("alice", "group", &["bob", "carol"]).await;
    let alice = api.token("alice");
    let base = format!("/api/conversations/{}/members", c["id"]);
    api.delete(&format!("{base}/not%20valid"), Some(&alice))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    api.delete(&format!("{base}/zed"), Some(&alice))
        .await
        .assert_error(404, "NOT_FOUND");
    api.delete(&format!("{base}/carol"), Some(&api.token("bob")))
        .await
        .assert_error(403, "FORBIDDEN");
    api.delete(&format!("{base}/alice"), Some(&api.token("bob")))
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

// --------------------------------------------------------------- messages

#[tokio::test]
async fn sending_a_message_returns_201_and_it_appears_in_history() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let r = api
        .post(
            &format!(
                "/api/conversations/{}/messages",
                c["uuid"].as_str().expect("uuid")
            ),
            Some(&api.token("alice")),
            json!({"text": "hi bob", "attachmentUrls": ["https://cdn.example.com/a.png"]}),
        )
        .await;
    let m = r.assert_status(201).clone();
    assert!(m["id"].as_i64().is_some());
    assert!(m["uuid"].as_str().is_some_and(|u| u.len() == 36));
    assert_eq!(m["conversationId"], c["id"]);
    assert_eq!(m["conversationUuid"], c["uuid"]);
    assert_eq!(m["seq"], 1);
    assert_eq!(m["senderId"], "alice");
    assert_eq!(m["text"], "hi bob");
    assert_eq!(
        m["attachmentUrls"],
        json!(["https://cdn.example.com/a.png"])
    );
    assert!(m["clientId"].is_null());
    assert!(
        m["createdAt"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000_000)
    );
    assert!(m["editedAt"].is_null());
    assert!(m["deletedAt"].is_null());

    let page = api.history("bob", &c, "").await;
    // History adds how far the message got: no socket of bob's was sent it.
    let mut listed = m.clone();
    listed["status"] = json!("sent");
    assert_eq!(page.assert_status(200)["messages"], json!([listed]));
    assert_eq!(page.body["hasMore"], false);
}

#[tokio::test]
async fn a_client_id_retry_returns_the_first_message_and_stores_one() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    let token = api.token("alice");
    let first = api
        .post(
            &path,
            Some(&token),
            json!({"text": "once", "clientId": "c-1"}),
        )
        .await;
    first.assert_status(201);
    assert_eq!(first.body["clientId"], "c-1");
    let retry = api
        .post(
            &path,
            Some(&token),
            json!({"text": "once", "clientId": "c-1"}),
        )
        .await;
    assert_eq!(retry.assert_status(200), &first.body);
    assert_eq!(api.message_count("alice", &c).await, 1);
}

#[tokio::test]
async fn a_10001_character_text_is_refused_and_nothing_is_stored() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    let token = api.token("alice");
    let r = api
        .post(&path, Some(&token), json!({"text": "é".repeat(10_001)}))
        .await;
    r.assert_error(400, "INVALID_PAYLOAD");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("10000")),
        "{}",
        r.body
    );
    assert_eq!(api.message_count("alice", &c).await, 0);
    api.post(&path, Some(&token), json!({"text": "é".repeat(10_000)}))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn sending_bad_input_is_refused_and_nothing_is_stored() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    let token = api.token("alice");
    for body in [
        json!({}),
        json!({"text": "   "}),
        json!({"text": 42}),
        json!({"attachmentUrls": ["javascript:alert(1)"]}),
        json!({"attachmentUrls": "https://x.example/a.png"}),
        json!({"text": "hi", "clientId": ""}),
        json!({"text": "hi", "clientId": "has space"}),
        json!({"text": "hi", "attachmentUrls": vec!["/uploads/a.png"; 11]}),
    ] {
        let r = api.post(&path, Some(&token), body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        r.assert_error(400, "INVALID_PAYLOAD");
    }
    api.raw(
        reqwest::Method::POST,
        &path,
        &token,
        "application/json",
        "[1,2",
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");
    api.post(
        "/api/conversations/nonsense/messages",
        Some(&token),
        json!({"text": "hi"}),
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");
    assert_eq!(api.message_count("alice", &c).await, 0);
}

#[tokio::test]
async fn sending_and_reading_history_require_a_valid_token() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    api.assert_refuses_bad_tokens(reqwest::Method::POST, &path, Some(json!({"text": "hi"})))
        .await;
    api.assert_refuses_bad_tokens(reqwest::Method::GET, &path, None)
        .await;
    assert_eq!(api.message_count("alice", &c).await, 0);
}

#[tokio::test]
async fn sending_too_fast_is_rate_limited_with_retry_after() {
    let limits = Limits {
        messages_per_minute: 2,
        ..Limits::default()
    };
    let api = spawn_with(|_| {}, limits).await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    api.send("alice", &c, "one").await;
    api.send("alice", &c, "two").await;
    let r = api
        .post(
            &format!("/api/conversations/{}/messages", c["id"]),
            Some(&api.token("alice")),
            json!({"text": "three"}),
        )
        .await;
    r.assert_error(429, "RATE_LIMITED");
    let retry: u64 = r.headers["retry-after"]
        .to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("numeric Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(api.message_count("alice", &c).await, 2);
}

#[tokio::test]
async fn history_pages_backwards_with_before_and_forwards_with_after() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let mut sent = Vec::new();
    for i in 1..=5 {
        sent.push(api.send("alice", &c, &format!("m{i}")).await);
    }
    let newest = api.history("bob", &c, "?limit=2").await;
    assert_eq!(ids_of(newest.assert_status(200)), vec![4, 5]);
    assert_eq!(newest.body["hasMore"], true);

    let older = api
        .history("bob", &c, &format!("?before={}&limit=2", sent[3]["id"]))
        .await;
    assert_eq!(ids_of(older.assert_status(200)), vec![2, 3]);
    assert_eq!(older.body["hasMore"], true);

    let oldest = api
        .history(
            "bob",
            &c,
            &format!(
                "?before={}&limit=2",
                sent[1]["uuid"].as_str().expect("uuid")
            ),
        )
        .await;
    assert_eq!(ids_of(oldest.assert_status(200)), vec![1]);
    assert_eq!(oldest.body["hasMore"], false);

    let newer = api
        .history("bob", &c, &format!("?after={}&limit=2", sent[0]["id"]))
        .await;
    assert_eq!(ids_of(newer.assert_status(200)), vec![2, 3]);
    assert_eq!(newer.body["hasMore"], true);

    let rest = api
        .history(
            "bob",
            &c,
            &format!("?after={}&limit=2", sent[2]["uuid"].as_str().expect("uuid")),
        )
        .await;
    assert_eq!(ids_of(rest.assert_status(200)), vec![4, 5]);

    let none = api
        .history("bob", &c, &format!("?after={}", sent[4]["id"]))
        .await;
    assert_eq!(ids_of(none.assert_status(200)), Vec::<i64>::new());
    assert_eq!(none.body["hasMore"], false);

    let all = api.history("bob", &c, "").await;
    assert_eq!(ids_of(all.assert_status(200)), vec![1, 2, 3, 4, 5]);
    assert_eq!(all.body["hasMore"], false);
}

#[tokio::test]
async fn history_with_a_bad_cursor_or_limit_is_refused() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let other = api.conversation("alice", "direct", &["carol"]).await;
    api.send("alice", &c, "hi").await;
    let foreign = api.send("alice", &other, "elsewhere").await;
    for query in [
        "?limit=0".to_owned(),
        "?limit=101".to_owned(),
        "?limit=abc".to_owned(),
        "?limit=-1".to_owned(),
        "?before=xyz".to_owned(),
        "?after=0".to_owned(),
        format!("?before={}", foreign["id"]),
        "?before=999999".to_owned(),
    ] {
        let r = api.history("alice", &c, &query).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        r.assert_error(400, "INVALID_PAYLOAD");
    }
    let max = api.history("alice", &c, "?limit=100").await;
    max.assert_status(200);
}

#[tokio::test]
async fn editing_a_message_changes_its_text() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m = api.send("alice", &c, "typo").await;
    let r = api
        .patch(
            &format!("/api/messages/{}", m["uuid"].as_str().expect("uuid")),
            Some(&api.token("alice")),
            json!({"text": "fixed"}),
        )
        .await;
    let edited = r.assert_status(200);
    assert_eq!(edited["id"], m["id"]);
    assert_eq!(edited["text"], "fixed");
    assert!(edited["editedAt"].as_i64().is_some());
    let page = api.history("bob", &c, "").await;
    assert_eq!(page.assert_status(200)["messages"][0]["text"], "fixed");
}

#[tokio::test]
async fn editing_with_bad_input_or_by_someone_else_is_refused_and_changes_nothing() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m = api.send("alice", &c, "original").await;
    let path = format!("/api/messages/{}", m["id"]);
    let alice = api.token("alice");
    for body in [
        json!({"text": "x".repeat(10_001)}),
        json!({"text": ""}),
        json!({}),
        json!({"text": null}),
    ] {
        api.patch(&path, Some(&alice), body)
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    api.patch("/api/messages/abc", Some(&alice), json!({"text": "x"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    api.patch("/api/messages/999999", Some(&alice), json!({"text": "x"}))
        .await
        .assert_error(404, "NOT_FOUND");
    api.patch(&path, Some(&api.token("bob")), json!({"text": "hijacked"}))
        .await
        .assert_error(403, "FORBIDDEN");
    api.assert_refuses_bad_tokens(reqwest::Method::PATCH, &path, Some(json!({"text": "x"})))
        .await;
    let page = api.history("alice", &c, "").await;
    let stored = &page.assert_status(200)["messages"][0];
    assert_eq!(stored["text"], "original");
    assert!(stored["editedAt"].is_null());
}

#[tokio::test]
async fn deleting_a_message_soft_deletes_it() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m = api.send("alice", &c, "oops").await;
    let path = format!("/api/messages/{}", m["id"]);
    let r = api.delete(&path, Some(&api.token("alice"))).await;
    let deleted = r.assert_status(200).clone();
    assert_eq!(deleted["id"], m["id"]);
    assert!(deleted["deletedAt"].as_i64().is_some());
    assert!(deleted["text"].is_null());
    // Deleting again returns the same deleted message.
    let again = api.delete(&path, Some(&api.token("alice"))).await;
    assert_eq!(again.assert_status(200)["deletedAt"], deleted["deletedAt"]);
    let page = api.history("bob", &c, "").await;
    let stored = &page.assert_status(200)["messages"][0];
    assert_eq!(stored["id"], m["id"]);
    assert!(stored["deletedAt"].as_i64().is_some());
    // A deleted message cannot be edited.
    api.patch(&path, Some(&api.token("alice")), json!({"text": "back"}))
        .await
        .assert_error(409, "CONFLICT");
}

#[tokio::test]
async fn deleting_by_someone_else_or_without_a_token_is_refused_and_changes_nothing() {
    let api = spawn().await;
    let c = api.conversation("alice", "group", &["bob", "carol"]).await;
    let m = api.send("bob", &c, "mine").await;
    let path = format!("/api/messages/{}", m["id"]);
    api.delete(&path, Some(&api.token("carol")))
        .await
        .assert_error(403, "FORBIDDEN");
    api.delete("/api/messages/not-an-id", Some(&api.token("bob")))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    api.assert_refuses_bad_tokens(reqwest::Method::DELETE, &path, None)
        .await;
    let page = api.history("bob", &c, "").await;
    let stored = &page.assert_status(200)["messages"][0];
    assert_eq!(stored["text"], "mine");
    assert!(stored["deletedAt"].is_null());
    // The group's owner may delete it.
    api.delete(&path, Some(&api.token("alice")))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn marking_a_message_read_moves_the_watermark_and_clears_unread() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m1 = api.send("alice", &c, "one").await;
    let m2 = api.send("alice", &c, "two").await;
    let bob = api.token("bob");
    let r = api
        .post(
            &format!("/api/messages/{}/read", m2["id"]),
            Some(&bob),
            json!({}),
        )
        .await;
    let body = r.assert_status(200);
    assert_eq!(body["conversationId"], c["id"]);
    assert_eq!(body["conversationUuid"], c["uuid"]);
    assert_eq!(body["readUpToSeq"], 2);
    // Never moves back.
    let back = api
        .client
        .post(format!(
            "{}/api/messages/{}/read",
            api.base,
            m1["uuid"].as_str().expect("uuid")
        ))
        .bearer_auth(&bob)
        .send()
        .await
        .expect("request");
    assert_eq!(back.status(), StatusCode::OK);
    let back: Value = back.json().await.expect("json");
    assert_eq!(back["readUpToSeq"], 2);

    let conv = api
        .get(&format!("/api/conversations/{}", c["id"]), Some(&bob))
        .await;
    assert_eq!(conv.assert_status(200)["unreadCount"], 0);
    let me = conv.body["members"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["userId"] == "bob"))
        .cloned()
        .expect("bob is a member");
    assert_eq!(me["lastReadSeq"], 2);
}

#[tokio::test]
async fn marking_read_with_a_bad_id_or_token_is_refused_and_changes_nothing() {
    let api = spawn().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m = api.send("alice", &c, "one").await;
    let bob = api.token("bob");
    api.post("/api/messages/zzz/read", Some(&bob), json!({}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    api.post("/api/messages/424242/read", Some(&bob), json!({}))
        .await
        .assert_error(404, "NOT_FOUND");
    api.assert_refuses_bad_tokens(
        reqwest::Method::POST,
        &format!("/api/messages/{}/read", m["id"]),
        None,
    )
    .await;
    let conv = api
        .get(&format!("/api/conversations/{}", c["id"]), Some(&bob))
        .await;
    assert_eq!(conv.assert_status(200)["unreadCount"], 1);
}

// ----------------------------------------------------------- the router

#[tokio::test]
async fn unknown_api_routes_answer_404_in_the_error_shape() {
    let api = spawn().await;
    let token = api.token("alice");
    for path in ["/api", "/api/", "/api/nope", "/api/conversations/1/nope/2"] {
        let r = api.get(path, Some(&token)).await;
        r.assert_error(404, "NOT_FOUND");
    }
    let r = api
        .call(
            reqwest::Method::PUT,
            "/api/conversations",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.body);
    assert!(r.body["error"]["code"].is_string());
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let api = spawn_with(|c| c.limits.http_body_bytes = 1024, Limits::default()).await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let r = api
        .post(
            &format!("/api/conversations/{}/messages", c["id"]),
            Some(&api.token("alice")),
            json!({"text": "x".repeat(2000)}),
        )
        .await;
    r.assert_error(413, "INVALID_PAYLOAD");
    assert_eq!(api.message_count("alice", &c).await, 0);
}

#[tokio::test]
async fn cors_on_the_api_follows_the_allowed_origins() {
    let api = spawn_with(
        |c| c.socket.allowed_origins = vec!["https://chat.example.com".into()],
        Limits::default(),
    )
    .await;
    let preflight = |origin: &'static str| {
        api.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/conversations", api.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("https://chat.example.com")
        .await
        .expect("preflight");
    assert_eq!(
        ok.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://chat.example.com")
    );
    let methods = ok
        .headers()
        .get("access-control-allow-methods")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    for m in ["GET", "POST", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let evil = preflight("https://evil.example").await.expect("preflight");
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    let any = spawn().await;
    let r = any
        .client
        .get(format!("{}/api/conversations", any.base))
        .header("origin", "https://anywhere.example")
        .bearer_auth(any.token("alice"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        r.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("*")
    );
}

#[tokio::test]
async fn openapi_json_parses_and_lists_the_paths() {
    let api = spawn().await;
    let r = api.get("/openapi.json", None).await;
    let doc = r.assert_status(200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .is_ok_and(|ct| ct.starts_with("application/json"))
    );
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "confab");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/me",
        "/api/conversations",
        "/api/conversations/{id}",
        "/api/conversations/{id}/members",
        "/api/conversations/{id}/members/{userId}",
        "/api/conversations/{id}/messages",
        "/api/messages/{id}",
        "/api/messages/{id}/read",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    for schema in [
        "Conversation",
        "Message",
        "Member",
        "User",
        "MessagePage",
        "ErrorBody",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn healthz_always_answers_ok() {
    let api = spawn().await;
    let r = api.get("/healthz", None).await;
    assert_eq!(r.assert_status(200), &json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_answers_200_while_the_store_works_and_503_after_it_closes() {
    let api = spawn().await;
    let r = api.get("/readyz", None).await;
    assert_eq!(
        r.assert_status(200),
        &json!({"status": "ready", "store": "ok", "redis": "off"})
    );
    api.sqlite.close().await;
    let r = api.get("/readyz", None).await;
    let body = r.assert_status(503);
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["store"]
            .as_str()
            .is_some_and(|s| !s.is_empty() && s != "ok"),
        "{body}"
    );
    let r = api.get("/healthz", None).await;
    r.assert_status(200);
}

// ------------------------------------------------ friendships and devices

#[tokio::test]
async fn a_friend_request_is_listed_for_both_and_accepted_by_its_addressee() {
    let api = spawn().await;
    let (alice, bob) = (api.token("alice"), api.token("bob"));
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
    let api = spawn().await;
    let (alice, bob) = (api.token("alice"), api.token("bob"));
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
    let api = spawn().await;
    let alice = api.token("alice");
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
    let api = spawn().await;
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
    let api = spawn().await;
    let (alice, bob, carol) = (api.token("alice"), api.token("bob"), api.token("carol"));
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
    let api = spawn().await;
    let (alice, bob) = (api.token("alice"), api.token("bob"));
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

#[tokio::test]
async fn devices_are_registered_and_removed_by_their_owner() {
    let api = spawn().await;
    let (alice, bob) = (api.token("alice"), api.token("bob"));
    let token = "fcm:APA91b-x_y.z";
    let r = api
        .post(
            "/api/devices",
            Some(&alice),
            json!({"token": token, "platform": "android"}),
        )
        .await;
    let d = r.assert_status(201);
    assert_eq!(
        (d["token"].clone(), d["platform"].clone()),
        (json!(token), json!("android"))
    );
    assert!(d["createdAt"].as_i64().is_some());

    let encoded = "/api/devices/fcm%3AAPA91b-x_y.z";
    api.delete(encoded, Some(&bob))
        .await
        .assert_error(404, "NOT_FOUND");
    api.delete(encoded, Some(&alice)).await.assert_status(204);
    api.delete(encoded, Some(&alice))
        .await
        .assert_error(404, "NOT_FOUND");
    let stored = api
        .state
        .service
        .store()
        .devices_of(&[UserId::parse("alice").expect("id")])
        .await
        .expect("devices");
    assert!(stored.is_empty());
}

#[tokio::test]
async fn registering_a_device_with_bad_input_is_refused_and_stores_nothing() {
    let api = spawn().await;
    let alice = api.token("alice");
    for body in [
        json!({}),
        json!({"token": "t"}),
        json!({"platform": "ios"}),
        json!({"token": "t", "platform": "windows"}),
        json!({"token": "", "platform": "ios"}),
        json!({"token": "has space", "platform": "ios"}),
        json!({"token": "x".repeat(4097), "platform": "web"}),
        json!({"token": 7, "platform": "web"}),
    ] {
        api.post("/api/devices", Some(&alice), body.clone())
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    let stored = api
        .state
        .service
        .store()
        .devices_of(&[UserId::parse("alice").expect("id")])
        .await
        .expect("devices");
    assert!(stored.is_empty());
}

#[tokio::test]
async fn messages_carry_their_kind() {
    let api = spawn().await;
    let c = api.conversation("alice", "group", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    let alice = api.token("alice");
    assert_eq!(api.send("alice", &c, "hi").await["kind"], "text");
    let r = api
        .post(
            &path,
            Some(&alice),
            json!({"attachmentUrls": ["https://cdn.example.com/a.bin"]}),
        )
        .await;
    assert_eq!(r.assert_status(201)["kind"], "file");
    let r = api
        .post(
            &path,
            Some(&alice),
            json!({"attachmentUrls": ["https://cdn.example.com/a.png"], "kind": "image"}),
        )
        .await;
    assert_eq!(r.assert_status(201)["kind"], "image");
    for body in [
        json!({"text": "x", "kind": "sticker"}),
        json!({"text": "x", "kind": "image"}),
        json!({"attachmentUrls": ["https://a.example/1", "https://a.example/2"], "kind": "audio"}),
        json!({"attachmentUrls": ["/uploads/chat-messages/images/unknown.webp"]}),
    ] {
        api.post(&path, Some(&alice), body.clone())
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    let page = api.history("bob", &c, "").await;
    let kinds: Vec<Value> = page.assert_status(200)["messages"]
        .as_array()
        .map(|ms| ms.iter().map(|m| m["kind"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, vec![json!("text"), json!("file"), json!("image")]);
}

#[tokio::test]
async fn history_shows_how_far_each_message_got_with_the_other_members() {
    let api = spawn().await;
    let c = api.conversation("alice", "group", &["bob", "carol"]).await;
    let m1 = api.send("alice", &c, "one").await;
    api.send("alice", &c, "two").await;
    let statuses = |page: &Value| -> Vec<String> {
        page["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["status"].as_str().expect("status").to_owned())
            .collect()
    };
    let page = api
        .history("alice", &c, "")
        .await
        .assert_status(200)
        .clone();
    assert_eq!(statuses(&page), ["sent", "sent"]);
    // One reader of two: still not read by everyone.
    let bob = api.token("bob");
    api.post(
        &format!("/api/messages/{}/read", m1["id"]),
        Some(&bob),
        json!({}),
    )
    .await
    .assert_status(200);
    let page = api
        .history("alice", &c, "")
        .await
        .assert_status(200)
        .clone();
    assert_eq!(statuses(&page), ["sent", "sent"]);
    let carol = api.token("carol");
    api.post(
        &format!("/api/messages/{}/read", m1["id"]),
        Some(&carol),
        json!({}),
    )
    .await
    .assert_status(200);
    let page = api
        .history("alice", &c, "")
        .await
        .assert_status(200)
        .clone();
    assert_eq!(statuses(&page), ["read", "sent"]);
    // The send response and conversation lists carry no status.
    assert!(m1.get("status").is_none());
}
