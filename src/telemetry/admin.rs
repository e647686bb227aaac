//! The admin listener: `/metrics` in the Prometheus text format, on its own
//! address (`admin.listen`), never on the public dialect ports.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Run before each scrape: sets the gauges that are counted rather than
/// kept (the connections open now).
pub type BeforeScrape = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    before: BeforeScrape,
}

/// The admin router: `GET /metrics`.
pub fn router(handle: PrometheusHandle, before: BeforeScrape) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(Scrape { handle, before })
}

async fn metrics(State(scrape): State<Scrape>) -> impl IntoResponse {
    (scrape.before)();
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
}

/// Binds `addr` and serves [`router`] there until the process ends; returns
/// the address bound (a port 0 is chosen by the system).
pub async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    before: BeforeScrape,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = router(handle, before);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the admin listener failed");
        }
    });
    Ok((local, task))
}
