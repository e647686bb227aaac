//! Password accounts at the door: whether anyone may open one
//! ([`Registration`]), and the throttle of failed logins ([`LoginThrottle`]).
//!
//! Every login attempt counts against its login name and its client address
//! before the password is checked (so that a burst of concurrent attempts
//! cannot all slip through); one that succeeds is taken back from the
//! address and clears the account. A login name (or an address) with more
//! than `per_account` (`per_address`) attempts within `window` of its first
//! is refused until that window ends, password unchecked (so a guess learns
//! nothing). Unknown login names count like known ones. In a cluster the
//! counts are shared ([`FailureCounter`]); while the cluster cannot be
//! reached, this node counts alone.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ports::FailureCounter;

/// Whether anyone who reaches the server may open a password account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// The register routes of every dialect create accounts.
    #[default]
    Open,
    /// They are refused (403); users come from tokens (or `confab user add`).
    Closed,
}

/// How many failed logins are allowed, and over how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures of one login name within `window`; 0: no limit.
    pub per_account: u32,
    /// Failures from one client address within `window`; 0: no limit.
    pub per_address: u32,
    /// From an account's (or address's) first failure, how long its
    /// failures count.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_account: 5,
            per_address: 50,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Longest login name kept as a key (longer ones are cut).
const MAX_KEY_CHARS: usize = 128;
/// Keys kept on this node before expired ones are swept.
const SWEEP_AT: usize = 100_000;

/// Counts failed logins and says when one must wait.
pub struct LoginThrottle {
    limits: LoginLimits,
    local: Mutex<HashMap<String, Window>>,
    shared: Option<Arc<dyn FailureCounter>>,
}

/// Attempts of one key since `started`.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    attempts: u32,
}

impl LoginThrottle {
    pub fn new(limits: LoginLimits, shared: Option<Arc<dyn FailureCounter>>) -> Self {
        LoginThrottle {
            limits,
            local: Mutex::new(HashMap::new()),
            shared,
        }
    }

    /// Counts a login attempt as `login` from `from`; refused (how long to
    /// wait) when the account or the address has had its failures.
    pub async fn attempt(&self, login: &str, from: Option<IpAddr>) -> Result<(), Duration> {
        // The address first: a spray of login names from one address stops
        // there, without a count kept for each name.
        let address = from
            .filter(|_| self.limits.per_address > 0)
            .map(address_key);
        if let Some(key) = &address {
            let (count, left) = self.count(key).await;
            if count > self.limits.per_address {
                return Err(left.max(Duration::from_millis(1)));
            }
        }
        if self.limits.per_account > 0 {
            let (count, left) = self.count(&account_key(login)).await;
            if count > self.limits.per_account {
                // No password is checked: not held against the address.
                if let Some(key) = &address {
                    self.undo(key).await;
                }
                return Err(left.max(Duration::from_millis(1)));
            }
        }
        Ok(())
    }

    /// The attempt as `login` from `from` succeeded: the account's count is
    /// cleared and the attempt taken back from the address.
    pub async fn succeeded(&self, login: &str, from: Option<IpAddr>) {
        let key = account_key(login);
        if let Some(shared) = &self.shared
            && let Err(e) = shared.clear(&key).await
        {
            tracing::debug!(error = %e, "login attempts cleared on this node only");
        }
        self.local.lock().remove(&key);
        if let Some(ip) = from
            && self.limits.per_address > 0
        {
            self.undo(&address_key(ip)).await;
        }
    }

    /// Counts one attempt of `key`: the count and what is left of its window.
    async fn count(&self, key: &str) -> (u32, Duration) {
        if let Some(shared) = &self.shared {
            match shared.attempt(key, self.limits.window).await {
                Ok(count) => return count,
                Err(e) => tracing::debug!(error = %e, "login attempt counted on this node only"),
            }
        }
        self.count_locally(key, Instant::now())
    }

    async fn undo(&self, key: &str) {
        if let Some(shared) = &self.shared {
            match shared.undo(key).await {
                Ok(()) => return,
                Err(e) => tracing::debug!(error = %e, "login attempt taken back on this node only"),
            }
        }
        if let Some(w) = self.local.lock().get_mut(key) {
            w.attempts = w.attempts.saturating_sub(1);
        }
    }

    fn count_locally(&self, key: &str, now: Instant) -> (u32, Duration) {
        let window = self.limits.window;
        let mut local = self.local.lock();
        if local.len() >= SWEEP_AT {
            local.retain(|_, w| w.started + window > now);
        }
        let w = local.entry(key.to_owned()).or_insert(Window {
            started: now,
            attempts: 0,
        });
        if w.started + window <= now {
            *w = Window {
                started: now,
                attempts: 0,
            };
        }
        w.attempts = w.attempts.saturating_add(1);
        (w.attempts, w.started + window - now)
    }
}

fn address_key(ip: IpAddr) -> String {
    format!("address:{ip}")
}

/// The key of a login name: trimmed, lower case (names are unique
/// case-insensitively), at most [`MAX_KEY_CHARS`].
fn account_key(login: &str) -> String {
    let name: String = login
        .trim()
        .chars()
        .take(MAX_KEY_CHARS)
        .flat_map(char::to_lowercase)
        .collect();
    format!("account:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(per_account: u32, per_address: u32) -> LoginThrottle {
        LoginThrottle::new(
            LoginLimits {
                per_account,
                per_address,
                window: Duration::from_secs(60),
            },
            None,
        )
    }

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));

    /// `n` attempts as `login` from `from` that fail.
    async fn fail(t: &LoginThrottle, login: &str, from: Option<IpAddr>, n: usize) -> usize {
        let mut allowed = 0;
        for _ in 0..n {
            if t.attempt(login, from).await.is_ok() {
                allowed += 1;
            }
        }
        allowed
    }

    #[tokio::test]
    async fn an_account_is_refused_after_its_failures_until_the_window_ends() {
        let t = throttle(3, 0);
        assert_eq!(fail(&t, "Alice", IP, 10).await, 3);
        let wait = t
            .attempt("alice", None)
            .await
            .expect_err("locked, any case");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(t.attempt("bob", IP).await.is_ok(), "another account is not");
        let later = Instant::now() + Duration::from_secs(61);
        assert_eq!(t.count_locally("account:alice", later).0, 1, "a new window");
    }

    #[tokio::test]
    async fn a_success_clears_the_account_and_is_taken_back_from_the_address() {
        let t = throttle(3, 4);
        assert_eq!(fail(&t, "alice", IP, 2).await, 2);
        assert!(t.attempt("alice", IP).await.is_ok());
        t.succeeded("alice", IP).await;
        assert_eq!(fail(&t, "alice", IP, 2).await, 2, "two since the success");
        assert!(
            t.attempt("carol", IP).await.is_err(),
            "the address had four failures"
        );
        assert!(t.attempt("carol", None).await.is_ok());
        let other = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)));
        assert!(t.attempt("dave", other).await.is_ok());
    }

    #[tokio::test]
    async fn an_attempt_refused_for_its_address_is_not_held_against_the_account() {
        let t = throttle(2, 1);
        assert!(t.attempt("erin", IP).await.is_ok());
        for _ in 0..5 {
            assert!(t.attempt("frank", IP).await.is_err());
        }
        assert!(
            !t.local.lock().contains_key("account:frank"),
            "no count kept for a name refused at its address"
        );
        assert!(t.attempt("frank", None).await.is_ok());
        assert!(t.attempt("frank", None).await.is_ok());
        assert!(t.attempt("frank", None).await.is_err());
    }

    #[tokio::test]
    async fn an_attempt_refused_for_its_account_is_not_held_against_the_address() {
        let t = throttle(1, 3);
        assert!(t.attempt("gina", IP).await.is_ok());
        for _ in 0..5 {
            assert!(t.attempt("gina", IP).await.is_err());
        }
        assert!(t.attempt("hal", IP).await.is_ok());
        assert!(t.attempt("ivan", IP).await.is_ok());
        assert!(
            t.attempt("judy", IP).await.is_err(),
            "three failures from the address"
        );
    }

    #[tokio::test]
    async fn zero_means_no_limit() {
        let t = throttle(0, 0);
        assert_eq!(fail(&t, "alice", IP, 100).await, 100);
    }

    #[test]
    fn account_keys_are_trimmed_lower_case_and_bounded() {
        assert_eq!(account_key("  Alice "), "account:alice");
        assert_eq!(account_key(&"x".repeat(1000)).len(), "account:".len() + 128);
    }
}
