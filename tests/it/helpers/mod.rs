//! What the tests share: the real server on port 0 with a fresh database
//! ([`server`]), Rust Socket.IO clients that record what they receive
//! ([`client`]), values built for the core's commands ([`fixtures`]), HTTP
//! replies read as JSON and throwaway HTTP services ([`http`]), and the
//! PostgreSQL server of the tests ([`postgres`]).

pub mod client;
pub mod fixtures;
pub mod http;
pub mod postgres;
pub mod server;

pub use client::{
    Auth, TestClient, dozaar_client, dozaar_client_of, dozaar_client_over, joined_dozaar_client,
    socket_client,
};
pub use fixtures::{provisioned_actor, text_message, user_id, user_ids};
pub use server::{TestServer, spawn_server, spawn_server_with};

use std::time::Duration;

/// Now, in whole seconds since 1970 (the unit of JWT claims).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Polls `check` until it holds (at most 5 s).
pub async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within 5 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
