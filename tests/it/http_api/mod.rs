//! The REST API, served in-process on a random port over a fresh SQLite
//! database and driven with reqwest: the router alone (`http::router`), on
//! an `AppState` built here, so a test can set the service's limits and
//! close the store.

mod auth;
mod conversations;
mod devices;
mod friendships;
mod health_probe;
mod messages;
mod provision;
mod router;
mod session;

use std::sync::Arc;

use confab::auth::jwt::JwtKeys;
use confab::config::Config;
use confab::core::service::{Limits, Service};
use confab::fanout::Bus;
use confab::state::AppState;
use confab::store::DynStore;
use confab::store::sqlite::SqliteStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::fixtures;
use crate::helpers::http::{Reply, spawn_http};
use crate::helpers::now_secs;

const SECRET: &[u8] = b"http-api-test-secret-that-is-long-enough";

struct Api {
    base: String,
    client: reqwest::Client,
    state: AppState,
    sqlite: Arc<SqliteStore>,
}

/// The API on the default configuration and limits.
async fn spawn_api() -> Api {
    spawn_api_with(|_| {}, Limits::default()).await
}

/// The API on the defaults as `adjust` changes them, with the service on
/// `limits`.
async fn spawn_api_with(adjust: impl FnOnce(&mut Config), limits: Limits) -> Api {
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
        drain: Arc::default(),
        census: Default::default(),
        sessions: Arc::default(),
        node: confab::state::Node::new("api", None),
    };
    let base = spawn_http(confab::http::router(state.clone())).await;
    Api {
        base,
        client: reqwest::Client::new(),
        state,
        sqlite,
    }
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

/// A token of `alice` that expired an hour ago.
fn expired_token() -> String {
    signed(json!({"sub": "alice", "exp": now_secs() - 3600}), SECRET)
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
        ("expired token", Some(expired_token())),
    ]
}

/// The `seq` of each message of a history page.
fn seqs_of(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .map(|ms| ms.iter().filter_map(|m| m["seq"].as_i64()).collect())
        .unwrap_or_default()
}

impl Api {
    /// A token of `user` named "`user` name", valid for an hour.
    fn token_for(&self, user: &str) -> String {
        fixtures::token_for(&self.state.keys, user)
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
        Reply::of(req).await
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
        Reply::of(req).await
    }

    /// Creates a conversation as `creator`; returns its JSON.
    async fn conversation(&self, creator: &str, kind: &str, others: &[&str]) -> Value {
        let r = self
            .post(
                "/api/conversations",
                Some(&self.token_for(creator)),
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
                Some(&self.token_for(sender)),
                json!({"text": text}),
            )
            .await;
        r.assert_status(201).clone()
    }

    async fn history(&self, user: &str, conversation: &Value, query: &str) -> Reply {
        self.get(
            &format!("/api/conversations/{}/messages{query}", conversation["id"]),
            Some(&self.token_for(user)),
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
