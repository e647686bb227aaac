//! The cluster ports: what a node shares with the other nodes of its
//! cluster. A node works alone when there is no cluster or it cannot be
//! reached: every caller falls back to this node's own state on a
//! [`SharedError`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::core::UserId;

/// The shared state could not be read or written (the cluster's server is
/// away, or gave an answer that makes no sense).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SharedError(#[from] Box<dyn std::error::Error + Send + Sync>);

pub type SharedResult<T> = Result<T, SharedError>;

/// The answer to a claim or release: how many nodes hold the key after it.
pub type Holders = BoxFuture<'static, SharedResult<u64>>;

/// Claims: what this node holds that the cluster must know of, such as "a
/// socket of user U is here" (presence) or "a socket here views
/// conversation C" (viewing). A key is held cluster-wide while any live
/// node claims it.
#[async_trait]
pub trait ClaimStore: Send + Sync + 'static {
    /// Claims `key` for this node. Call it in the order the claims happen
    /// (under the lock that decided it), await the answer after.
    fn claim(&self, key: String) -> Holders;
    /// Claims `key` without waiting for the answer.
    fn claim_quietly(&self, key: String);
    /// Releases this node's claim of `key`, in order with its claims.
    fn release(&self, key: String) -> Holders;
    /// Releases `key` without waiting for the answer.
    fn release_quietly(&self, key: String);
    /// Whether some live node holds each of `keys`.
    async fn held(&self, keys: &[String]) -> SharedResult<Vec<bool>>;
    /// Takes all of this node's claims away (it is stopping); answers the
    /// keys no node holds any more.
    async fn leave(&self) -> SharedResult<Vec<String>>;
}

/// A key that became held or free other than by a claim or release made on
/// this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Held again (this node's claims were written back after an outage).
    Claimed(String),
    /// No live node holds it (its holders died, or this node's release was
    /// written late).
    Vacated(String),
}

/// The per-user rate limit counted across nodes (GCRA: one token every
/// `interval`, bursts up to `burst`).
#[async_trait]
pub trait RateCounter: Send + Sync + 'static {
    /// Takes one token of `user`'s bucket; `Ok(Err(wait))` when refused.
    async fn check(
        &self,
        user: &UserId,
        interval: Duration,
        burst: Duration,
    ) -> SharedResult<Result<(), Duration>>;
}

/// Login attempts counted across nodes: per key, a count and a window that
/// starts at the first attempt.
#[async_trait]
pub trait FailureCounter: Send + Sync + 'static {
    /// Counts one attempt under `key` (the first starts a window of
    /// `window`); answers the count and what is left of the window.
    async fn attempt(&self, key: &str, window: Duration) -> SharedResult<(u32, Duration)>;
    /// Takes one attempt back (it did not fail).
    async fn undo(&self, key: &str) -> SharedResult<()>;
    /// Forgets the attempts of `key`.
    async fn clear(&self, key: &str) -> SharedResult<()>;
}

/// What a node shares with the other nodes of its cluster.
pub struct Shared {
    pub claims: Arc<dyn ClaimStore>,
    /// The [`Change`]s of `claims`.
    pub changes: mpsc::UnboundedReceiver<Change>,
    pub rate: Arc<dyn RateCounter>,
    pub logins: Arc<dyn FailureCounter>,
}
