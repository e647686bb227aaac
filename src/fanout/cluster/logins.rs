//! Login attempts counted across nodes, the core's [`FailureCounter`]: one
//! counter per key in Redis, expiring a window after its first attempt.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::{KeysInterface, LuaInterface};

use super::{Cluster, ClusterError, PREFIX};
use crate::core::ports::{FailureCounter, SharedResult};

/// KEYS[1]: the key; ARGV[1]: the window in milliseconds. Answers {count,
/// milliseconds left of the window}.
const ATTEMPT: &str = r"
local n = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {n, left}";

/// KEYS[1]: the key. Takes one attempt back, never below zero.
const UNDO: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 0";

pub struct ClusterLogins {
    cluster: Arc<Cluster>,
}

impl ClusterLogins {
    pub fn new(cluster: Arc<Cluster>) -> Self {
        ClusterLogins { cluster }
    }

    fn key(key: &str) -> String {
        format!("{PREFIX}login:{key}")
    }
}

#[async_trait]
impl FailureCounter for ClusterLogins {
    async fn attempt(&self, key: &str, window: Duration) -> SharedResult<(u32, Duration)> {
        let (count, left): (i64, i64) = self
            .cluster
            .client()?
            .eval(
                ATTEMPT,
                vec![Self::key(key)],
                vec![window.as_millis().max(1).to_string()],
            )
            .await
            .map_err(ClusterError::from)?;
        Ok((
            u32::try_from(count).unwrap_or(u32::MAX),
            Duration::from_millis(u64::try_from(left).unwrap_or(0)),
        ))
    }

    async fn undo(&self, key: &str) -> SharedResult<()> {
        let _: i64 = self
            .cluster
            .client()?
            .eval(UNDO, vec![Self::key(key)], Vec::<String>::new())
            .await
            .map_err(ClusterError::from)?;
        Ok(())
    }

    async fn clear(&self, key: &str) -> SharedResult<()> {
        let _: i64 = self
            .cluster
            .client()?
            .del(Self::key(key))
            .await
            .map_err(ClusterError::from)?;
        Ok(())
    }
}
