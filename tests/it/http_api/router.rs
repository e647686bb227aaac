//! What the router does around the endpoints: unknown routes, the body
//! limit, CORS, the OpenAPI document, health and readiness.

use confab::core::service::Limits;
use reqwest::StatusCode;
use serde_json::json;

use super::{spawn_api, spawn_api_with};

#[tokio::test]
async fn unknown_api_routes_answer_404_in_the_error_shape() {
    let api = spawn_api().await;
    let token = api.token_for("alice");
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
    let api = spawn_api_with(|c| c.limits.http_body_bytes = 1024, Limits::default()).await;
    let c = api.conversation("alice", "direct", &["bob"]).await;
    let r = api
        .post(
            &format!("/api/conversations/{}/messages", c["id"]),
            Some(&api.token_for("alice")),
            json!({"text": "x".repeat(2000)}),
        )
        .await;
    r.assert_error(413, "INVALID_PAYLOAD");
    assert_eq!(api.message_count("alice", &c).await, 0);
}

#[tokio::test]
async fn cors_on_the_api_follows_the_allowed_origins() {
    let api = spawn_api_with(
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

    let any = spawn_api().await;
    let r = any
        .client
        .get(format!("{}/api/conversations", any.base))
        .header("origin", "https://anywhere.example")
        .bearer_auth(any.token_for("alice"))
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
    let api = spawn_api().await;
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

/// Walks the served document: every documented operation is served (never
/// the router's 404 or 405), and on a documented path every other method
/// is refused with 405, so the router serves exactly what is documented.
#[tokio::test]
async fn the_router_serves_exactly_the_documented_operations() {
    let api = spawn_api().await;
    let token = api.token_for("alice");
    let doc = api
        .get("/openapi.json", None)
        .await
        .assert_status(200)
        .clone();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    assert!(paths.len() >= 60, "{} paths", paths.len());
    let mut served = 0;
    for (path, item) in &paths {
        // Placeholders filled with a value of the right form for any route.
        let url: String = path
            .split('{')
            .enumerate()
            .map(|(i, part)| match (i, part.split_once('}')) {
                (0, _) | (_, None) => part.to_owned(),
                (_, Some((_, rest))) => format!("1{rest}"),
            })
            .collect();
        let documented: Vec<&str> = item
            .as_object()
            .map(|ops| ops.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for method in ["get", "post", "put", "patch", "delete"] {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = api.call(m, &url, Some(&token), None).await;
            if documented.contains(&method) {
                served += 1;
                assert_ne!(
                    r.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {url} is documented but refused: {}",
                    r.body
                );
                if r.status == StatusCode::NOT_FOUND {
                    assert!(!r.body.is_null(), "{method} {url}: the router's bare 404");
                    assert_ne!(
                        r.body["error"]["message"], "no such API route",
                        "{method} {url} is documented but not routed"
                    );
                }
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {url} is served but not documented: {}",
                    r.body
                );
            }
        }
    }
    assert!(served >= 70, "{served} operations");
}

#[tokio::test]
async fn healthz_always_answers_ok() {
    let api = spawn_api().await;
    let r = api.get("/healthz", None).await;
    assert_eq!(r.assert_status(200), &json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_answers_200_while_the_store_works_and_503_after_it_closes() {
    let api = spawn_api().await;
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

#[tokio::test]
async fn readyz_answers_503_draining_once_the_node_is_stopping_and_healthz_stays_200() {
    let api = spawn_api().await;
    api.get("/readyz", None).await.assert_status(200);
    api.state.drain.begin();
    let r = api.get("/readyz", None).await;
    let body = r.assert_status(503);
    assert_eq!(body["status"], "draining");
    api.get("/healthz", None).await.assert_status(200);
}
