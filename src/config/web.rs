//! The `[web]` table: the browser chat client confab serves.

use serde::{Deserialize, Serialize};

/// The web client (the files of `web/`, embedded in the binary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Serve the web chat client at `/` (and the other pages of `web/` by
    /// their paths) on the Dozaar listener, whose dialect it speaks.
    pub enabled: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { enabled: true }
    }
}
