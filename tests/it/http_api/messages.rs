//! Messages: sending, history pages, editing, deleting, marking read, kinds
//! and how far each message got.

use confab::core::service::Limits;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{seqs_of, spawn_api, spawn_api_with};

#[tokio::test]
async fn sending_a_message_returns_201_and_it_appears_in_history() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let r = api
        .post(
            &format!(
                "/api/conversations/{}/messages",
                c["uuid"].as_str().expect("uuid")
            ),
            Some(&api.token_for("alice")),
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
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    let token = api.token_for("alice");
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
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    let token = api.token_for("alice");
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
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    let token = api.token_for("alice");
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
        "/api/conversations/non!sense/messages",
        Some(&token),
        json!({"text": "hi"}),
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");
    assert_eq!(api.message_count("alice", &c).await, 0);
}

#[tokio::test]
async fn sending_and_reading_history_require_a_valid_token() {
    let api = spawn_api().await;
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
    let api = spawn_api_with(|_| {}, limits).await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    api.send("alice", &c, "one").await;
    api.send("alice", &c, "two").await;
    let r = api
        .post(
            &format!("/api/conversations/{}/messages", c["id"]),
            Some(&api.token_for("alice")),
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
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let mut sent = Vec::new();
    for i in 1..=5 {
        sent.push(api.send("alice", &c, &format!("m{i}")).await);
    }
    let newest = api.history("bob", &c, "?limit=2").await;
    assert_eq!(seqs_of(newest.assert_status(200)), vec![4, 5]);
    assert_eq!(newest.body["hasMore"], true);

    let older = api
        .history("bob", &c, &format!("?before={}&limit=2", sent[3]["id"]))
        .await;
    assert_eq!(seqs_of(older.assert_status(200)), vec![2, 3]);
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
    assert_eq!(seqs_of(oldest.assert_status(200)), vec![1]);
    assert_eq!(oldest.body["hasMore"], false);

    let newer = api
        .history("bob", &c, &format!("?after={}&limit=2", sent[0]["id"]))
        .await;
    assert_eq!(seqs_of(newer.assert_status(200)), vec![2, 3]);
    assert_eq!(newer.body["hasMore"], true);

    let rest = api
        .history(
            "bob",
            &c,
            &format!("?after={}&limit=2", sent[2]["uuid"].as_str().expect("uuid")),
        )
        .await;
    assert_eq!(seqs_of(rest.assert_status(200)), vec![4, 5]);

    let none = api
        .history("bob", &c, &format!("?after={}", sent[4]["id"]))
        .await;
    assert_eq!(seqs_of(none.assert_status(200)), Vec::<i64>::new());
    assert_eq!(none.body["hasMore"], false);

    let all = api.history("bob", &c, "").await;
    assert_eq!(seqs_of(all.assert_status(200)), vec![1, 2, 3, 4, 5]);
    assert_eq!(all.body["hasMore"], false);
}

#[tokio::test]
async fn history_with_a_bad_cursor_or_limit_is_refused() {
    let api = spawn_api().await;
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
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m = api.send("alice", &c, "typo").await;
    let r = api
        .patch(
            &format!("/api/messages/{}", m["uuid"].as_str().expect("uuid")),
            Some(&api.token_for("alice")),
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
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m = api.send("alice", &c, "original").await;
    let path = format!("/api/messages/{}", m["id"]);
    let alice = api.token_for("alice");
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
    api.patch("/api/messages/a!bc", Some(&alice), json!({"text": "x"}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    api.patch("/api/messages/999999", Some(&alice), json!({"text": "x"}))
        .await
        .assert_error(404, "NOT_FOUND");
    api.patch(
        &path,
        Some(&api.token_for("bob")),
        json!({"text": "hijacked"}),
    )
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
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m = api.send("alice", &c, "oops").await;
    let path = format!("/api/messages/{}", m["id"]);
    let r = api.delete(&path, Some(&api.token_for("alice"))).await;
    let deleted = r.assert_status(200).clone();
    assert_eq!(deleted["id"], m["id"]);
    assert!(deleted["deletedAt"].as_i64().is_some());
    assert!(deleted["text"].is_null());
    // Deleting again returns the same deleted message.
    let again = api.delete(&path, Some(&api.token_for("alice"))).await;
    assert_eq!(again.assert_status(200)["deletedAt"], deleted["deletedAt"]);
    let page = api.history("bob", &c, "").await;
    let stored = &page.assert_status(200)["messages"][0];
    assert_eq!(stored["id"], m["id"]);
    assert!(stored["deletedAt"].as_i64().is_some());
    // A deleted message cannot be edited.
    api.patch(
        &path,
        Some(&api.token_for("alice")),
        json!({"text": "back"}),
    )
    .await
    .assert_error(409, "CONFLICT");
}

#[tokio::test]
async fn deleting_by_someone_else_or_without_a_token_is_refused_and_changes_nothing() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "group", &["bob", "carol"]).await;
    let m = api.send("bob", &c, "mine").await;
    let path = format!("/api/messages/{}", m["id"]);
    api.delete(&path, Some(&api.token_for("carol")))
        .await
        .assert_error(403, "FORBIDDEN");
    api.delete("/api/messages/not!an!id", Some(&api.token_for("bob")))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    api.assert_refuses_bad_tokens(reqwest::Method::DELETE, &path, None)
        .await;
    let page = api.history("bob", &c, "").await;
    let stored = &page.assert_status(200)["messages"][0];
    assert_eq!(stored["text"], "mine");
    assert!(stored["deletedAt"].is_null());
    // The group's owner may delete it.
    api.delete(&path, Some(&api.token_for("alice")))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn marking_a_message_read_moves_the_watermark_and_clears_unread() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m1 = api.send("alice", &c, "one").await;
    let m2 = api.send("alice", &c, "two").await;
    let bob = api.token_for("bob");
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
    let api = spawn_api().await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let m = api.send("alice", &c, "one").await;
    let bob = api.token_for("bob");
    api.post("/api/messages/z!z/read", Some(&bob), json!({}))
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

#[tokio::test]
async fn messages_carry_their_kind() {
    let api = spawn_api().await;
    let c = api.conversation("alice", "group", &["bob"]).await;
    let path = format!("/api/conversations/{}/messages", c["id"]);
    let alice = api.token_for("alice");
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
    let api = spawn_api().await;
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
    let bob = api.token_for("bob");
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
    let carol = api.token_for("carol");
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
