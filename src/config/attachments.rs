//! The `[attachments]` table: files an app keeps on its old servers and
//! CDNs, which messages may attach without their having been uploaded to
//! confab (matched as [`crate::core::allowlist`] says).

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, invalid};
use crate::core::allowlist::Allowlist;

/// Allowlists of attachments from elsewhere. Both empty: any http(s) URL
/// and any server path outside `/uploads/` may be attached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentsConfig {
    /// http(s) URL prefixes (`https://cdn.example.com/`); set, an http(s)
    /// attachment must be under one of them.
    pub url_prefixes: Vec<String>,
    /// Server path prefixes (`/uploads/chat/`) whose files may be attached
    /// though never uploaded to confab; set, a server path outside
    /// confab's uploads must be under one of them.
    pub path_prefixes: Vec<String>,
}

impl AttachmentsConfig {
    /// The allowlist of these prefixes; the error names the key.
    pub fn allowlist(&self) -> Result<Allowlist, ConfigError> {
        Allowlist::new(&self.url_prefixes, &[])
            .map_err(|e| invalid("attachments.url_prefixes", e))?;
        Allowlist::new(&self.url_prefixes, &self.path_prefixes)
            .map_err(|e| invalid("attachments.path_prefixes", e))
    }

    /// Checks the `attachments.*` keys; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.allowlist().map(|_| ())
    }
}
