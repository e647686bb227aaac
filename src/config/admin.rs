//! The `[admin]` table: the operator's listener (Prometheus metrics at
//! `/metrics`), on an address of its own, off the public dialect ports.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, invalid};

/// Where the admin listener binds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// `host:port` of the admin listener (`127.0.0.1:9090`); empty: no
    /// admin listener, and no metrics recorded.
    pub listen: String,
}

impl AdminConfig {
    /// The admin listener's address, if it is on.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen.trim().parse().ok()
    }

    /// Checks `admin.listen`; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let listen = self.listen.trim();
        if !listen.is_empty() && listen.parse::<SocketAddr>().is_err() {
            return Err(invalid(
                "admin.listen",
                format!(
                    "{listen:?} is not an address and port (127.0.0.1:9090), or empty for none"
                ),
            ));
        }
        Ok(())
    }
}
