//! Liveness and readiness probes.
//!
//! - `GET /healthz`: 200 whenever the process answers (liveness).
//! - `GET /readyz`: 200 when the store answers a ping within 2 s, else 503
//!   with the reason (readiness: take the node out of a load balancer). On a
//!   node of a cluster it says whether Redis answers too: without it the node
//!   still serves its own sockets, so it stays ready, as `degraded`. A
//!   stopping node answers 503 `draining` from the moment it is told to
//!   stop, so that a load balancer sends nobody new.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// How long `/readyz` waits for the store.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, `degraded` (Redis away: this node's sockets only),
    /// `unavailable` (the store does not answer) or `draining` (the node is
    /// stopping).
    #[schema(example = "ready")]
    pub status: String,
    /// `ok`, or why the store is not usable.
    #[schema(example = "ok")]
    pub store: String,
    /// `ok`, `off` (a single node), or why Redis is not usable.
    #[schema(example = "off")]
    pub redis: String,
}

/// Liveness: the process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "OK", body = Health))
)]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the store answers (and Redis, on a node of a cluster).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready, or degraded (Redis away)", body = Readiness),
        (status = 503, description = "The store does not answer, or the node is stopping", body = Readiness),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, axum::Json<Readiness>) {
    if state.drain.is_draining() {
        // At once: a stopping node checks nothing before saying so.
        let unchecked = || "not checked: the node is stopping".to_owned();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(Readiness {
                status: "draining".into(),
                store: unchecked(),
                redis: unchecked(),
            }),
        );
    }
    let store = state.service.store().clone();
    let cluster = state.cluster.clone();
    let (store, redis) = tokio::join!(within(store.ping()), async move {
        match &cluster {
            Some(c) => within(c.health()).await.map(|()| "ok".to_owned()),
            None => Ok("off".to_owned()),
        }
    });
    let (status, code) = match (&store, &redis) {
        (Err(_), _) => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
        (Ok(()), Err(_)) => ("degraded", StatusCode::OK),
        (Ok(()), Ok(_)) => ("ready", StatusCode::OK),
    };
    if let Err(reason) = &store {
        tracing::warn!(%reason, "readiness check failed");
    }
    (
        code,
        axum::Json(Readiness {
            status: status.into(),
            store: store.map_or_else(|e| e, |()| "ok".into()),
            redis: redis.unwrap_or_else(|e| e),
        }),
    )
}

/// The outcome of a check, or why it failed or took too long.
async fn within<E: std::fmt::Display>(
    check: impl std::future::Future<Output = Result<(), E>>,
) -> Result<(), String> {
    match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", READY_TIMEOUT.as_secs())),
    }
}
