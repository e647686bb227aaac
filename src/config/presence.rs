//! The `[presence]` table: who hears of a user's presence, and the grace
//! before a user whose last socket closed is offline.

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, invalid};
pub use crate::core::presence::Visibility;

/// Who hears a user come online and go offline, and how soon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PresenceConfig {
    /// `everyone`: every user with a socket hears of every user, and may
    /// ask for anyone's status (the seeds' servers). `contacts`: only users
    /// who share a conversation or an accepted friendship.
    pub visible_to: Visibility,
    /// Milliseconds a user whose last socket closed stays online before
    /// going offline; a socket back within it (a page reload) cancels it.
    pub offline_grace_ms: u64,
}

/// Longest `presence.offline_grace_ms`: a minute.
pub const MAX_OFFLINE_GRACE_MS: u64 = 60_000;

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig {
            visible_to: Visibility::Everyone,
            offline_grace_ms: 2_000,
        }
    }
}

impl PresenceConfig {
    /// Checks the `presence.*` keys; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.offline_grace_ms > MAX_OFFLINE_GRACE_MS {
            return Err(invalid(
                "presence.offline_grace_ms",
                format!("must be at most {MAX_OFFLINE_GRACE_MS} (a minute)"),
            ));
        }
        Ok(())
    }
}
