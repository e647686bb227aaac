//! Per-user rate limiting (GCRA: a token bucket without a timer), on this
//! node or, in a cluster, counted across nodes ([`RateCounter`]).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::UserId;
use super::ports::RateCounter;

/// Allows `per_minute` events a minute per key, with bursts up to `per_minute`.
pub struct RateLimiter {
    interval: Duration,
    burst: Duration,
    state: Mutex<HashMap<UserId, Instant>>,
    /// In a cluster; this node's own count serves while it cannot be
    /// reached.
    cluster: Option<Arc<dyn RateCounter>>,
}

impl RateLimiter {
    pub fn per_minute(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1);
        let interval = Duration::from_secs(60) / per_minute;
        RateLimiter {
            interval,
            burst: interval * (per_minute - 1),
            state: Mutex::new(HashMap::new()),
            cluster: None,
        }
    }

    /// Counts across the nodes of `cluster`.
    pub fn across(mut self, cluster: Option<Arc<dyn RateCounter>>) -> Self {
        self.cluster = cluster;
        self
    }

    /// Takes one token; on refusal returns how long to wait.
    pub async fn check(&self, key: &UserId) -> Result<(), Duration> {
        if let Some(cluster) = &self.cluster {
            match cluster.check(key, self.interval, self.burst).await {
                Ok(answer) => return answer,
                Err(e) => tracing::debug!(error = %e, "rate limit counted on this node only"),
            }
        }
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &UserId, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock();
        if state.len() > 100_000 {
            state.retain(|_, tat| *tat > now);
        }
        let tat = state.get(key).copied().unwrap_or(now).max(now);
        let allowed_at = tat.checked_sub(self.burst).unwrap_or(now);
        if allowed_at > now {
            return Err(allowed_at - now);
        }
        state.insert(key.clone(), tat + self.interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_up_to_the_limit_passes_then_refills_over_time() {
        let rl = RateLimiter::per_minute(50);
        let u = UserId::parse("u").unwrap();
        let t0 = Instant::now();
        for i in 0..50 {
            assert!(rl.check_at(&u, t0).is_ok(), "send {i}");
        }
        let wait = rl.check_at(&u, t0).unwrap_err();
        assert!(wait <= Duration::from_millis(1200) && wait > Duration::ZERO);
        assert!(rl.check_at(&u, t0 + Duration::from_millis(1200)).is_ok());
        let other = UserId::parse("v").unwrap();
        assert!(rl.check_at(&other, t0).is_ok());
    }
}
