//! Push notifications end to end: the real server in-process, a fake FCM
//! (OAuth token endpoint and `messages:send`) and a webhook receiver, both
//! local axum apps on port 0.

mod common;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{Auth, TestClient, TestServer, connect, start_with};
use confab::core::command::{Actor, SendMessage};
use confab::core::{Device, DevicePlatform, Profile, RowRef, UserId, UserSummary};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A 2048-bit RSA key made for these tests with
/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` (PKCS#8),
/// playing the service account's private key.
const TEST_PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDGNpRrjJnK3vj1
gD8Hr8HMYchn+BgEcegw0Bv4JRZwIpd0N2fT5J58wQfVYucV2SZ+wtwRx398q/JG
WhV1PMMUt2S/05WFJ4CWjdv/hAkZnM+VcpOkIa4ZcthF8e4Bx26uAGfVCI5Edl1X
KwrMmcvITXj5k3Hs7MvvfSlvCQg9ujVaRgjPAqXZW5r57CfftRFAZv0e2A/dnFfE
Yzb1xbevdgQuOqn8AWF+OJDh4/4zaOdVKdGIrSi/ScG+RihSt0gCXNN+jKNlVcpA
xK3uL/PrwDQaqaMI+ncLPxfC9auMXWFIMW2KahkPaK0/weaiSnWjHuKB/G7iUmpW
3nmEhxDrAgMBAAECggEAFVpD2uImnyguAaRzJczVP8M455peW/w5WyjQGodER4gy
cJ6XXMhAGohg46fn5P6jmvw64N9w6GlNjC6gKSUGjvDCtbeBX/rFa3KUxI3gvRWb
dyoEpaXLL4qjqcVKMn7deXkptlVZnh5yJ7XHUAsxXL6bzacImtFXltEQ6Zk7fgqk
pmKVeKF8kVHuatx1Sn6wonXahRoLnp5zqBnlcTWKWQRxfQhof0Dr9/IHZNilIbMa
wJfb8rFEa7SqHzfW+0ljYxR3sw5pcCMjBBDZM958p1CNzvL7mtPlC8d+5KH4mzoQ
VOMZEfrNrN1GpBm23S8Giw6vlgUMFQdUBJIQbFcggQKBgQDsH0vWtSDp2LyXReZg
j/topwBYp6km6jsnDx2Lr86fs+FuU+AEj0gETJckWWRExmxQc8Zq/oVg34O8rX0P
WevqN3Lu5R1PFivQmSI/iisGVo6pGuA6Rp/yyMkDAF4lZZhVQXrqZ/vfwoytygwF
vwgbNiF+gKFtBPyAPXmE7XvlEQKBgQDW5kzgCRg6Fm6UbUhY+NhwbRKglljNFBWK
ZZZm2H65d6K1ay7JspVG02zxSbGxN+R+9Zl7VVDcJRCBXwmPyxe08jm16bY8uEyG
qkAL4X4FA6wQKousbaq6zrKcqQh3mo/VF9lAYDkmmg9cYdOmVJ0o5AZutn2Yoi39
ZL2vdmzmOwKBgQCBMEpdKfLdHzFoDt2SPZTPWHfvCaSZ3xQINdPzhnglltSjeY6a
0A4WFBWp1KLwoiPHDOElzyYIr6IzTDSdfpR+LGJc5MxZZgcI9Y/wddc+e4NIcKT4
HYYL3uFkHAJmsaRcGRx4PfZoIdi4iVB0oGV+BerjfNtVe6HvRDNFkG32EQKBgCRZ
LdWTFDr3AlsupNcPuCRD/quU4o5FgGM5TZg1tDGQr7+50l8hSqiBKGMjkN+l0Ys7
5Wr8AkJKLqGDPq3Ir0jW07YWQtHAZok8kLqxuEwG0/qkB53xqrgQMBvZZ2o7hWqI
ryF5ZRFHa6O3lEIE+9QnxYLCcTn47Ih4mrDr+f1zAoGBAOgHjyierMPn20DY5QyX
CyFfOC1rncXlS3hVngh+8x8HM7XCKUP9CeibZIkSP4KI32SO95CbaL1aitke+aUp
E69XQhM1MfDgBrRbN2F/S3anKdrrzpXznF0cblL8s9Q7Jjh5MWUik2p+jjz7hhkp
w4+7tMq7u3TcJGx/Dj3A/Dk0
-----END PRIVATE KEY-----
";

/// Its public half, with which the fake token endpoint checks assertions.
const TEST_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxjaUa4yZyt749YA/B6/B
zGHIZ/gYBHHoMNAb+CUWcCKXdDdn0+SefMEH1WLnFdkmfsLcEcd/fKvyRloVdTzD
FLdkv9OVhSeAlo3b/4QJGZzPlXKTpCGuGXLYRfHuAcdurgBn1QiORHZdVysKzJnL
yE14+ZNx7OzL730pbwkIPbo1WkYIzwKl2Vua+ewn37URQGb9HtgP3ZxXxGM29cW3
r3YELjqp/AFhfjiQ4eP+M2jnVSnRiK0ov0nBvkYoUrdIAlzTfoyjZVXKQMSt7i/z
68A0GqmjCPp3Cz8XwvWrjF1hSDFtimoZD2itP8Hmokp1ox7igfxu4lJqVt55hIcQ
6wIDAQAB
-----END PUBLIC KEY-----
";

const CLIENT_EMAIL: &str = "confab-push@confab-test.iam.gserviceaccount.com";
const PROJECT_ID: &str = "confab-test";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const WEBHOOK_SECRET: &str = "webhook-test-secret";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------- fake FCM

/// One `messages:send` request as FCM received it.
#[derive(Debug, Clone)]
struct SendRequest {
    bearer: String,
    token: String,
    message: Value,
}

#[derive(Default)]
struct FakeFcm {
    /// Its own token URI, the audience an assertion must name.
    token_uri: Mutex<String>,
    token_requests: AtomicUsize,
    /// Why assertions were refused (none in a passing test).
    bad_assertions: Mutex<Vec<String>>,
    issued: AtomicUsize,
    /// Every `messages:send` request, answered 200 or not.
    attempts: Mutex<Vec<SendRequest>>,
    /// The requests answered 200.
    delivered: Mutex<Vec<SendRequest>>,
    /// Device tokens answered 404 UNREGISTERED.
    unregistered: Mutex<HashSet<String>>,
    /// This many next sends are answered 503.
    fail_next: AtomicUsize,
    /// Refuse the first access token issued (as if revoked), once.
    refuse_first_token: AtomicBool,
}

#[derive(serde::Deserialize)]
struct Claims {
    iss: String,
    scope: String,
    aud: String,
    iat: u64,
    exp: u64,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl FakeFcm {
    fn check_assertion(&self, form: &HashMap<String, String>) -> Result<(), String> {
        if form.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return Err(format!("grant_type {:?}", form.get("grant_type")));
        }
        let assertion = form.get("assertion").ok_or("no assertion")?;
        let header = jsonwebtoken::decode_header(assertion).map_err(|e| e.to_string())?;
        if header.alg != Algorithm::RS256 {
            return Err(format!("alg {:?}", header.alg));
        }
        let key =
            DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()).map_err(|e| e.to_string())?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[lock(&self.token_uri).clone()]);
        v.set_issuer(&[CLIENT_EMAIL]);
        v.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<Claims>(assertion, &key, &v)
            .map_err(|e| e.to_string())?
            .claims;
        let now = now_secs();
        if claims.scope != SCOPE {
            return Err(format!("scope {}", claims.scope));
        }
        if claims.iss != CLIENT_EMAIL || claims.aud != *lock(&self.token_uri) {
            return Err("iss/aud".into());
        }
        if claims.iat.abs_diff(now) > 60 || claims.exp != claims.iat + 3600 {
            return Err(format!("iat {} exp {} now {now}", claims.iat, claims.exp));
        }
        Ok(())
    }

    fn issued_token(&self, bearer: &str) -> bool {
        let n = self.issued.load(Ordering::SeqCst);
        (1..=n).any(|i| bearer == format!("access-{i}"))
    }
}

async fn fcm_token(
    State(fake): State<Arc<FakeFcm>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    fake.token_requests.fetch_add(1, Ordering::SeqCst);
    if let Err(why) = fake.check_assertion(&form) {
        lock(&fake.bad_assertions).push(why);
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "bad assertion"})),
        )
            .into_response();
    }
    let n = fake.issued.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({"access_token": format!("access-{n}"), "expires_in": 3599, "token_type": "Bearer"}))
        .into_response()
}

async fn fcm_send(
    State(fake): State<Arc<FakeFcm>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let request = SendRequest {
        bearer: bearer.clone(),
        token: body["message"]["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        message: body["message"].clone(),
    };
    lock(&fake.attempts).push(request.clone());
    let unauthenticated = || {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})),
        )
            .into_response()
    };
    if project != PROJECT_ID || !fake.issued_token(&bearer) {
        return unauthenticated();
    }
    if bearer == "access-1" && fake.refuse_first_token.load(Ordering::SeqCst) {
        return unauthenticated();
    }
    if fake
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "1")],
            Json(json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}})),
        )
            .into_response();
    }
    if lock(&fake.unregistered).contains(&request.token) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
                "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})),
        )
            .into_response();
    }
    let n = {
        let mut delivered = lock(&fake.delivered);
        delivered.push(request);
        delivered.len()
    };
    Json(json!({"name": format!("projects/{PROJECT_ID}/messages/{n}")})).into_response()
}

// ---------------------------------------------------------------- webhook

#[derive(Debug, Clone)]
struct HookRequest {
    signature_ok: bool,
    timestamp: u64,
    body: Value,
}

#[derive(Default)]
struct FakeHook {
    requests: Mutex<Vec<HookRequest>>,
    /// This many next requests are answered 500.
    fail_next: AtomicUsize,
}

fn verify(headers: &HeaderMap, body: &[u8]) -> (bool, u64) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(ts), Some(sig)) = (header("x-confab-timestamp"), header("x-confab-signature")) else {
        return (false, 0);
    };
    let Some(hex_sig) = sig.strip_prefix("sha256=") else {
        return (false, 0);
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return (false, 0);
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()) else {
        return (false, 0);
    };
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    let ok = mac.verify_slice(&expected).is_ok();
    (ok, ts.parse().unwrap_or(0))
}

async fn hook(State(fake): State<Arc<FakeHook>>, headers: HeaderMap, body: Bytes) -> Response {
    let (signature_ok, timestamp) = verify(&headers, &body);
    lock(&fake.requests).push(HookRequest {
        signature_ok,
        timestamp,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if !signature_ok {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if fake
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------- harness

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind fake");
    let addr = listener.local_addr().expect("fake addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[derive(Clone, Copy)]
struct Setup {
    fcm: bool,
    webhook: bool,
    /// Give the token URI in the config, not in the service-account file.
    token_uri_override: bool,
}

const FCM_ONLY: Setup = Setup {
    fcm: true,
    webhook: false,
    token_uri_override: false,
};

struct Harness {
    server: TestServer,
    fcm: Arc<FakeFcm>,
    hook: Arc<FakeHook>,
    _dir: tempfile::TempDir,
}

async fn harness(setup: Setup) -> Harness {
    let fcm = Arc::new(FakeFcm::default());
    let fcm_url = serve(
        Router::new()
            .route("/token", post(fcm_token))
            .route("/v1/projects/{project}/messages:send", post(fcm_send))
            .with_state(fcm.clone()),
    )
    .await;
    *lock(&fcm.token_uri) = format!("{fcm_url}/token");
    let hook_state = Arc::new(FakeHook::default());
    let hook_url = serve(
        Router::new()
            .route("/hook", post(hook))
            .with_state(hook_state.clone()),
    )
    .await;

    let dir = tempfile::tempdir().expect("temp dir");
    let account_file = dir.path().join("service-account.json");
    let file_token_uri = if setup.token_uri_override {
        "https://oauth2.invalid/token".to_owned()
    } else {
        format!("{fcm_url}/token")
    };
    let account = json!({
        "type": "service_account",
        "project_id": PROJECT_ID,
        "private_key_id": "test-key-1",
        "private_key": TEST_PRIVATE_KEY,
        "client_email": CLIENT_EMAIL,
        "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": file_token_uri,
    });
    std::fs::write(&account_file, account.to_string()).expect("write service account");

    let server = start_with(|c| {
        if setup.fcm {
            c.push.fcm_service_account_file = Some(account_file.clone());
            c.push.fcm_endpoint = fcm_url.clone();
            if setup.token_uri_override {
                c.push.fcm_token_uri = Some(format!("{fcm_url}/token"));
            }
        }
        if setup.webhook {
            c.push.webhook_url = Some(format!("{hook_url}/hook"));
            c.push.webhook_secret = Some(WEBHOOK_SECRET.into());
        }
        c.push.retry_initial_ms = 20;
        c.push.retry_max_ms = 200;
    })
    .await;
    Harness {
        server,
        fcm,
        hook: hook_state,
        _dir: dir,
    }
}

impl Harness {
    async fn user(&self, id: &str, name: Option<&str>) -> Actor {
        let u = self
            .server
            .running
            .state
            .service
            .provision(
                &UserId::parse(id).expect("id"),
                Profile {
                    display_name: name.map(str::to_owned),
                    ..Profile::default()
                },
            )
            .await
            .expect("provision");
        Actor {
            user: UserSummary::from(&u),
        }
    }

    async fn device(&self, user: &str, token: &str) {
        self.server
            .running
            .state
            .service
            .store()
            .add_device(&Device {
                user_id: UserId::parse(user).expect("id"),
                token: token.to_owned(),
                platform: DevicePlatform::Android,
                created_at: 0,
            })
            .await
            .expect("add device");
    }

    async fn send(&self, from: &Actor, conversation: i64, text: &str) -> confab::core::Message {
        self.server
            .running
            .state
            .service
            .send(
                from,
                RowRef::Id(conversation),
                SendMessage {
                    text: Some(text.to_owned()),
                    ..SendMessage::default()
                },
            )
            .await
            .expect("send")
            .0
    }

    async fn tokens_of(&self, user: &str) -> BTreeSet<String> {
        self.server
            .running
            .state
            .service
            .store()
            .devices_of(&[UserId::parse(user).expect("id")])
            .await
            .expect("devices")
            .into_iter()
            .map(|d| d.token)
            .collect()
    }

    fn delivered_tokens(&self) -> Vec<String> {
        let mut t: Vec<String> = lock(&self.fcm.delivered)
            .iter()
            .map(|r| r.token.clone())
            .collect();
        t.sort();
        t
    }

    fn assertions_were_valid(&self) {
        assert!(
            lock(&self.fcm.bad_assertions).is_empty(),
            "refused assertions: {:?}",
            lock(&self.fcm.bad_assertions)
        );
    }

    async fn online(&self, user: &str) {
        let id = UserId::parse(user).expect("id");
        eventually(&format!("{user} online"), || {
            self.server.running.state.service.presence().is_here(&id)
        })
        .await;
    }
}

/// Polls `check` until it holds (at most 5 s).
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within 5 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Time for a push that should not happen to show up anyway.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// A Dozaar socket of `user` that joined (views) the conversation.
async fn viewing(server: &TestServer, user: &str, conversation_uuid: &str) -> TestClient {
    let mut c = connect(server, Auth::Token(&server.token(user))).await;
    c.emit(
        "join:conversation",
        json!({ "conversationId": conversation_uuid }),
    )
    .await;
    c.expect("joined:conversation").await;
    c
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn offline_members_and_members_elsewhere_get_a_push_but_viewers_and_the_sender_do_not() {
    let h = harness(Setup {
        fcm: true,
        webhook: true,
        token_uri_override: false,
    })
    .await;
    let alice = h.user("alice", Some("Alice Example")).await;
    let conv = h
        .server
        .conversation("alice", &["bob", "carol", "dave"])
        .await;
    let id = conv.conversation.id;
    let uuid = conv.conversation.uuid.to_string();
    for u in ["alice", "bob", "carol", "dave"] {
        h.device(u, &format!("{u}-phone")).await;
    }
    // bob is offline; carol is online but not in the conversation; dave is
    // looking at it; alice, the sender, is offline.
    let carol = connect(&h.server, Auth::Token(&h.server.token("carol"))).await;
    let dave = viewing(&h.server, "dave", &uuid).await;
    h.online("carol").await;
    h.online("dave").await;

    let m = h.send(&alice, id, "hello everyone").await;
    eventually("two pushes", || lock(&h.fcm.delivered).len() >= 2).await;
    eventually("two webhooks", || lock(&h.hook.requests).len() >= 2).await;
    settle().await;
    assert_eq!(h.delivered_tokens(), ["bob-phone", "carol-phone"]);
    assert_eq!(lock(&h.fcm.attempts).len(), 2, "nothing else was tried");
    let hooked: BTreeSet<String> = lock(&h.hook.requests)
        .iter()
        .map(|r| r.body["recipient"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        hooked,
        BTreeSet::from(["bob".to_owned(), "carol".to_owned()])
    );
    h.assertions_were_valid();

    let sent = lock(&h.fcm.delivered)[0].clone();
    let msg = &sent.message;
    assert_eq!(
        msg["notification"],
        json!({"title": "Alice Example", "body": "hello everyone"})
    );
    assert_eq!(
        msg["data"],
        json!({
            "conversationId": id.to_string(),
            "conversationUuid": uuid,
            "messageId": m.id.to_string(),
            "messageUuid": m.uuid.to_string(),
            "senderId": "alice",
            "kind": "text",
        })
    );
    assert_eq!(msg["android"], json!({"priority": "high"}));
    assert_eq!(msg["apns"], json!({"headers": {"apns-priority": "10"}}));

    // Once dave leaves the conversation, he gets pushes again.
    dave.emit("leave:conversation", json!({ "conversationId": uuid }))
        .await;
    let dave_id = UserId::parse("dave").expect("id");
    eventually("dave stopped viewing", || {
        !h.server
            .running
            .state
            .service
            .viewing()
            .is_viewing_here(&dave_id, id)
    })
    .await;
    h.send(&alice, id, "second").await;
    eventually("three more pushes", || lock(&h.fcm.delivered).len() >= 5).await;
    settle().await;
    assert_eq!(
        h.delivered_tokens(),
        [
            "bob-phone",
            "bob-phone",
            "carol-phone",
            "carol-phone",
            "dave-phone"
        ]
    );
    carol.disconnect().await;
    dave.disconnect().await;
}

#[tokio::test]
async fn a_503_is_retried_and_the_push_is_delivered_once() {
    let h = harness(FCM_ONLY).await;
    let alice = h.user("alice", None).await;
    let conv = h.server.conversation("alice", &["bob"]).await;
    h.device("bob", "bob-phone").await;
    h.fcm.fail_next.store(1, Ordering::SeqCst);

    h.send(&alice, conv.conversation.id, "are you there?").await;
    eventually("delivered", || !lock(&h.fcm.delivered).is_empty()).await;
    settle().await;
    assert_eq!(h.delivered_tokens(), ["bob-phone"]);
    assert_eq!(lock(&h.fcm.attempts).len(), 2, "one 503, one success");
    h.assertions_were_valid();
}

#[tokio::test]
async fn an_unregistered_token_is_removed_from_the_store() {
    let h = harness(FCM_ONLY).await;
    let alice = h.user("alice", None).await;
    let conv = h.server.conversation("alice", &["bob"]).await;
    h.device("bob", "bob-old-phone").await;
    h.device("bob", "bob-new-phone").await;
    lock(&h.fcm.unregistered).insert("bob-old-phone".into());

    h.send(&alice, conv.conversation.id, "ping").await;
    eventually("delivered", || !lock(&h.fcm.delivered).is_empty()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while h.tokens_of("bob").await.contains("bob-old-phone") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "dead token still stored"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        h.tokens_of("bob").await,
        BTreeSet::from(["bob-new-phone".to_owned()])
    );
    assert_eq!(h.delivered_tokens(), ["bob-new-phone"]);

    // The next message is sent to the live token only.
    h.send(&alice, conv.conversation.id, "ping again").await;
    eventually("delivered again", || lock(&h.fcm.delivered).len() >= 2).await;
    settle().await;
    assert_eq!(lock(&h.fcm.attempts).len(), 3);
}

#[tokio::test]
async fn the_webhook_is_signed_and_a_5xx_is_retried() {
    let h = harness(Setup {
        fcm: false,
        webhook: true,
        token_uri_override: false,
    })
    .await;
    let alice = h.user("alice", Some("Alice")).await;
    let conv = h.server.conversation("alice", &["bob"]).await;
    h.device("bob", "bob-phone").await;
    h.hook.fail_next.store(1, Ordering::SeqCst);

    let m = h.send(&alice, conv.conversation.id, &"x".repeat(150)).await;
    eventually("two webhook requests", || lock(&h.hook.requests).len() >= 2).await;
    settle().await;
    let requests = lock(&h.hook.requests).clone();
    assert_eq!(requests.len(), 2, "one 500, one success");
    let now = now_secs();
    for r in &requests {
        assert!(r.signature_ok, "signature verifies");
        assert!(r.timestamp.abs_diff(now) < 60, "timestamp is now");
    }
    assert_eq!(
        requests[1].body,
        json!({
            "recipient": "bob",
            "devices": [{"token": "bob-phone", "platform": "android"}],
            "notification": {"title": "Alice", "body": "x".repeat(100)},
            "data": {
                "conversationId": conv.conversation.id.to_string(),
                "conversationUuid": conv.conversation.uuid.to_string(),
                "messageId": m.id.to_string(),
                "messageUuid": m.uuid.to_string(),
                "senderId": "alice",
                "kind": "text",
            },
        })
    );
    assert!(lock(&h.fcm.attempts).is_empty(), "FCM is off");
}

#[tokio::test]
async fn the_oauth_token_is_fetched_once_for_several_sends() {
    let h = harness(Setup {
        fcm: true,
        webhook: false,
        token_uri_override: true,
    })
    .await;
    let alice = h.user("alice", None).await;
    let conv = h.server.conversation("alice", &["bob", "carol"]).await;
    for t in ["bob-phone", "bob-tablet"] {
        h.device("bob", t).await;
    }
    h.device("carol", "carol-phone").await;

    for i in 0..3 {
        h.send(&alice, conv.conversation.id, &format!("message {i}"))
            .await;
    }
    eventually("nine pushes", || lock(&h.fcm.delivered).len() >= 9).await;
    settle().await;
    assert_eq!(lock(&h.fcm.delivered).len(), 9);
    assert_eq!(h.fcm.token_requests.load(Ordering::SeqCst), 1);
    assert!(
        lock(&h.fcm.delivered)
            .iter()
            .all(|r| r.bearer == "access-1")
    );
    h.assertions_were_valid();
}

#[tokio::test]
async fn a_refused_access_token_is_replaced_once() {
    let h = harness(FCM_ONLY).await;
    let alice = h.user("alice", None).await;
    let conv = h.server.conversation("alice", &["bob"]).await;
    h.device("bob", "bob-phone").await;
    h.fcm.refuse_first_token.store(true, Ordering::SeqCst);

    h.send(&alice, conv.conversation.id, "hi").await;
    eventually("delivered", || !lock(&h.fcm.delivered).is_empty()).await;
    settle().await;
    assert_eq!(h.fcm.token_requests.load(Ordering::SeqCst), 2);
    assert_eq!(lock(&h.fcm.delivered)[0].bearer, "access-2");
    assert_eq!(lock(&h.fcm.attempts).len(), 2);
    h.assertions_were_valid();
}

#[tokio::test]
async fn a_member_who_muted_the_conversation_gets_no_push() {
    let h = harness(FCM_ONLY).await;
    let alice = h.user("alice", None).await;
    let bob = h.user("bob", None).await;
    let conv = h.server.conversation("alice", &["bob", "carol"]).await;
    h.device("bob", "bob-phone").await;
    h.device("carol", "carol-phone").await;
    let id = conv.conversation.id;
    let service = &h.server.running.state.service;
    service
        .set_muted(&bob, confab::core::RowRef::Id(id), true)
        .await
        .expect("mute");

    h.send(&alice, id, "muted for bob").await;
    eventually("carol's push", || !lock(&h.fcm.delivered).is_empty()).await;
    settle().await;
    assert_eq!(h.delivered_tokens(), ["carol-phone"]);

    service
        .set_muted(&bob, confab::core::RowRef::Id(id), false)
        .await
        .expect("unmute");
    h.send(&alice, id, "heard again").await;
    eventually("both pushes", || lock(&h.fcm.delivered).len() >= 3).await;
    settle().await;
    assert_eq!(
        h.delivered_tokens(),
        ["bob-phone", "carol-phone", "carol-phone"]
    );
}

#[tokio::test]
async fn a_vchat_message_socket_is_viewing_until_it_disconnects() {
    let h = harness(FCM_ONLY).await;
    let alice = h.user("alice", None).await;
    let conv = h.server.conversation("alice", &["bob"]).await;
    let id = conv.conversation.id;
    h.device("bob", "bob-phone").await;
    let vchat = h.server.vchat_url.clone().expect("vchat listens");
    let token = h.server.token("bob");
    let mut bob = common::open(
        &vchat,
        "/message",
        Auth::RawHeader(&token),
        tf_rust_socketio::TransportType::Websocket,
    )
    .await;
    bob.emit("join", json!(id.to_string())).await;
    bob.expect("all_messages").await;

    h.send(&alice, id, "seen live").await;
    bob.expect("new_message").await;
    settle().await;
    assert!(h.delivered_tokens().is_empty(), "a viewer gets no push");

    bob.disconnect().await;
    let bob_id = UserId::parse("bob").expect("id");
    eventually("bob stopped viewing", || {
        !h.server
            .running
            .state
            .service
            .viewing()
            .is_viewing_here(&bob_id, id)
    })
    .await;
    h.send(&alice, id, "while away").await;
    eventually("a push", || !lock(&h.fcm.delivered).is_empty()).await;
    assert_eq!(h.delivered_tokens(), ["bob-phone"]);
}
