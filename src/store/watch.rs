//! Watching the store: a task pings it every few seconds and logs once when
//! it stops answering (a `warn` line) and once when it answers again (an
//! `info` line), so an outage of the database shows in the log without a
//! line per request.

use std::time::Duration;

use tokio::sync::watch;

use super::DynStore;

/// How often the store is pinged.
pub const EVERY: Duration = Duration::from_secs(5);
/// How long a ping may take before the store counts as lost.
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// What a ping's outcome changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Lost(String),
    Back,
}

/// Whether the store answered at the last ping.
#[derive(Debug, Default)]
pub struct Liveness {
    lost: bool,
}

impl Liveness {
    /// Records a ping's outcome; answers the change it makes, if any.
    pub fn observe(&mut self, outcome: Result<(), String>) -> Option<Change> {
        match (self.lost, outcome) {
            (false, Err(e)) => {
                self.lost = true;
                Some(Change::Lost(e))
            }
            (true, Ok(())) => {
                self.lost = false;
                Some(Change::Back)
            }
            _ => None,
        }
    }
}

/// Pings `store` (a `kind` such as "postgresql", for the log) every
/// [`EVERY`] until `stop` turns true.
pub fn spawn(store: DynStore, kind: &'static str, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut liveness = Liveness::default();
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let outcome = match tokio::time::timeout(PING_TIMEOUT, store.ping()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {} s", PING_TIMEOUT.as_secs())),
            };
            match liveness.observe(outcome) {
                Some(Change::Lost(error)) => {
                    tracing::warn!(store = kind, %error, "lost the database: requests that need it fail until it is back");
                }
                Some(Change::Back) => tracing::info!(store = kind, "the database is back"),
                None => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_change_of_state_is_reported() {
        let mut l = Liveness::default();
        assert_eq!(l.observe(Ok(())), None);
        assert_eq!(
            l.observe(Err("down".into())),
            Some(Change::Lost("down".into()))
        );
        assert_eq!(l.observe(Err("still down".into())), None);
        assert_eq!(l.observe(Ok(())), Some(Change::Back));
        assert_eq!(l.observe(Ok(())), None);
    }
}
