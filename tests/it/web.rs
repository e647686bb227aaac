//! The web client as the real server serves it: its pages on the Dozaar
//! listener under a strict Content-Security-Policy, nowhere else, not when
//! `web.enabled` is off; and the Dozaar handshake signed in by the session
//! cookie from the page's own origin only.

use serde_json::json;

use crate::helpers::client::{Auth, dozaar_client};
use crate::helpers::server::{spawn_server, spawn_server_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_is_served_at_the_root_of_the_dozaar_listener_under_a_strict_csp() {
    let server = spawn_server().await;
    let r = reqwest::get(format!("{}/", server.url))
        .await
        .expect("GET /");
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    let header = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("content-type").starts_with("text/html"));
    let csp = header("content-security-policy");
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    let etag = header("etag");
    let html = r.text().await.expect("body");
    assert!(html.contains("/app/main.js") && html.contains("/vendor/socket.io.min.js"));
    assert!(!html.contains("<script>"), "no inline script");

    let client = reqwest::Client::new();
    let again = client
        .get(format!("{}/", server.url))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("GET / again");
    assert_eq!(again.status(), 304);
    let js = reqwest::get(format!("{}/app/main.js", server.url))
        .await
        .expect("GET main.js");
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/javascript"))
    );
    for (path, status) in [("/app/nothing.js", 404), ("/../Cargo.toml", 404)] {
        let r = reqwest::get(format!("{}{path}", server.url))
            .await
            .expect("GET");
        assert_eq!(r.status(), status, "{path}");
    }
    let post = client
        .post(format!("{}/", server.url))
        .send()
        .await
        .expect("POST /");
    assert_eq!(post.status(), 405);
    // The API's own 404 is untouched.
    let api = reqwest::get(format!("{}/api/nothing", server.url))
        .await
        .expect("GET /api/nothing");
    assert_eq!(api.status(), 404);
    assert!(api.text().await.unwrap_or_default().contains("\"error\""));
    // Another dialect's listener serves no pages.
    let syarah = server.syarah_url.clone().expect("syarah listens");
    let r = reqwest::get(format!("{syarah}/")).await.expect("GET /");
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_pages_are_served_when_the_web_client_is_turned_off() {
    let server = spawn_server_with(|c| c.web.enabled = false).await;
    let r = reqwest::get(format!("{}/", server.url))
        .await
        .expect("GET /");
    assert_eq!(r.status(), 404);
    let r = reqwest::get(format!("{}/healthz", server.url))
        .await
        .expect("GET /healthz");
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dozaar_handshake_takes_the_session_cookie_from_the_pages_own_origin_only() {
    let server = spawn_server().await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/api/auth/session/register", server.url))
        .header("x-confab-csrf", "1")
        .json(&json!({"username": "webuser", "password": "correct horse"}))
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let host = server.url.trim_start_matches("http://").to_owned();

    let own = [
        ("Cookie", cookie.clone()),
        ("Origin", format!("http://{host}")),
    ];
    let mut c = dozaar_client(&server, Auth::Headers(&own)).await;
    assert_eq!(c.refused, None);
    let ack = c
        .emit_ack("get:online_status", json!({"userIds": ["someone"]}))
        .await;
    assert_eq!(ack["success"], true, "{ack}");
    let _ = c.expect("online:status").await;
    c.disconnect().await;

    let foreign = [
        ("Cookie", cookie.clone()),
        ("Origin", "http://evil.example".to_owned()),
    ];
    let c = dozaar_client(&server, Auth::Headers(&foreign)).await;
    let refused = c.refused.clone().unwrap_or_default();
    assert!(refused.contains("missing token"), "{refused}");

    let bad = [("Cookie", "confab_session=not-a-jwt".to_owned())];
    let c = dozaar_client(&server, Auth::Headers(&bad)).await;
    let refused = c.refused.clone().unwrap_or_default();
    assert!(refused.contains("malformed token"), "{refused}");
}
