//! `/api/admin/...`: the app backend's provisioning and history import,
//! behind the service credential (`admin.token`) or an operator's token.

use confab::core::{RowRef, UserId};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, spawn_api_with};
use confab::core::service::Limits;

const SERVICE: &str = "service-token-of-the-app-backend-0123456789";

async fn spawn_admin_api() -> Api {
    spawn_api_with(
        |c| {
            c.admin.token = SERVICE.into();
            c.admin.users = vec!["op".into()];
        },
        Limits::default(),
    )
    .await
}

impl Api {
    async fn put(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> crate::helpers::http::Reply {
        self.call(Method::PUT, path, token, Some(body)).await
    }
}

async fn stored(api: &Api, r: &str) -> Option<confab::core::Conversation> {
    api.state
        .service
        .store()
        .conversation(RowRef::parse_any(r).expect("ref"))
        .await
        .expect("store")
}

#[tokio::test]
async fn the_service_credential_and_operators_may_provision_users_and_others_may_not() {
    let api = spawn_admin_api().await;
    let body = json!({"name": "Alice", "email": "a@x.org"});
    let r = api
        .put("/api/admin/users/alice", Some(SERVICE), body.clone())
        .await;
    let u = r.assert_status(200);
    assert_eq!(
        (u["id"].clone(), u["name"].clone()),
        (json!("alice"), json!("Alice"))
    );
    let op = api.token_for("op");
    api.put("/api/admin/users/bob", Some(&op), body.clone())
        .await
        .assert_status(200);
    let user = api.token_for("carol");
    api.put("/api/admin/users/dave", Some(&user), body.clone())
        .await
        .assert_error(403, "FORBIDDEN");
    api.put("/api/admin/users/dave", None, body.clone())
        .await
        .assert_error(401, "UNAUTHENTICATED");
    let store = api.state.service.store();
    assert!(
        store
            .user(&UserId::parse("dave").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    // A second PUT changes nothing more.
    let again = api.put("/api/admin/users/alice", Some(SERVICE), body).await;
    assert_eq!(again.assert_status(200), u);
}

#[tokio::test]
async fn conversations_are_provisioned_under_the_ids_the_app_knows_idempotently() {
    let api = spawn_admin_api().await;
    let members = json!([{"userId": "u1", "role": "owner"}, {"userId": "u2"}]);
    for (id, kind) in [
        ("4242", "group"),
        ("3fa85f64-5717-4562-b3fc-2c963f66afa6", "direct"),
        ("64b7f0c2e4b0a1a2b3c4d5e6", "group"),
    ] {
        let path = format!("/api/admin/conversations/{id}");
        let members = if kind == "direct" {
            json!([{"userId": "d1"}, {"userId": "d2"}])
        } else {
            members.clone()
        };
        let body = json!({"kind": kind, "title": "T", "members": members});
        let first = api.put(&path, Some(SERVICE), body.clone()).await;
        let c = first.assert_status(201).clone();
        assert_eq!(c["created"], json!(true));
        let second = api.put(&path, Some(SERVICE), body).await;
        let again = second.assert_status(200);
        assert_eq!(again["created"], json!(false));
        assert_eq!(again["id"], c["id"]);
        assert_eq!(again["members"].as_array().map(Vec::len), Some(2));
        let stored = stored(&api, id).await.expect("stored under its id");
        match RowRef::parse_any(id).unwrap() {
            RowRef::Id(n) => assert_eq!(stored.id, n),
            RowRef::Uuid(u) => assert_eq!(stored.uuid, u),
            RowRef::External(e) => {
                assert_eq!(stored.external_id.as_deref(), Some(e.as_str()));
                assert_eq!(c["externalId"], json!(id));
            }
        }
    }
    // Members and roles.
    let m = api
        .put(
            "/api/admin/conversations/64b7f0c2e4b0a1a2b3c4d5e6/members/u3",
            Some(SERVICE),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(m.assert_status(200)["role"], json!("admin"));
    api.delete(
        "/api/admin/conversations/64b7f0c2e4b0a1a2b3c4d5e6/members/u3",
        Some(SERVICE),
    )
    .await
    .assert_status(204);
    let c = stored(&api, "64b7f0c2e4b0a1a2b3c4d5e6").await.unwrap();
    assert_eq!(
        api.state.service.store().members(c.id).await.unwrap().len(),
        2
    );
    api.put(
        "/api/admin/conversations/999/members/u3",
        Some(SERVICE),
        json!({}),
    )
    .await
    .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn bad_provisioning_input_is_refused_and_stores_nothing() {
    let api = spawn_admin_api().await;
    for (path, body) in [
        (
            "/api/admin/conversations/0",
            json!({"kind": "group", "members": [{"userId": "u1"}]}),
        ),
        (
            "/api/admin/conversations/a%20b",
            json!({"kind": "group", "members": [{"userId": "u1"}]}),
        ),
        (
            "/api/admin/conversations/77",
            json!({"kind": "direct", "members": [{"userId": "u1"}]}),
        ),
        (
            "/api/admin/conversations/78",
            json!({"kind": "group", "members": []}),
        ),
        (
            "/api/admin/conversations/79",
            json!({"kind": "group", "members": [{"userId": "u1", "role": "king"}]}),
        ),
        (
            "/api/admin/conversations/80",
            json!({"kind": "channel", "members": [{"userId": "u1"}]}),
        ),
    ] {
        api.put(path, Some(SERVICE), body)
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    for id in ["77", "78", "79", "80"] {
        assert!(stored(&api, id).await.is_none(), "{id}");
    }
    api.put("/api/admin/users/a%20b", Some(SERVICE), json!({}))
        .await
        .assert_error(400, "INVALID_PAYLOAD");
    api.put(
        "/api/admin/users/x",
        Some(SERVICE),
        json!({"avatar": "not a url"}),
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");
    assert!(
        api.state
            .service
            .store()
            .user(&UserId::parse("x").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    api.call(
        Method::POST,
        "/api/admin/users/nobody/devices",
        Some(SERVICE),
        Some(json!({"token": "t1", "platform": "ios"})),
    )
    .await
    .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn devices_are_registered_for_a_user_by_the_service() {
    let api = spawn_admin_api().await;
    api.put("/api/admin/users/alice", Some(SERVICE), json!({}))
        .await
        .assert_status(200);
    let r = api
        .call(
            Method::POST,
            "/api/admin/users/alice/devices",
            Some(SERVICE),
            Some(json!({"token": "fcm-1", "platform": "android"})),
        )
        .await;
    assert_eq!(r.assert_status(201)["token"], json!("fcm-1"));
    let devices = api
        .state
        .service
        .store()
        .devices_of(&[UserId::parse("alice").unwrap()])
        .await
        .unwrap();
    assert_eq!(devices.len(), 1);
    let user = api.token_for("carol");
    api.call(
        Method::POST,
        "/api/admin/users/alice/devices",
        Some(&user),
        Some(json!({"token": "fcm-2", "platform": "android"})),
    )
    .await
    .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn an_ndjson_history_is_imported_once_with_bad_lines_reported() {
    let api = spawn_admin_api().await;
    let body = [
        r#"{"type":"user","id":"u1","name":"One"}"#,
        r#"{"type":"user","id":"u2","name":"Two"}"#,
        r#"{"type":"conversation","id":"64b7f0c2e4b0a1a2b3c4d5e6","kind":"direct","createdAt":1000,"members":[{"userId":"u1"},{"userId":"u2"}]}"#,
        r#"{"type":"message","id":"m1","conversation":"64b7f0c2e4b0a1a2b3c4d5e6","sender":"u1","createdAt":2000,"text":"first"}"#,
        "this is not json",
        r#"{"type":"message","id":"m3","conversation":"64b7f0c2e4b0a1a2b3c4d5e6","sender":"u2","createdAt":4000,"text":"third"}"#,
        r#"{"type":"message","id":"m2","conversation":"64b7f0c2e4b0a1a2b3c4d5e6","sender":"u1","createdAt":3000,"text":"second"}"#,
        r#"{"type":"message","id":"m9","conversation":"nope","sender":"u1","createdAt":3000,"text":"lost"}"#,
        r#"{"type":"read","conversation":"64b7f0c2e4b0a1a2b3c4d5e6","userId":"u2","upTo":"m1"}"#,
    ]
    .join("\n");
    let first = api
        .raw(
            Method::POST,
            "/api/admin/import",
            SERVICE,
            "application/x-ndjson",
            &body,
        )
        .await;
    let s = first.assert_status(200).clone();
    assert_eq!(
        (
            s["records"].clone(),
            s["created"].clone(),
            s["refused"].clone(),
            s["reordered"].clone()
        ),
        (json!(9), json!(7), json!(2), json!(1))
    );
    let lines: Vec<i64> = s["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![5, 8]);

    let store = api.state.service.store();
    let c = stored(&api, "64b7f0c2e4b0a1a2b3c4d5e6").await.unwrap();
    let texts: Vec<String> = store
        .messages(
            c.id,
            confab::core::Page {
                before_seq: None,
                after_seq: None,
                limit: 50,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text.unwrap_or_default())
        .collect();
    assert_eq!(texts, ["first", "second", "third"], "in time order");
    assert_eq!(
        store
            .unread_count(c.id, &UserId::parse("u2").unwrap())
            .await
            .unwrap(),
        1,
        "m2 from u1 after the watermark"
    );
    let m1 = store
        .message(RowRef::parse_any("m1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((m1.seq, m1.conversation_id), (1, c.id));

    let again = api
        .raw(
            Method::POST,
            "/api/admin/import",
            SERVICE,
            "application/x-ndjson",
            &body,
        )
        .await;
    let s2 = again.assert_status(200);
    assert_eq!(
        (s2["created"].clone(), s2["skipped"].clone()),
        (json!(0), json!(7))
    );
    let after = stored(&api, "64b7f0c2e4b0a1a2b3c4d5e6").await.unwrap();
    assert_eq!(after.last_seq, 3, "no new sequence numbers");

    api.raw(
        Method::POST,
        "/api/admin/import",
        SERVICE,
        "text/plain",
        &body,
    )
    .await
    .assert_error(400, "INVALID_PAYLOAD");
    let user = api.token_for("carol");
    api.raw(
        Method::POST,
        "/api/admin/import",
        &user,
        "application/x-ndjson",
        &body,
    )
    .await
    .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn a_member_removed_by_provisioning_is_refused_at_once() {
    let api = spawn_admin_api().await;
    let members = json!([{"userId": "p1", "role": "owner"}, {"userId": "p2"}]);
    let c = api
        .put(
            "/api/admin/conversations/7001",
            Some(SERVICE),
            json!({"kind": "group", "title": "T", "members": members}),
        )
        .await
        .assert_status(201)
        .clone();
    let send = format!(
        "/api/conversations/{}/messages",
        c["uuid"].as_str().unwrap()
    );
    let p2 = api.token_for("p2");
    // The first send reads the roster (and keeps it); the removal must drop it.
    api.post(&send, Some(&p2), json!({"text": "still in"}))
        .await
        .assert_status(201);
    api.delete("/api/admin/conversations/7001/members/p2", Some(SERVICE))
        .await
        .assert_status(204);
    // A non-member is told the conversation is not there (as for any
    // conversation it is not in).
    api.post(&send, Some(&p2), json!({"text": "gone"}))
        .await
        .assert_error(404, "NOT_FOUND");
    // And added back by the same API, at once too.
    api.put(
        "/api/admin/conversations/7001/members/p2",
        Some(SERVICE),
        json!({}),
    )
    .await
    .assert_status(200);
    api.post(&send, Some(&p2), json!({"text": "back"}))
        .await
        .assert_status(201);
}
