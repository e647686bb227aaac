//! What every listener shares: the core service, the token keys, the config,
//! the upload pipeline, the drain of a stopping node and, on a node of a
//! cluster, its Redis side.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::core::Millis;
use crate::core::Service;
use crate::drain::Drain;
use crate::fanout::cluster::Cluster;
use crate::media::Media;
use crate::sessions::Sessions;
use crate::telemetry::census::Census;
use crate::telemetry::figures::Meter;

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
    /// The sockets of this node by user, for closing those whose token an
    /// operator's decision refuses now.
    pub sessions: Arc<Sessions>,
    /// This node, as the operator console shows it.
    pub node: Node,
}

/// This node as the operator console shows it.
#[derive(Clone)]
pub struct Node {
    /// Its id in the cluster, or a random one per process without one.
    pub id: Arc<str>,
    /// When it started, milliseconds since the Unix epoch.
    pub started_at: Millis,
    /// The metrics recorder's counters, when it is installed (with
    /// `admin.listen`, `admin.users` or `admin.token` set).
    pub meter: Option<Arc<Meter>>,
}

impl Node {
    /// A node that started now.
    pub fn new(id: &str, meter: Option<Arc<Meter>>) -> Self {
        Node {
            id: id.into(),
            started_at: crate::core::now_millis(),
            meter,
        }
    }
}

impl AppState {
    /// Whether the other nodes can be reached now.
    pub fn cluster_up(&self) -> bool {
        self.cluster.as_ref().is_some_and(|c| c.client().is_ok())
    }
}
