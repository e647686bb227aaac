//! The `[admin]` table: the operator's listener (Prometheus metrics at
//! `/metrics`), on an address of its own, off the public dialect ports; and
//! who may operate confab over HTTP: the users of the operator console and
//! the app backend's service credential.

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, invalid};
use crate::core::UserId;

/// Shortest `admin.token` accepted: a service credential is a secret, not a
/// password a person types.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

/// Where the admin listener binds, and who is an operator.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// `host:port` of the admin listener (`127.0.0.1:9090`); empty: no
    /// admin listener, and no metrics recorded unless the console can be
    /// used ([`AdminConfig::console`]).
    pub listen: String,
    /// User ids that are operators: signed in with their own token (or
    /// session), they may use the operator console and the admin API.
    pub users: Vec<String>,
    /// The service credential of the app's backend (provisioning, import):
    /// sent as `Authorization: Bearer <token>`. Empty: none. At least 32
    /// characters.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token: String,
}

impl fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminConfig")
            .field("listen", &self.listen)
            .field("users", &self.users)
            .field("token", &(!self.token.is_empty()).then_some("[redacted]"))
            .finish()
    }
}

impl AdminConfig {
    /// The admin listener's address, if it is on.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen.trim().parse().ok()
    }

    /// Whether `user` is one of `admin.users`.
    pub fn is_operator(&self, user: &UserId) -> bool {
        self.users.iter().any(|u| u == user.as_str())
    }

    /// The service credential, if one is set.
    pub fn service_token(&self) -> Option<&str> {
        Some(self.token.as_str()).filter(|t| !t.is_empty())
    }

    /// Whether the operator console and the admin API can be used: some
    /// operator (`admin.users`) or the service credential is set. The
    /// metrics recorder is installed then, the console reading its figures.
    pub fn console(&self) -> bool {
        !self.users.is_empty() || self.service_token().is_some()
    }

    /// Checks `admin.listen`, `admin.users` and `admin.token`; the error
    /// names the key.
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
        if let Some(bad) = self.users.iter().find(|u| !UserId::is_valid(u)) {
            return Err(invalid(
                "admin.users",
                format!("{bad:?} is not a user id (1 to 128 of A-Z a-z 0-9 . _ : @ -)"),
            ));
        }
        let chars = self.token.chars().count();
        if chars > 0 && chars < MIN_ADMIN_TOKEN_CHARS {
            return Err(invalid(
                "admin.token",
                format!(
                    "is {chars} characters; a service credential needs at least {MIN_ADMIN_TOKEN_CHARS} (e.g. `openssl rand -hex 32`)"
                ),
            ));
        }
        Ok(())
    }
}
