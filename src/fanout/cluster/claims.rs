//! Claims on Redis, the core's [`ClaimStore`]: what this node holds that the
//! cluster must know of — "a socket of user U is here" (presence), "a
//! socket here views conversation C" (viewing). A claim key is held
//! cluster-wide while any live node claims it.
//!
//! One task per node applies claims and releases in the order they were
//! made (so a quick close-then-open of a user's sockets cannot reach Redis
//! reversed), and beats: it refreshes the node's entry in `confab:nodes`,
//! reaps nodes that stopped beating (one reaper wins each dead node: its
//! `ZREM`), and writes all of its own claims again after Redis lost them
//! (a restart) or this node could not reach it (a failed write). Keys that
//! became held or free by reaping or rewriting, rather than by a claim made
//! here, are reported as [`Change`]s (a user the reaper took offline, say).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use fred::prelude::{LuaInterface, SetsInterface};
use tokio::sync::{mpsc, oneshot};

use super::{Cluster, ClusterError, PREFIX};
pub use crate::core::ports::Change;
use crate::core::ports::{ClaimStore, Holders, SharedResult};

/// Adds this node to a key's holders; answers how many nodes hold it.
const CLAIM: &str = r"
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return redis.call('SCARD', KEYS[1])";

/// Takes this node off a key's holders; answers how many nodes still hold it.
const RELEASE: &str = r"
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return redis.call('SCARD', KEYS[1])";

/// Records this node's heartbeat at Redis's clock; answers whether the node
/// was missing (first beat, Redis restarted, or reaped) and the nodes whose
/// last beat is older than the TTL.
const HEARTBEAT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {tostring(redis.call('ZADD', KEYS[1], now, ARGV[1]))}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))) do
  table.insert(out, node)
end
return out";

/// Takes a dead node's claims (and its report, [`super::nodes`]) away, if
/// this caller is the first to reap it; answers the keys no node holds any
/// more.
const REAP: &str = r"
redis.call('HDEL', ARGV[2] .. 'node-info', ARGV[1])
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return {} end
local index = ARGV[2] .. 'node:' .. ARGV[1] .. ':claims'
local vacated = {}
for _, key in ipairs(redis.call('SMEMBERS', index)) do
  local full = ARGV[2] .. 'claim:' .. key
  redis.call('SREM', full, ARGV[1])
  if redis.call('SCARD', full) == 0 then table.insert(vacated, key) end
end
redis.call('DEL', index)
return vacated";

/// Whether each key is held by some node.
const HELD: &str = r"
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('EXISTS', key) end
return out";

type Reply = oneshot::Sender<Result<u64, ClusterError>>;

enum Op {
    Claim(String, Option<Reply>),
    Release(String, Option<Reply>),
    /// The node is stopping: take all of its claims away now.
    Leave(oneshot::Sender<Result<Vec<String>, ClusterError>>),
}

/// The answer to a claim or release: how many nodes hold the key after it.
pub struct Pending(oneshot::Receiver<Result<u64, ClusterError>>);

impl Pending {
    pub async fn holders(self) -> Result<u64, ClusterError> {
        self.0.await.unwrap_or(Err(ClusterError::Disconnected))
    }
}

/// This node's claims; cheap to clone.
#[derive(Clone)]
pub struct Claims {
    cluster: Arc<Cluster>,
    ops: mpsc::UnboundedSender<Op>,
}

impl Claims {
    /// Starts the node's claims task; the receiver gets the [`Change`]s.
    pub fn start(cluster: Arc<Cluster>) -> (Claims, mpsc::UnboundedReceiver<Change>) {
        let (ops, rx) = mpsc::unbounded_channel();
        let (changes, changes_rx) = mpsc::unbounded_channel();
        tokio::spawn(Keeper::new(cluster.clone(), changes).run(rx));
        (Claims { cluster, ops }, changes_rx)
    }

    /// Claims `key` for this node. Call it in the order the claims happen
    /// (under the lock that decided it), await the answer after.
    pub fn claim(&self, key: String) -> Pending {
        let (tx, rx) = oneshot::channel();
        let _ = self.ops.send(Op::Claim(key, Some(tx)));
        Pending(rx)
    }

    /// Claims `key` without waiting for Redis.
    pub fn claim_quietly(&self, key: String) {
        let _ = self.ops.send(Op::Claim(key, None));
    }

    pub fn release(&self, key: String) -> Pending {
        let (tx, rx) = oneshot::channel();
        let _ = self.ops.send(Op::Release(key, Some(tx)));
        Pending(rx)
    }

    pub fn release_quietly(&self, key: String) {
        let _ = self.ops.send(Op::Release(key, None));
    }

    /// Takes all of this node's claims away (it is stopping), as the reaper
    /// of a dead node would; answers the keys no node holds any more.
    pub async fn leave(&self) -> Result<Vec<String>, ClusterError> {
        let (tx, rx) = oneshot::channel();
        let _ = self.ops.send(Op::Leave(tx));
        rx.await.unwrap_or(Err(ClusterError::Disconnected))
    }

    /// Whether some live node (this one included) holds each key.
    pub async fn held(&self, keys: &[String]) -> Result<Vec<bool>, ClusterError> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let full: Vec<String> = keys.iter().map(|k| claim_key(k)).collect();
        let answer: Vec<i64> = self
            .cluster
            .client()?
            .eval(HELD, full, Vec::<String>::new())
            .await?;
        if answer.len() != keys.len() {
            return Err(ClusterError::Answer(format!(
                "{} answers for {} keys",
                answer.len(),
                keys.len()
            )));
        }
        Ok(answer.into_iter().map(|n| n > 0).collect())
    }
}

#[async_trait]
impl ClaimStore for Claims {
    fn claim(&self, key: String) -> Holders {
        let pending = Claims::claim(self, key);
        Box::pin(async move { Ok(pending.holders().await?) })
    }

    fn claim_quietly(&self, key: String) {
        Claims::claim_quietly(self, key);
    }

    fn release(&self, key: String) -> Holders {
        let pending = Claims::release(self, key);
        Box::pin(async move { Ok(pending.holders().await?) })
    }

    fn release_quietly(&self, key: String) {
        Claims::release_quietly(self, key);
    }

    async fn held(&self, keys: &[String]) -> SharedResult<Vec<bool>> {
        Ok(Claims::held(self, keys).await?)
    }

    async fn leave(&self) -> SharedResult<Vec<String>> {
        Ok(Claims::leave(self).await?)
    }
}

fn claim_key(key: &str) -> String {
    format!("{PREFIX}claim:{key}")
}

fn nodes_key() -> String {
    format!("{PREFIX}nodes")
}

/// The task that owns this node's claims.
struct Keeper {
    cluster: Arc<Cluster>,
    changes: mpsc::UnboundedSender<Change>,
    /// What this node claims now, whether or not Redis knows it yet.
    held: HashSet<String>,
    /// Redis may not hold what `held` says (a write failed).
    dirty: bool,
    index: String,
}

impl Keeper {
    fn new(cluster: Arc<Cluster>, changes: mpsc::UnboundedSender<Change>) -> Self {
        let index = format!("{PREFIX}node:{}:claims", cluster.node_id());
        Keeper {
            cluster,
            changes,
            held: HashSet::new(),
            dirty: false,
            index,
        }
    }

    async fn run(mut self, mut ops: mpsc::UnboundedReceiver<Op>) {
        let mut beat = tokio::time::interval(self.cluster.heartbeat());
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                op = ops.recv() => match op {
                    Some(op) => self.apply(op).await,
                    None => return,
                },
                _ = beat.tick() => {
                    if let Err(e) = self.beat().await {
                        self.dirty = true;
                        tracing::debug!(error = %e, "heartbeat failed");
                    }
                }
            }
        }
    }

    async fn apply(&mut self, op: Op) {
        let (script, key, reply) = match op {
            Op::Leave(reply) => {
                self.held.clear();
                let _ = reply.send(self.reap(self.cluster.node_id()).await);
                return;
            }
            Op::Claim(key, reply) => {
                self.held.insert(key.clone());
                (CLAIM, key, reply)
            }
            Op::Release(key, reply) => {
                self.held.remove(&key);
                (RELEASE, key, reply)
            }
        };
        let result = self.write(script, &key).await;
        if result.is_err() {
            self.dirty = true;
        }
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }

    async fn write(&self, script: &str, key: &str) -> Result<u64, ClusterError> {
        let client = self.cluster.client()?;
        let holders: u64 = client
            .eval(
                script,
                vec![claim_key(key), self.index.clone()],
                vec![self.cluster.node_id().to_owned(), key.to_owned()],
            )
            .await?;
        Ok(holders)
    }

    async fn beat(&mut self) -> Result<(), ClusterError> {
        let cluster = self.cluster.clone();
        let client = cluster.client()?;
        let ttl_ms = cluster.ttl().as_millis().to_string();
        let answer: Vec<String> = client
            .eval(
                HEARTBEAT,
                vec![nodes_key()],
                vec![self.cluster.node_id().to_owned(), ttl_ms],
            )
            .await?;
        let Some((added, dead)) = answer.split_first() else {
            return Err(ClusterError::Answer("empty heartbeat answer".into()));
        };
        if added == "1" || self.dirty {
            self.rewrite().await?;
            self.dirty = false;
        }
        for node in dead.iter().filter(|n| n.as_str() != cluster.node_id()) {
            let vacated = self.reap(node).await?;
            if !vacated.is_empty() {
                tracing::info!(node = %node, keys = vacated.len(), "reaped a node that stopped beating");
            }
            for key in vacated {
                let _ = self.changes.send(Change::Vacated(key));
            }
        }
        Ok(())
    }

    /// Takes `node`'s claims away, if no other node did first.
    async fn reap(&self, node: &str) -> Result<Vec<String>, ClusterError> {
        let vacated: Vec<String> = self
            .cluster
            .client()?
            .eval(
                REAP,
                vec![nodes_key()],
                vec![node.to_owned(), PREFIX.to_owned()],
            )
            .await?;
        Ok(vacated)
    }

    /// Makes Redis hold exactly this node's claims.
    async fn rewrite(&mut self) -> Result<(), ClusterError> {
        let client = self.cluster.client()?;
        let known: HashSet<String> = client.smembers(self.index.as_str()).await?;
        let missing: Vec<String> = self.held.difference(&known).cloned().collect();
        let stale: Vec<String> = known.difference(&self.held).cloned().collect();
        for key in missing {
            if self.write(CLAIM, &key).await? == 1 {
                let _ = self.changes.send(Change::Claimed(key));
            }
        }
        for key in stale {
            if self.write(RELEASE, &key).await? == 0 {
                let _ = self.changes.send(Change::Vacated(key));
            }
        }
        Ok(())
    }
}
