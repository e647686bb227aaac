//! A fake webhook receiver on port 0: it checks each request's signature,
//! records the request, and fails on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde_json::Value;
use sha2::Sha256;

pub const WEBHOOK_SECRET: &str = "webhook-test-secret";

/// The fake's route: `/hook`.
pub fn router(fake: Arc<FakeHook>) -> Router {
    Router::new().route("/hook", post(hook)).with_state(fake)
}

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct HookRequest {
    pub signature_ok: bool,
    pub timestamp: u64,
    pub body: Value,
}

#[derive(Default)]
pub struct FakeHook {
    pub requests: Mutex<Vec<HookRequest>>,
    /// This many next requests are answered 500.
    pub fail_next: AtomicUsize,
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
    fake.requests.lock().push(HookRequest {
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
