//! Liveness and readiness probes.
//!
//! - `GET /healthz`: 200 whenever the process answers (liveness).
//! - `GET /readyz`: 200 when the store answers a ping within 2 s, else 503
//!   with the reason (readiness: take the node out of a load balancer).

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
    /// `ready` or `unavailable`.
    #[schema(example = "ready")]
    pub status: String,
    /// `ok`, or why the store is not usable.
    #[schema(example = "ok")]
    pub store: String,
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

/// Readiness: the store answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "OK", body = Readiness),
        (status = 503, description = "The store does not answer", body = Readiness),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, axum::Json<Readiness>) {
    let store = state.service.store().clone();
    let outcome = tokio::time::timeout(READY_TIMEOUT, store.ping()).await;
    let problem = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("no answer within {} s", READY_TIMEOUT.as_secs())),
    };
    match problem {
        None => (
            StatusCode::OK,
            axum::Json(Readiness {
                status: "ready".into(),
                store: "ok".into(),
            }),
        ),
        Some(reason) => {
            tracing::warn!(%reason, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(Readiness {
                    status: "unavailable".into(),
                    store: reason,
                }),
            )
        }
    }
}
