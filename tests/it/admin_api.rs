//! The admin API behind the operator console: who may call it (an
//! operator of `admin.users` with their own token, or the service
//! credential `admin.token`; 403 for another user, 401 without a token),
//! the overview's figures, the users' listing and search, and disabling,
//! enabling and revoking as the command line does it (REST refused, open
//! sockets closed).
//!
//! The counters of the overview (messages, deliveries, refusals) come from
//! the process's metrics recorder, which the tests of this binary share:
//! their exact counts are checked against the real binary, in a process of
//! its own ([`the_overview_counts_what_the_binary_stored_delivered_and_refused`]).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tf_rust_socketio::TransportType;

use crate::helpers::http::Reply;
use crate::helpers::{
    Auth, TestServer, dozaar_client, dozaar_client_over, socket_client, spawn_server_with,
};

const SERVICE_TOKEN: &str = "a-service-credential-of-at-least-32-characters";

/// A server whose operator is `ops`, with the service credential set.
async fn spawn_console() -> TestServer {
    spawn_server_with(|c| {
        c.admin.users = vec!["ops".into()];
        c.admin.token = SERVICE_TOKEN.into();
    })
    .await
}

async fn call(method: reqwest::Method, url: String, token: Option<&str>) -> Reply {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Reply::of(req).await
}

async fn get(base: &str, path: &str, token: Option<&str>) -> Reply {
    call(reqwest::Method::GET, format!("{base}{path}"), token).await
}

async fn post(base: &str, path: &str, token: Option<&str>) -> Reply {
    call(reqwest::Method::POST, format!("{base}{path}"), token).await
}

/// Polls the overview until `check` holds of it (at most 5 s); returns it.
async fn overview_until(
    base: &str,
    token: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let body = get(base, "/api/admin/overview", Some(token))
            .await
            .assert_status(200)
            .clone();
        if check(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within 5 s: {what}; last overview {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const ROUTES: [(&str, &str); 5] = [
    ("GET", "/api/admin/overview"),
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users/alice/disable"),
    ("POST", "/api/admin/users/alice/enable"),
    ("POST", "/api/admin/users/alice/revoke-tokens"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_route_answers_an_operator_and_the_service_credential() {
    let server = spawn_console().await;
    server.provisioned_actor("alice").await;
    let ops = server.token_for("ops");
    for token in [ops.as_str(), SERVICE_TOKEN] {
        for (method, path) in ROUTES {
            let reply = call(
                method.parse().expect("method"),
                format!("{}{path}", server.url),
                Some(token),
            )
            .await;
            reply.assert_status(200);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_is_refused_403_and_a_caller_without_a_token_401() {
    let server = spawn_console().await;
    server.provisioned_actor("alice").await;
    let alice = server.token_for("alice");
    for (method, path) in ROUTES {
        let url = format!("{}{path}", server.url);
        let as_alice = call(method.parse().expect("method"), url.clone(), Some(&alice)).await;
        as_alice.assert_error(403, "FORBIDDEN");
        let anonymous = call(method.parse().expect("method"), url.clone(), None).await;
        anonymous.assert_error(401, "UNAUTHENTICATED");
        let wrong = call(
            method.parse().expect("method"),
            url,
            Some("not-the-service-credential-but-long-enough"),
        )
        .await;
        wrong.assert_error(401, "UNAUTHENTICATED");
    }
    // Nothing was changed by the refused calls.
    let user = get(
        &server.url,
        "/api/admin/users?query=alice",
        Some(SERVICE_TOKEN),
    )
    .await;
    let user = &user.assert_status(200)["users"][0];
    assert_eq!(user["id"], "alice");
    assert_eq!(user["disabled"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_operators_or_a_service_credential_no_one_may_call_the_admin_api() {
    let server = crate::helpers::spawn_server().await;
    let token = server.token_for("ops");
    get(&server.url, "/api/admin/overview", Some(&token))
        .await
        .assert_error(403, "FORBIDDEN");
    assert!(server.running.state.node.meter.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_describes_this_node_alone_without_redis() {
    let server = spawn_console().await;
    let body = get(&server.url, "/api/admin/overview", Some(SERVICE_TOKEN)).await;
    let body = body.assert_status(200);
    let node = &body["node"];
    assert_eq!(node["id"], server.running.state.node.id.as_ref());
    assert_eq!(node["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(node["database"], "sqlite");
    assert_eq!(node["redis"], false);
    assert_eq!(node["startedAt"], server.running.state.node.started_at);
    assert!(
        node["uptimeSecs"].as_u64().is_some_and(|s| s < 60),
        "{node}"
    );
    let nodes = body["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 1, "{body}");
    assert_eq!(nodes[0]["id"], node["id"]);
    assert_eq!(nodes[0]["state"], "up");
    assert_eq!(nodes[0]["connections"], 0);
    // Every dialect served is listed, with no socket open yet.
    let by_dialect = body["connections"]["byDialect"]
        .as_object()
        .expect("byDialect");
    let names: Vec<&str> = by_dialect.keys().map(String::as_str).collect();
    assert_eq!(names, ["dozaar", "jobspare", "syarah", "vchat", "voxora"]);
    for t in by_dialect.values() {
        assert_eq!(t, &json!({"websocket": 0, "polling": 0}));
    }
    assert_eq!(body["connections"]["total"], 0);
    for figure in ["stored", "perSecond"] {
        assert!(body["messages"][figure].is_number(), "{body}");
    }
    assert!(body["deliveries"]["total"].is_u64(), "{body}");
    assert!(body["errors"]["total"].is_u64(), "{body}");
    assert!(body["errors"]["byCode"].is_object(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_counted_by_dialect_and_transport_as_sockets_open_and_close() {
    let server = spawn_console().await;
    let ws = dozaar_client(&server, Auth::Token(&server.token_for("alice"))).await;
    let polling = dozaar_client_over(
        &server,
        Auth::Token(&server.token_for("bob")),
        TransportType::Polling,
    )
    .await;
    let vchat_url = server.vchat_url.clone().expect("vchat listens");
    let vchat = socket_client(&vchat_url, "/", Auth::RawHeader(&server.token_for("carol"))).await;
    assert!(ws.refused.is_none() && polling.refused.is_none() && vchat.refused.is_none());
    let body = overview_until(&server.url, SERVICE_TOKEN, "three sockets", |b| {
        b["connections"]["total"] == 3
    })
    .await;
    let by = &body["connections"]["byDialect"];
    assert_eq!(
        by["dozaar"],
        json!({"websocket": 1, "polling": 1}),
        "{body}"
    );
    assert_eq!(by["vchat"], json!({"websocket": 1, "polling": 0}), "{body}");
    assert_eq!(
        by["syarah"],
        json!({"websocket": 0, "polling": 0}),
        "{body}"
    );
    assert_eq!(body["nodes"][0]["connections"], 3);
    // Who is online, as the users' list shows it.
    let users = get(&server.url, "/api/admin/users", Some(SERVICE_TOKEN)).await;
    let online: Vec<(&str, bool)> = users.assert_status(200)["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| (u["id"].as_str().unwrap_or(""), u["online"] == true))
        .collect();
    assert_eq!(online, [("alice", true), ("bob", true), ("carol", true)]);

    ws.disconnect().await;
    polling.disconnect().await;
    let body = overview_until(&server.url, SERVICE_TOKEN, "one socket left", |b| {
        b["connections"]["total"] == 1
    })
    .await;
    assert_eq!(
        body["connections"]["byDialect"]["dozaar"],
        json!({"websocket": 0, "polling": 0})
    );
    vchat.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_searched_and_paged_by_id() {
    let server = spawn_console().await;
    server.named_actor("alice", "Alice Liddell").await;
    server.named_actor("bob", "Bob").await;
    server.named_actor("u-3", "Alfred").await;
    server.named_actor("carol", "Carol").await;
    let base = &server.url;
    let ids = |reply: &Reply| -> Vec<String> {
        reply.body["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| u["id"].as_str().unwrap_or("").to_owned())
            .collect()
    };

    let all = get(base, "/api/admin/users?query=&after=", Some(SERVICE_TOKEN)).await;
    all.assert_status(200);
    assert_eq!(ids(&all), ["alice", "bob", "carol", "u-3"]);
    assert_eq!(all.body["next"], Value::Null);
    let alice = &all.body["users"][0];
    assert_eq!(alice["name"], "Alice Liddell");
    assert_eq!(alice["disabled"], false);
    assert_eq!(alice["deleted"], false);
    assert_eq!(alice["online"], false);
    assert!(alice["createdAt"].is_i64(), "{alice}");
    assert!(alice.get("lastSeenAt").is_some() && alice.get("email").is_some());

    // By a prefix of the id or the display name, in any case.
    let found = get(base, "/api/admin/users?query=AL", Some(SERVICE_TOKEN)).await;
    assert_eq!(ids(&found), ["alice", "u-3"]);
    let found = get(base, "/api/admin/users?query=u-", Some(SERVICE_TOKEN)).await;
    assert_eq!(ids(&found), ["u-3"]);
    let none = get(base, "/api/admin/users?query=zz", Some(SERVICE_TOKEN)).await;
    assert_eq!(ids(&none), Vec::<String>::new());

    // Pages of two, then the rest.
    let first = get(base, "/api/admin/users?limit=2", Some(SERVICE_TOKEN)).await;
    assert_eq!(ids(&first), ["alice", "bob"]);
    assert_eq!(first.body["next"], "bob");
    let second = get(
        base,
        "/api/admin/users?limit=2&after=bob",
        Some(SERVICE_TOKEN),
    )
    .await;
    assert_eq!(ids(&second), ["carol", "u-3"]);
    assert_eq!(second.body["next"], "u-3");
    let last = get(
        base,
        "/api/admin/users?limit=2&after=u-3",
        Some(SERVICE_TOKEN),
    )
    .await;
    assert_eq!(ids(&last), Vec::<String>::new());
    assert_eq!(last.body["next"], Value::Null);
    let searched = get(
        base,
        "/api/admin/users?query=al&limit=1&after=alice",
        Some(SERVICE_TOKEN),
    )
    .await;
    assert_eq!(ids(&searched), ["u-3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_400_and_an_unknown_user_404() {
    let server = spawn_console().await;
    let base = &server.url;
    for query in [
        "limit=0",
        "limit=201",
        "limit=abc",
        "limit=-1",
        "after=a%20b",
    ] {
        let reply = get(
            base,
            &format!("/api/admin/users?{query}"),
            Some(SERVICE_TOKEN),
        )
        .await;
        reply.assert_error(400, "INVALID_PAYLOAD");
    }
    for action in ["disable", "enable", "revoke-tokens"] {
        let reply = post(
            base,
            &format!("/api/admin/users/nobody/{action}"),
            Some(SERVICE_TOKEN),
        )
        .await;
        reply.assert_error(404, "NOT_FOUND");
        let reply = post(
            base,
            &format!("/api/admin/users/a%20b/{action}"),
            Some(SERVICE_TOKEN),
        )
        .await;
        reply.assert_error(400, "INVALID_PAYLOAD");
    }
    // Nothing was created by them.
    let all = get(base, "/api/admin/users", Some(SERVICE_TOKEN)).await;
    assert_eq!(all.assert_status(200)["users"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_is_refused_on_rest_and_their_open_socket_is_closed_until_enabled() {
    let server = spawn_console().await;
    let alice = server.token_for("alice");
    get(&server.url, "/api/me", Some(&alice))
        .await
        .assert_status(200);
    let socket = dozaar_client(&server, Auth::Token(&alice)).await;
    assert!(socket.refused.is_none());
    overview_until(&server.url, SERVICE_TOKEN, "alice's socket", |b| {
        b["connections"]["total"] == 1
    })
    .await;

    let ops = server.token_for("ops");
    let user = post(&server.url, "/api/admin/users/alice/disable", Some(&ops)).await;
    let user = user.assert_status(200);
    assert_eq!(user["id"], "alice");
    assert_eq!(user["disabled"], true);
    get(&server.url, "/api/me", Some(&alice))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    // The node's check of open sockets (every 2 s) closes hers.
    overview_until(&server.url, SERVICE_TOKEN, "alice's socket closed", |b| {
        b["connections"]["total"] == 0
    })
    .await;
    let refused = dozaar_client(&server, Auth::Token(&alice)).await;
    assert!(refused.refused.is_some(), "a disabled user connected");

    let user = post(&server.url, "/api/admin/users/alice/enable", Some(&ops)).await;
    assert_eq!(user.assert_status(200)["disabled"], false);
    get(&server.url, "/api/me", Some(&alice))
        .await
        .assert_status(200);
    socket.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_tokens_are_refused_and_their_socket_closed_while_a_new_token_works() {
    let server = spawn_console().await;
    let old = server.token_for("bob");
    let socket = dozaar_client(&server, Auth::Token(&old)).await;
    assert!(socket.refused.is_none());
    overview_until(&server.url, SERVICE_TOKEN, "bob's socket", |b| {
        b["connections"]["total"] == 1
    })
    .await;

    let user = post(
        &server.url,
        "/api/admin/users/bob/revoke-tokens",
        Some(SERVICE_TOKEN),
    )
    .await;
    let user = user.assert_status(200);
    assert_eq!(user["id"], "bob");
    assert_eq!(user["disabled"], false);
    get(&server.url, "/api/me", Some(&old))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    overview_until(&server.url, SERVICE_TOKEN, "bob's socket closed", |b| {
        b["connections"]["total"] == 0
    })
    .await;
    // Tokens count again from the next whole second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let new = server.token_for("bob");
    get(&server.url, "/api/me", Some(&new))
        .await
        .assert_status(200);
    socket.disconnect().await;
}

/// The real binary in a process of its own (its metrics recorder its own),
/// every dialect on port 0, with `ops` as its operator.
struct Binary {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Binary {
    fn spawn() -> Binary {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_confab"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CONFAB_DATA_DIR", dir.path())
            .env("CONFAB_BIND", "127.0.0.1")
            .env("CONFAB_DOZAAR_PORT", "0")
            .env("CONFAB_SYARAH_PORT", "0")
            .env("CONFAB_JOBSPARE_PORT", "0")
            .env("CONFAB_VOXORA_PORT", "0")
            .env("CONFAB_VCHAT_PORT", "0")
            .env("CONFAB_LOG", "warn")
            .env("CONFAB_LOG_FORMAT", "pretty")
            .env("CONFAB_ADMIN_USERS", "ops")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("confab starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut url = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line");
            if let Some(rest) = line.strip_prefix("confab: dozaar listening on ") {
                url = Some(rest.trim().trim_end_matches('/').to_owned());
            }
            if line.starts_with("confab: data in ") {
                break;
            }
        }
        Binary {
            url: url.expect("confab printed the Dozaar listener"),
            child,
            dir,
        }
    }

    fn token(&self, user: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_confab"))
            .arg("token")
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(["--user", user])
            .env_clear()
            .current_dir(self.dir.path())
            .output()
            .expect("confab token");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_what_the_binary_stored_delivered_and_refused() {
    let bin = tokio::task::spawn_blocking(Binary::spawn)
        .await
        .expect("spawned");
    let (ops, alice, bob) = (bin.token("ops"), bin.token("alice"), bin.token("bob"));
    let base = bin.url.clone();
    let start = get(&base, "/api/admin/overview", Some(&ops)).await;
    let start = start.assert_status(200).clone();
    assert_eq!(start["messages"]["stored"], 0, "{start}");
    assert_eq!(start["deliveries"]["total"], 0, "{start}");
    assert_eq!(
        start["errors"],
        json!({"total": 0, "byCode": {}}),
        "{start}"
    );
    assert_eq!(start["connections"]["total"], 0, "{start}");

    let conv = Reply::of(
        reqwest::Client::new()
            .post(format!("{base}/api/conversations"))
            .bearer_auth(&alice)
            .json(&json!({"kind": "direct", "memberIds": ["bob"]})),
    )
    .await;
    let uuid = conv.body["uuid"].as_str().expect("uuid").to_owned();
    let mut a = socket_client(&base, "/chat", Auth::Token(&alice)).await;
    let mut b = socket_client(&base, "/chat", Auth::Token(&bob)).await;
    for c in [&mut a, &mut b] {
        c.emit("join:conversation", json!({"conversationId": uuid}))
            .await;
        c.expect("joined:conversation").await;
    }
    for i in 0..3 {
        let ack = a
            .emit_ack(
                "send:message",
                json!({"conversationId": uuid, "message": format!("m{i}")}),
            )
            .await;
        assert_eq!(ack["success"], true, "{ack}");
        b.expect_where("new:message", |m| m["message"] == format!("m{i}"))
            .await;
    }
    // Refused: a send without its text (Dozaar), and a REST call of a
    // user who is not an operator.
    a.emit("send:message", json!({"conversationId": uuid}))
        .await;
    a.expect("exception").await;
    get(&base, "/api/admin/overview", Some(&bob))
        .await
        .assert_error(403, "FORBIDDEN");

    let body = overview_until(&base, &ops, "3 messages, 3 deliveries, 2 refusals", |b| {
        b["messages"]["stored"] == 3 && b["deliveries"]["total"] == 3 && b["errors"]["total"] == 2
    })
    .await;
    assert_eq!(
        body["errors"]["byCode"],
        json!({"forbidden": 1, "invalid_payload": 1}),
        "{body}"
    );
    assert_eq!(body["connections"]["total"], 2, "{body}");
    assert_eq!(
        body["connections"]["byDialect"]["dozaar"]["websocket"], 2,
        "{body}"
    );
    let rate = body["messages"]["perSecond"].as_f64().expect("perSecond");
    assert!(rate > 0.0 && rate <= 30.0, "{body}");
    a.disconnect().await;
    b.disconnect().await;
}
