//! The per-user rate limit counted across nodes, the core's
//! [`RateCounter`]: the same GCRA as [`crate::core::rate::RateLimiter`], its
//! state in Redis at Redis's clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::LuaInterface;

use super::{Cluster, ClusterError, PREFIX};
use crate::core::UserId;
use crate::core::ports::{RateCounter, SharedResult};

/// KEYS[1]: the user's key; ARGV: interval and burst in microseconds.
/// Answers 0 (allowed) or the microseconds to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat - burst
if allowed_at > now then return allowed_at - now end
local next = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil((next - now) / 1000) + 1000)
return 0";

pub struct ClusterRate {
    cluster: Arc<Cluster>,
}

impl ClusterRate {
    pub fn new(cluster: Arc<Cluster>) -> Self {
        ClusterRate { cluster }
    }

    /// Takes one token of `user`'s bucket; `Ok(Err(wait))` when refused.
    pub async fn check(
        &self,
        user: &UserId,
        interval: Duration,
        burst: Duration,
    ) -> Result<Result<(), Duration>, ClusterError> {
        let wait: i64 = self
            .cluster
            .client()?
            .eval(
                GCRA,
                vec![format!("{PREFIX}rate:{user}")],
                vec![
                    interval.as_micros().to_string(),
                    burst.as_micros().to_string(),
                ],
            )
            .await?;
        Ok(match u64::try_from(wait) {
            Ok(0) | Err(_) => Ok(()),
            Ok(us) => Err(Duration::from_micros(us)),
        })
    }
}

#[async_trait]
impl RateCounter for ClusterRate {
    async fn check(
        &self,
        user: &UserId,
        interval: Duration,
        burst: Duration,
    ) -> SharedResult<Result<(), Duration>> {
        Ok(ClusterRate::check(self, user, interval, burst).await?)
    }
}
