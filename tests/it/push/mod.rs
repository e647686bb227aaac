//! Push notifications end to end: the real server in-process, a fake FCM
//! ([`fcm`]: OAuth token endpoint and `messages:send`) and a webhook
//! receiver ([`webhook`]), both local axum apps on port 0.

mod fcm;
mod webhook;

use confab::core::command::Actor;
use confab::core::{Device, DevicePlatform, Message, RowRef};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::helpers::http::spawn_http;
use crate::helpers::{
    Auth, TestServer, dozaar_client_of, eventually, joined_dozaar_client, now_secs, socket_client,
    spawn_server_with, text_message, user_id,
};
use fcm::{CLIENT_EMAIL, FakeFcm, PROJECT_ID, TEST_PRIVATE_KEY};
use webhook::{FakeHook, WEBHOOK_SECRET};

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

/// The server with push set up as `setup` says, and the fakes it pushes to.
struct Harness {
    server: TestServer,
    fcm: Arc<FakeFcm>,
    hook: Arc<FakeHook>,
    _dir: tempfile::TempDir,
}

async fn harness(setup: Setup) -> Harness {
    let fcm = Arc::new(FakeFcm::default());
    let fcm_url = spawn_http(fcm::router(fcm.clone())).await;
    *fcm.token_uri.lock() = format!("{fcm_url}/token");
    let hook = Arc::new(FakeHook::default());
    let hook_url = spawn_http(webhook::router(hook.clone())).await;

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

    let server = spawn_server_with(|c| {
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
        hook,
        _dir: dir,
    }
}

impl Harness {
    /// Registers an Android device token of `user`.
    async fn device(&self, user: &str, token: &str) {
        self.server
            .running
            .state
            .service
            .store()
            .add_device(&Device {
                user_id: user_id(user),
                token: token.to_owned(),
                platform: DevicePlatform::Android,
                created_at: 0,
                push_format: None,
            })
            .await
            .expect("add device");
    }

    async fn send(&self, from: &Actor, conversation: i64, text: &str) -> Message {
        self.server
            .running
            .state
            .service
            .send(from, RowRef::Id(conversation), text_message(text))
            .await
            .expect("send")
            .0
    }

    /// The device tokens stored for `user`.
    async fn tokens_of(&self, user: &str) -> BTreeSet<String> {
        self.server
            .running
            .state
            .service
            .store()
            .devices_of(&[user_id(user)])
            .await
            .expect("devices")
            .into_iter()
            .map(|d| d.token)
            .collect()
    }

    /// The device tokens FCM delivered to, sorted.
    fn delivered_tokens(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .fcm
            .delivered
            .lock()
            .iter()
            .map(|r| r.token.clone())
            .collect();
        t.sort();
        t
    }

    fn assertions_were_valid(&self) {
        let bad = self.fcm.bad_assertions.lock();
        assert!(bad.is_empty(), "refused assertions: {bad:?}");
    }

    async fn online(&self, user: &str) {
        let id = user_id(user);
        eventually(&format!("{user} online"), || {
            self.server.running.state.service.presence().is_here(&id)
        })
        .await;
    }
}

/// Time for a push that should not happen to show up anyway.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

#[tokio::test]
async fn offline_members_and_members_elsewhere_get_a_push_but_viewers_and_the_sender_do_not() {
    let h = harness(Setup {
        fcm: true,
        webhook: true,
        token_uri_override: false,
    })
    .await;
    let alice = h.server.named_actor("alice", "Alice Example").await;
    let conv = h
        .server
        .group_conversation("alice", &["bob", "carol", "dave"])
        .await;
    let id = conv.conversation.id;
    let uuid = conv.conversation.uuid.to_string();
    for u in ["alice", "bob", "carol", "dave"] {
        h.device(u, &format!("{u}-phone")).await;
    }
    // bob is offline; carol is online but not in the conversation; dave is
    // looking at it; alice, the sender, is offline.
    let carol = dozaar_client_of(&h.server, "carol").await;
    let dave = joined_dozaar_client(&h.server, "dave", &uuid).await;
    h.online("carol").await;
    h.online("dave").await;

    let m = h.send(&alice, id, "hello everyone").await;
    eventually("two pushes", || h.fcm.delivered.lock().len() >= 2).await;
    eventually("two webhooks", || h.hook.requests.lock().len() >= 2).await;
    settle().await;
    assert_eq!(h.delivered_tokens(), ["bob-phone", "carol-phone"]);
    assert_eq!(h.fcm.attempts.lock().len(), 2, "nothing else was tried");
    let hooked: BTreeSet<String> = h
        .hook
        .requests
        .lock()
        .iter()
        .map(|r| r.body["recipient"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        hooked,
        BTreeSet::from(["bob".to_owned(), "carol".to_owned()])
    );
    h.assertions_were_valid();

    let sent = h.fcm.delivered.lock()[0].clone();
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
    eventually("dave stopped viewing", || !h.server.is_viewing("dave", id)).await;
    h.send(&alice, id, "second").await;
    eventually("three more pushes", || h.fcm.delivered.lock().len() >= 5).await;
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
    let alice = h.server.provisioned_actor("alice").await;
    let conv = h.server.direct_conversation("alice", "bob").await;
    h.device("bob", "bob-phone").await;
    h.fcm.fail_next.store(1, Ordering::SeqCst);

    h.send(&alice, conv.conversation.id, "are you there?").await;
    eventually("delivered", || !h.fcm.delivered.lock().is_empty()).await;
    settle().await;
    assert_eq!(h.delivered_tokens(), ["bob-phone"]);
    assert_eq!(h.fcm.attempts.lock().len(), 2, "one 503, one success");
    h.assertions_were_valid();
}

#[tokio::test]
async fn an_unregistered_token_is_removed_from_the_store() {
    let h = harness(FCM_ONLY).await;
    let alice = h.server.provisioned_actor("alice").await;
    let conv = h.server.direct_conversation("alice", "bob").await;
    h.device("bob", "bob-old-phone").await;
    h.device("bob", "bob-new-phone").await;
    h.fcm.unregistered.lock().insert("bob-old-phone".into());

    h.send(&alice, conv.conversation.id, "ping").await;
    eventually("delivered", || !h.fcm.delivered.lock().is_empty()).await;
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
    eventually("delivered again", || h.fcm.delivered.lock().len() >= 2).await;
    settle().await;
    assert_eq!(h.fcm.attempts.lock().len(), 3);
}

#[tokio::test]
async fn the_webhook_is_signed_and_a_5xx_is_retried() {
    let h = harness(Setup {
        fcm: false,
        webhook: true,
        token_uri_override: false,
    })
    .await;
    let alice = h.server.named_actor("alice", "Alice").await;
    let conv = h.server.direct_conversation("alice", "bob").await;
    h.device("bob", "bob-phone").await;
    h.hook.fail_next.store(1, Ordering::SeqCst);

    let m = h.send(&alice, conv.conversation.id, &"x".repeat(150)).await;
    eventually("two webhook requests", || h.hook.requests.lock().len() >= 2).await;
    settle().await;
    let requests = h.hook.requests.lock().clone();
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
    assert!(h.fcm.attempts.lock().is_empty(), "FCM is off");
}

#[tokio::test]
async fn the_oauth_token_is_fetched_once_for_several_sends() {
    let h = harness(Setup {
        fcm: true,
        webhook: false,
        token_uri_override: true,
    })
    .await;
    let alice = h.server.provisioned_actor("alice").await;
    let conv = h
        .server
        .group_conversation("alice", &["bob", "carol"])
        .await;
    for t in ["bob-phone", "bob-tablet"] {
        h.device("bob", t).await;
    }
    h.device("carol", "carol-phone").await;

    for i in 0..3 {
        h.send(&alice, conv.conversation.id, &format!("message {i}"))
            .await;
    }
    eventually("nine pushes", || h.fcm.delivered.lock().len() >= 9).await;
    settle().await;
    assert_eq!(h.fcm.delivered.lock().len(), 9);
    assert_eq!(h.fcm.token_requests.load(Ordering::SeqCst), 1);
    assert!(
        h.fcm
            .delivered
            .lock()
            .iter()
            .all(|r| r.bearer == "access-1")
    );
    h.assertions_were_valid();
}

#[tokio::test]
async fn a_refused_access_token_is_replaced_once() {
    let h = harness(FCM_ONLY).await;
    let alice = h.server.provisioned_actor("alice").await;
    let conv = h.server.direct_conversation("alice", "bob").await;
    h.device("bob", "bob-phone").await;
    h.fcm.refuse_first_token.store(true, Ordering::SeqCst);

    h.send(&alice, conv.conversation.id, "hi").await;
    eventually("delivered", || !h.fcm.delivered.lock().is_empty()).await;
    settle().await;
    assert_eq!(h.fcm.token_requests.load(Ordering::SeqCst), 2);
    assert_eq!(h.fcm.delivered.lock()[0].bearer, "access-2");
    assert_eq!(h.fcm.attempts.lock().len(), 2);
    h.assertions_were_valid();
}

#[tokio::test]
async fn a_member_who_muted_the_conversation_gets_no_push() {
    let h = harness(FCM_ONLY).await;
    let alice = h.server.provisioned_actor("alice").await;
    let bob = h.server.provisioned_actor("bob").await;
    let conv = h
        .server
        .group_conversation("alice", &["bob", "carol"])
        .await;
    h.device("bob", "bob-phone").await;
    h.device("carol", "carol-phone").await;
    let id = conv.conversation.id;
    let service = &h.server.running.state.service;
    service
        .set_muted(&bob, RowRef::Id(id), true)
        .await
        .expect("mute");

    h.send(&alice, id, "muted for bob").await;
    eventually("carol's push", || !h.fcm.delivered.lock().is_empty()).await;
    settle().await;
    assert_eq!(h.delivered_tokens(), ["carol-phone"]);

    service
        .set_muted(&bob, RowRef::Id(id), false)
        .await
        .expect("unmute");
    h.send(&alice, id, "heard again").await;
    eventually("both pushes", || h.fcm.delivered.lock().len() >= 3).await;
    settle().await;
    assert_eq!(
        h.delivered_tokens(),
        ["bob-phone", "carol-phone", "carol-phone"]
    );
}

#[tokio::test]
async fn a_vchat_message_socket_is_viewing_until_it_disconnects() {
    let h = harness(FCM_ONLY).await;
    let alice = h.server.provisioned_actor("alice").await;
    let conv = h.server.direct_conversation("alice", "bob").await;
    let id = conv.conversation.id;
    h.device("bob", "bob-phone").await;
    let vchat = h.server.vchat_url.clone().expect("vchat listens");
    let token = h.server.token_for("bob");
    let mut bob = socket_client(&vchat, "/message", Auth::RawHeader(&token)).await;
    bob.emit("join", json!(id.to_string())).await;
    bob.expect("all_messages").await;

    h.send(&alice, id, "seen live").await;
    bob.expect("new_message").await;
    settle().await;
    assert!(h.delivered_tokens().is_empty(), "a viewer gets no push");

    bob.disconnect().await;
    eventually("bob stopped viewing", || !h.server.is_viewing("bob", id)).await;
    h.send(&alice, id, "while away").await;
    eventually("a push", || !h.fcm.delivered.lock().is_empty()).await;
    assert_eq!(h.delivered_tokens(), ["bob-phone"]);
}

/// `PATCH /api/v1/user {fcmToken}` on the V Chat listener, as the SDK
/// registers its device.
async fn vchat_register_device(h: &Harness, user: &str, token: &str) {
    let vchat = h.server.vchat_url.clone().expect("vchat listens");
    let reply = crate::helpers::http::Reply::of(
        reqwest::Client::new()
            .patch(format!("{vchat}/api/v1/user"))
            .header(
                "authorization",
                format!("Bearer {}", h.server.token_for(user)),
            )
            .json(&json!({ "fcmToken": token })),
    )
    .await;
    reply.assert_status(200);
}

#[tokio::test]
async fn a_vchat_device_gets_the_room_and_the_message_the_sdk_parses() {
    let h = harness(Setup {
        fcm: true,
        webhook: true,
        token_uri_override: false,
    })
    .await;
    let alice = h.server.named_actor("alice", "Alice Example").await;
    let conv = h.server.direct_conversation("alice", "bob").await;
    let id = conv.conversation.id;
    vchat_register_device(&h, "bob", "bob-vchat").await;
    h.device("bob", "bob-phone").await;

    let m = h.send(&alice, id, "hello from alice").await;
    eventually("two pushes", || h.fcm.delivered.lock().len() >= 2).await;
    eventually("a webhook", || !h.hook.requests.lock().is_empty()).await;
    settle().await;
    assert_eq!(h.delivered_tokens(), ["bob-phone", "bob-vchat"]);
    let data_of = |token: &str| {
        h.fcm
            .delivered
            .lock()
            .iter()
            .find(|r| r.token == token)
            .map(|r| r.message["data"].clone())
            .expect("delivered")
    };
    let neutral = data_of("bob-phone");
    assert!(neutral.get("roomId").is_none(), "{neutral}");
    assert!(neutral.get("message").is_none(), "{neutral}");

    // `NotificationService`: `data['roomId']`, and
    // `VChatMessage.fromMap(jsonDecode(data['message']))`.
    let vchat = data_of("bob-vchat");
    assert_eq!(vchat["roomId"], id.to_string());
    let every = vchat.as_object().expect("data");
    assert!(every.values().all(serde_json::Value::is_string), "{vchat}");
    let message: serde_json::Value =
        serde_json::from_str(vchat["message"].as_str().expect("a JSON string")).expect("JSON");
    assert_eq!(message["_id"], m.id.to_string());
    assert_eq!(message["messageType"], "text");
    assert_eq!(message["content"], "hello from alice");
    assert_eq!(message["senderId"], "alice");
    assert_eq!(message["senderName"], "Alice Example");
    assert!(message["senderImageThumb"].is_string());
    assert_eq!(message["roomId"], id.to_string());
    assert_eq!(message["createdAt"], m.created_at);
    // The neutral fields are there too.
    assert_eq!(vchat["messageUuid"], m.uuid.to_string());

    // The webhook names the device's format and gives its data.
    let body = h.hook.requests.lock()[0].body.clone();
    let devices = body["devices"].as_array().expect("devices").clone();
    let vchat_device = devices
        .iter()
        .find(|d| d["token"] == "bob-vchat")
        .expect("the V Chat device");
    assert_eq!(vchat_device["pushFormat"], "vchat");
    assert_eq!(vchat_device["data"], vchat);
    let other = devices
        .iter()
        .find(|d| d["token"] == "bob-phone")
        .expect("the other device");
    assert!(other.get("pushFormat").is_none() && other.get("data").is_none());
    assert_eq!(body["data"], neutral);

    // A text too long for a push is cut to fit; the room is still named.
    let long = "é".repeat(3000);
    let m = h.send(&alice, id, &long).await;
    eventually("two more pushes", || h.fcm.delivered.lock().len() >= 4).await;
    let data = h
        .fcm
        .delivered
        .lock()
        .iter()
        .rev()
        .find(|r| r.token == "bob-vchat")
        .map(|r| r.message["data"].clone())
        .expect("delivered");
    let json = data["message"].as_str().expect("message");
    assert!(
        json.len() <= confab::dialects::vchat::push::MAX_MESSAGE_BYTES,
        "{}",
        json.len()
    );
    let message: serde_json::Value = serde_json::from_str(json).expect("JSON");
    assert_eq!(message["_id"], m.id.to_string());
    let content = message["content"].as_str().expect("content");
    assert!(!content.is_empty() && long.starts_with(content));
    h.assertions_were_valid();
}
