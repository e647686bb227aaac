//! The web client's session: signing in and up with the token kept in an
//! `HttpOnly` cookie, signing out, the CSRF rule for cookie requests, and
//! finding a user to chat with.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, spawn_api};
use crate::helpers::http::Reply;

const CSRF: (&str, &str) = ("x-confab-csrf", "1");

impl Api {
    /// A request with `headers` (and no bearer token).
    async fn with_headers(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::of(req).await
    }

    /// The `host:port` the API answers on, as a browser sends it in `Host`.
    fn host(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Registers `username` with a password through the token endpoint.
    async fn account(&self, username: &str) -> Value {
        let r = self
            .post(
                "/api/auth/register",
                None,
                json!({"username": username, "password": "correct horse", "displayName": username}),
            )
            .await;
        r.assert_status(201)["user"].clone()
    }

    /// Signs `username` in through the session endpoint; returns the
    /// `Cookie` header value a browser would send back.
    async fn session_cookie(&self, username: &str) -> String {
        let r = self
            .with_headers(
                Method::POST,
                "/api/auth/session",
                &[CSRF],
                Some(json!({"username": username, "password": "correct horse"})),
            )
            .await;
        r.assert_status(200);
        cookie_pair(&set_cookie(&r))
    }
}

/// The `Set-Cookie` header of a reply.
fn set_cookie(r: &Reply) -> String {
    r.headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `name=value` of a `Set-Cookie` header.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn signing_in_sets_an_http_only_strict_cookie_and_answers_the_user_without_a_token() {
    let api = spawn_api().await;
    let alice = api.account("alice").await;
    let r = api
        .with_headers(
            Method::POST,
            "/api/auth/session",
            &[CSRF],
            Some(json!({"username": "alice", "password": "correct horse"})),
        )
        .await;
    let body = r.assert_status(200);
    assert_eq!(body["user"]["id"], alice["id"]);
    assert!(body.get("token").is_none(), "no token in the body: {body}");
    let cookie = set_cookie(&r);
    assert!(cookie.starts_with("confab_session=ey"), "{cookie}");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert_eq!(
        r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    // The cookie alone signs the next requests in.
    let pair = cookie_pair(&cookie);
    let me = api
        .with_headers(Method::GET, "/api/me", &[("cookie", &pair)], None)
        .await;
    assert_eq!(me.assert_status(200)["id"], alice["id"]);
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_a_proxy_says_the_request_came_over_https() {
    let api = spawn_api().await;
    api.account("alice").await;
    let r = api
        .with_headers(
            Method::POST,
            "/api/auth/session",
            &[CSRF, ("x-forwarded-proto", "https")],
            Some(json!({"username": "alice", "password": "correct horse"})),
        )
        .await;
    r.assert_status(200);
    assert!(set_cookie(&r).ends_with("; Secure"), "{}", set_cookie(&r));
}

#[tokio::test]
async fn registering_through_the_session_endpoint_signs_in_without_showing_the_token() {
    let api = spawn_api().await;
    let r = api
        .with_headers(
            Method::POST,
            "/api/auth/session/register",
            &[CSRF],
            Some(json!({"username": "bob", "password": "correct horse", "displayName": "Bob"})),
        )
        .await;
    let body = r.assert_status(201);
    assert_eq!(body["user"]["username"], "bob");
    assert!(body.get("token").is_none(), "{body}");
    let pair = cookie_pair(&set_cookie(&r));
    let me = api
        .with_headers(Method::GET, "/api/me", &[("cookie", &pair)], None)
        .await;
    assert_eq!(me.assert_status(200)["displayName"], "Bob");
}

#[tokio::test]
async fn bad_sign_ins_and_sign_ups_are_refused_and_set_no_cookie() {
    let api = spawn_api().await;
    api.account("alice").await;
    let login = |body: Value| {
        let api = &api;
        async move {
            api.with_headers(Method::POST, "/api/auth/session", &[CSRF], Some(body))
                .await
        }
    };
    let r = login(json!({"username": "alice", "password": "wrong password"})).await;
    r.assert_error(401, "UNAUTHENTICATED");
    assert!(set_cookie(&r).is_empty());
    let r = login(json!({"username": "nobody", "password": "correct horse"})).await;
    r.assert_error(401, "UNAUTHENTICATED");
    let r = login(json!({"username": "alice"})).await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.body);
    assert!(set_cookie(&r).is_empty());

    let register = |body: Value| {
        let api = &api;
        async move {
            api.with_headers(
                Method::POST,
                "/api/auth/session/register",
                &[CSRF],
                Some(body),
            )
            .await
        }
    };
    let r = register(json!({"username": "a b", "password": "correct horse"})).await;
    r.assert_error(400, "INVALID_PAYLOAD");
    assert!(set_cookie(&r).is_empty());
    register(json!({"username": "ALICE", "password": "correct horse"}))
        .await
        .assert_error(409, "CONFLICT");
    // Nothing was stored: the refused username is still free.
    register(json!({"username": "carol", "password": "correct horse"}))
        .await
        .assert_status(201);
    assert_eq!(
        api.post(
            "/api/auth/login",
            None,
            json!({"username": "a b", "password": "correct horse"})
        )
        .await
        .status
        .as_u16(),
        401
    );
}

#[tokio::test]
async fn the_session_endpoints_refuse_requests_without_the_csrf_header_or_from_another_origin() {
    let api = spawn_api().await;
    api.account("alice").await;
    let creds = json!({"username": "alice", "password": "correct horse"});
    let host = api.host().to_owned();
    let cases: [(&str, Vec<(&str, &str)>); 3] = [
        ("no CSRF header", vec![]),
        ("a wrong CSRF value", vec![("x-confab-csrf", "true")]),
        (
            "another origin",
            vec![CSRF, ("host", &host), ("origin", "http://evil.example")],
        ),
    ];
    for (what, headers) in cases {
        for path in ["/api/auth/session", "/api/auth/session/register"] {
            let r = api
                .with_headers(Method::POST, path, &headers, Some(creds.clone()))
                .await;
            r.assert_error(403, "FORBIDDEN");
            assert!(set_cookie(&r).is_empty(), "{what} on {path}");
        }
        api.with_headers(Method::DELETE, "/api/auth/session", &headers, None)
            .await
            .assert_error(403, "FORBIDDEN");
    }
    // Its own origin is fine.
    let own = format!("http://{host}");
    api.with_headers(
        Method::POST,
        "/api/auth/session",
        &[CSRF, ("origin", &own)],
        Some(creds),
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn signing_out_removes_the_cookie() {
    let api = spawn_api().await;
    api.account("alice").await;
    let pair = api.session_cookie("alice").await;
    let r = api
        .with_headers(
            Method::DELETE,
            "/api/auth/session",
            &[CSRF, ("cookie", &pair)],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    let cleared = set_cookie(&r);
    assert!(cleared.starts_with("confab_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0") && cleared.contains("HttpOnly"));
}

#[tokio::test]
async fn a_cookie_request_that_changes_something_needs_the_csrf_header_and_its_own_origin() {
    let api = spawn_api().await;
    api.account("alice").await;
    let bob = api.account("bob").await;
    let pair = api.session_cookie("alice").await;
    let host = api.host().to_owned();
    let own = format!("http://{host}");
    let body = json!({"kind": "direct", "memberIds": [bob["id"]]});

    // Reading needs no header.
    api.with_headers(
        Method::GET,
        "/api/conversations",
        &[("cookie", &pair)],
        None,
    )
    .await
    .assert_status(200);
    // Writing without it, or from another origin: 403, nothing created.
    for headers in [
        vec![("cookie", pair.as_str())],
        vec![
            ("cookie", pair.as_str()),
            CSRF,
            ("origin", "http://evil.example"),
        ],
        vec![("cookie", pair.as_str()), CSRF, ("origin", "null")],
    ] {
        api.with_headers(
            Method::POST,
            "/api/conversations",
            &headers,
            Some(body.clone()),
        )
        .await
        .assert_error(403, "FORBIDDEN");
    }
    let list = api
        .with_headers(
            Method::GET,
            "/api/conversations",
            &[("cookie", &pair)],
            None,
        )
        .await;
    assert_eq!(list.assert_status(200).as_array().map(Vec::len), Some(0));
    // With the header, from its own origin (or with no Origin): created.
    api.with_headers(
        Method::POST,
        "/api/conversations",
        &[("cookie", &pair), CSRF, ("origin", &own)],
        Some(body.clone()),
    )
    .await
    .assert_status(201);
    // A bearer token needs no CSRF header (no browser sends one by itself).
    let carol = api.token_for("carol");
    api.post(
        "/api/conversations",
        Some(&carol),
        json!({"kind": "direct", "memberIds": ["dave"]}),
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn a_bad_or_expired_session_cookie_is_unauthorized() {
    let api = spawn_api().await;
    for cookie in [
        "confab_session=not-a-jwt".to_owned(),
        format!("confab_session={}", super::expired_token()),
        "confab_session=".to_owned(),
        "other=1".to_owned(),
    ] {
        api.with_headers(Method::GET, "/api/me", &[("cookie", &cookie)], None)
            .await
            .assert_error(401, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn a_user_is_found_by_username_or_id_with_the_public_profile_only() {
    let api = spawn_api().await;
    let bob = api.account("bob").await;
    let me = api.token_for("alice");
    let r = api.get("/api/users/BOB", Some(&me)).await;
    let found = r.assert_status(200);
    assert_eq!(found["id"], bob["id"]);
    assert_eq!(found["username"], "bob");
    assert!(found.get("email").is_none(), "{found}");
    let by_id = api
        .get(
            &format!("/api/users/{}", bob["id"].as_str().unwrap_or_default()),
            Some(&me),
        )
        .await;
    assert_eq!(by_id.assert_status(200)["username"], "bob");
    for missing in [
        "/api/users/nobody",
        "/api/users/bob@example.com",
        "/api/users/%20",
    ] {
        api.get(missing, Some(&me))
            .await
            .assert_error(404, "NOT_FOUND");
    }
    api.assert_refuses_bad_tokens(Method::GET, "/api/users/bob", None)
        .await;
}
