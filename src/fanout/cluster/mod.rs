//! Running as one node of several: the Redis connection every cluster-wide
//! piece shares, and the pieces themselves.
//!
//! - [`events`]: domain events published on one node reach every other node,
//!   which renders them for its own sockets (so delivery receipts and
//!   per-user views run where the socket is).
//! - [`claims`]: which nodes hold a user's sockets (presence) or a socket
//!   viewing a conversation (viewing), with node heartbeats; a node that stops
//!   beating is reaped by the others and its users go offline.
//! - [`rate`]: the per-user rate limit counted across nodes.
//! - [`logins`]: failed logins counted across nodes.
//! - [`nodes`]: the nodes' heartbeats and reports, for the operator
//!   console.
//! - [`typing`]: the typing indicators of other nodes, stopped here if
//!   their node dies.
//!
//! [`claims`], [`rate`] and [`logins`] implement the core's cluster ports
//! ([`crate::core::ports::cluster`]); [`Cluster::shared`] hands them to the
//! core.
//!
//! The Socket.IO servers use the socketioxide Redis adapter on the same Redis
//! (see `app.rs`), so a room emit made from a socket reaches every node.
//!
//! **Degraded mode.** Every piece checks the connection before it uses it and
//! falls back to this node's own state when Redis is away: the node keeps
//! serving its own sockets, `/readyz` says `degraded`, and fred reconnects by
//! itself; on reconnect the node's claims are written again and the events
//! subscription comes back. Nothing here is on the path that stores a
//! message, so a Redis outage never loses one.
//!
//! Keys (standalone Redis or Sentinel; scripts touch keys they compute, so
//! not Redis Cluster), all under `confab:`: `nodes` (a sorted set of node ids
//! by last heartbeat), `claim:<key>` (the set of nodes holding a claim),
//! `node:<id>:claims` (a node's claims, for reaping), `rate:<user>`
//! (GCRA state), `login:account:<name>` and `login:address:<ip>` (failed
//! logins, expiring with their window), `node-info` (each node's report
//! for the operator console), and the pub/sub channel `events`.

use std::sync::Arc;
use std::time::Duration;

use fred::prelude::{
    ClientLike, Config as RedisConfig, EventInterface, PubsubInterface, ReconnectPolicy,
};
use fred::types::RespVersion;
use parking_lot::Mutex;

use crate::core::ports::{Shared, SharedError};
use crate::telemetry::names;

pub mod claims;
pub mod events;
pub mod logins;
pub mod nodes;
pub mod rate;
pub mod typing;

/// Prefix of every key and channel confab uses.
pub const PREFIX: &str = "confab:";

/// How long a Redis command may take before it counts as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("not connected to Redis")]
    Disconnected,
    #[error("Redis: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("unexpected answer from Redis: {0}")]
    Answer(String),
}

impl From<ClusterError> for SharedError {
    fn from(e: ClusterError) -> Self {
        SharedError::from(Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
    }
}

/// The Redis side of a node.
pub struct Cluster {
    node: String,
    url: String,
    client: fred::clients::Client,
    ttl: Duration,
    /// The last connection error, cleared on reconnect (for `/readyz`).
    last_error: Arc<Mutex<Option<String>>>,
    /// The pub/sub connections (events, each listener's adapter).
    subscribers: Mutex<Vec<Subscriber>>,
}

/// A pub/sub connection, and whether it is subscribed to all it was (false
/// from a connection error until it subscribed again after reconnecting).
struct Subscriber {
    client: fred::clients::SubscriberClient,
    subscribed: Arc<std::sync::atomic::AtomicBool>,
}

impl Cluster {
    /// Connects to Redis at `url`; fails if it cannot be reached now (later
    /// outages are survived). `ttl`: a node silent this long is dead.
    pub async fn connect(url: &str, ttl: Duration) -> Result<Arc<Self>, ClusterError> {
        let client = builder(url)?.build()?;
        client.init().await?;
        let last_error = Arc::new(Mutex::new(None));
        {
            let last_error = last_error.clone();
            client.on_error(move |(error, _)| {
                let mut last = last_error.lock();
                if last.is_none() {
                    tracing::warn!(%error, "lost Redis: serving this node's sockets only until it is back");
                }
                metrics::gauge!(names::REDIS_UP).set(0.0);
                *last = Some(error.to_string());
                async { Ok(()) }
            });
        }
        {
            let last_error = last_error.clone();
            client.on_reconnect(move |_| {
                if last_error.lock().take().is_some() {
                    tracing::info!("Redis is back: cluster fan-out and presence resume");
                }
                metrics::gauge!(names::REDIS_UP).set(1.0);
                async { Ok(()) }
            });
        }
        metrics::gauge!(names::REDIS_UP).set(1.0);
        let node = uuid::Uuid::new_v4().simple().to_string();
        tracing::info!(node = %node, "joined the cluster through Redis");
        Ok(Arc::new(Cluster {
            node,
            url: url.to_owned(),
            client,
            ttl,
            last_error,
            subscribers: Mutex::default(),
        }))
    }

    /// What the core shares with the other nodes through this Redis: the
    /// claims behind presence and viewing (their task starts now), and the
    /// rate limit.
    pub fn shared(self: &Arc<Self>) -> Shared {
        let (claims, changes) = claims::Claims::start(self.clone());
        Shared {
            claims: Arc::new(claims),
            changes,
            rate: Arc::new(rate::ClusterRate::new(self.clone())),
            logins: Arc::new(logins::ClusterLogins::new(self.clone())),
        }
    }

    /// This node's id (random per process).
    pub fn node_id(&self) -> &str {
        &self.node
    }

    /// A node silent this long is dead.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How often this node beats: a third of the TTL, between 1 and 10 s.
    pub fn heartbeat(&self) -> Duration {
        (self.ttl / 3).clamp(Duration::from_secs(1), Duration::from_secs(10))
    }

    /// The client, if it is connected now (so a caller falls back at once
    /// instead of waiting for a command timeout while Redis is away).
    pub fn client(&self) -> Result<&fred::clients::Client, ClusterError> {
        if self.client.is_connected() {
            Ok(&self.client)
        } else {
            Err(ClusterError::Disconnected)
        }
    }

    /// A new subscriber connection with the same settings, not connected
    /// yet (`init` it); it subscribes again by itself after a reconnect, and
    /// the node is not reported healthy until it did.
    pub fn subscriber(&self) -> Result<fred::clients::SubscriberClient, ClusterError> {
        let client = builder(&self.url)?.build_subscriber_client()?;
        let subscribed = Arc::new(std::sync::atomic::AtomicBool::new(true));
        tokio::spawn(resubscribe(client.clone(), subscribed.clone()));
        self.subscribers.lock().push(Subscriber {
            client: client.clone(),
            subscribed,
        });
        Ok(client)
    }

    /// Whether every pub/sub connection is up and subscribed.
    fn subscribed(&self) -> bool {
        self.subscribers.lock().iter().all(|s| {
            s.client.is_connected() && s.subscribed.load(std::sync::atomic::Ordering::Acquire)
        })
    }

    /// `Ok` when Redis answers, else why not (for `/readyz`).
    pub async fn health(&self) -> Result<(), String> {
        let client = self.client().map_err(|e| {
            self.last_error
                .lock()
                .clone()
                .map_or_else(|| e.to_string(), |last| format!("{e}: {last}"))
        })?;
        client
            .ping::<String>(None)
            .await
            .map_err(|e| e.to_string())?;
        if self.subscribed() {
            Ok(())
        } else {
            Err("pub/sub is not subscribed again yet".into())
        }
    }

    /// Closes the connection.
    pub async fn quit(&self) {
        let _ = self.client.quit().await;
    }
}

/// Subscribes `client` again to what it was subscribed to, after each
/// reconnect. (fred's own `manage_subscriptions` sends an empty `SUBSCRIBE`
/// when only sharded channels are tracked, which Redis refuses, and stops
/// there: the adapter's sharded channels would never come back.)
async fn resubscribe(
    client: fred::clients::SubscriberClient,
    subscribed: Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering;
    use tokio::sync::broadcast::error::RecvError;
    let mut reconnects = client.reconnect_rx();
    let mut errors = client.error_rx();
    loop {
        tokio::select! {
            error = errors.recv() => match error {
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    subscribed.store(false, Ordering::Release);
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
            reconnect = reconnects.recv() => match reconnect {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
        subscribed.store(false, Ordering::Release);
        let channels: Vec<String> = client
            .tracked_channels()
            .into_iter()
            .map(|c| c.to_string())
            .collect();
        let shards: Vec<String> = client
            .tracked_shard_channels()
            .into_iter()
            .map(|c| c.to_string())
            .collect();
        let mut done = true;
        if !channels.is_empty()
            && let Err(e) = client.subscribe(channels).await
        {
            done = false;
            tracing::warn!(error = %e, "could not subscribe again after reconnecting to Redis");
        }
        if !shards.is_empty()
            && let Err(e) = client.ssubscribe(shards).await
        {
            done = false;
            tracing::warn!(error = %e, "could not subscribe again after reconnecting to Redis");
        }
        subscribed.store(done, Ordering::Release);
    }
}

/// The client settings: RESP3 (the adapter needs it), reconnect forever
/// every half second, bounded command and connect times.
fn builder(url: &str) -> Result<fred::prelude::Builder, ClusterError> {
    let mut config = RedisConfig::from_url(url)?;
    config.version = RespVersion::RESP3;
    let mut builder = fred::prelude::Builder::from_config(config);
    builder
        .set_policy(ReconnectPolicy::new_constant(0, 500))
        .with_connection_config(|c| {
            c.connection_timeout = COMMAND_TIMEOUT;
            c.internal_command_timeout = COMMAND_TIMEOUT;
            c.max_command_attempts = 1;
            c.unresponsive.max_timeout = Some(Duration::from_secs(5));
            c.unresponsive.interval = Duration::from_secs(1);
        })
        .with_performance_config(|p| {
            p.default_command_timeout = COMMAND_TIMEOUT;
            // Pub/sub messages wait here for their reader; a small buffer
            // would drop them under load.
            p.broadcast_channel_capacity = 16_384;
        });
    Ok(builder)
}
