//! What every listener shares: the core service, the token keys, the config,
//! the upload pipeline, the drain of a stopping node and, on a node of a
//! cluster, its Redis side.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::core::Service;
use crate::drain::Drain;
use crate::fanout::cluster::Cluster;
use crate::media::Media;
use crate::telemetry::census::Census;

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    /// The token keys; on a listener, reading tokens by its dialect's
    /// claims (`JwtKeys::for_dialect`).
    pub keys: Arc<JwtKeys>,
    pub config: Arc<Config>,
    /// The upload pipeline, shared by the HTTP routes and the sockets.
    pub media: Arc<Media>,
    /// Set on a node of a cluster.
    pub cluster: Option<Arc<Cluster>>,
    /// Whether the node is stopping, and what it must finish first.
    pub drain: Arc<Drain>,
    /// The sockets open, counted for the metrics.
    pub census: Census,
}

impl AppState {
    /// Whether the other nodes can be reached now.
    pub fn cluster_up(&self) -> bool {
        self.cluster.as_ref().is_some_and(|c| c.client().is_ok())
    }
}
