//! The `[auth]` table: how tokens are verified and issued.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::duration::DurationStr;
use super::error::{ConfigError, invalid, require_not_blank, require_positive};

/// Upper bound of `auth.leeway_secs`.
pub const MAX_LEEWAY_SECS: u64 = 86_400;

/// Token verification and issuing.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HS256 secret given inline (prefer `jwt_secret_file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<String>,
    /// File holding the HS256 secret; None → `<data_dir>/jwt-secret`, generated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_secret_file: Option<PathBuf>,
    /// PEM public keys (RSA → RS256, EC P-256 → ES256) of other issuers.
    pub public_key_files: Vec<PathBuf>,
    /// Required `iss` when set (and put in issued tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Required `aud` when set (and put in issued tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Lifetime of tokens confab issues (register/login).
    pub token_ttl: DurationStr,
    /// Clock skew allowed on `exp`/`nbf`, seconds.
    pub leeway_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            jwt_secret: None,
            jwt_secret_file: None,
            public_key_files: Vec::new(),
            issuer: None,
            audience: None,
            token_ttl: DurationStr::from_secs(7 * 86_400),
            leeway_secs: 30,
        }
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("jwt_secret_file", &self.jwt_secret_file)
            .field("public_key_files", &self.public_key_files)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("token_ttl", &self.token_ttl)
            .field("leeway_secs", &self.leeway_secs)
            .finish()
    }
}

impl AuthConfig {
    /// Checks the `auth.*` keys; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_not_blank(&[
            ("auth.jwt_secret", &self.jwt_secret),
            ("auth.issuer", &self.issuer),
            ("auth.audience", &self.audience),
        ])?;
        require_positive(&[("auth.token_ttl", self.token_ttl.as_secs())])?;
        if self.leeway_secs > MAX_LEEWAY_SECS {
            return Err(invalid(
                "auth.leeway_secs",
                format!("must be at most {MAX_LEEWAY_SECS}"),
            ));
        }
        Ok(())
    }
}
