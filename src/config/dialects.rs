//! The `[dialects.*]` tables: one listener per dialect, and its
//! `[dialects.<name>.auth]` table, where the claims of `[auth]` can be
//! mapped otherwise for that dialect's app.

use serde::{Deserialize, Serialize};

use super::auth::check_claims;
use super::error::{ConfigError, invalid};

/// One dialect listener.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialectConfig {
    pub enabled: bool,
    /// TCP port; 0 picks a free port (tests).
    pub port: u16,
    /// How tokens are read on this listener (its sockets and its REST
    /// calls), where it differs from `[auth]`.
    pub auth: DialectAuthConfig,
}

impl DialectConfig {
    pub const fn new(enabled: bool, port: u16) -> Self {
        DialectConfig {
            enabled,
            port,
            auth: DialectAuthConfig::INHERIT,
        }
    }
}

/// The keys of `[auth]` a dialect may set otherwise; a key left out is
/// `[auth]`'s.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialectAuthConfig {
    /// `auth.user_id_claims` for this dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id_claims: Option<Vec<String>>,
    /// `auth.name_claims` for this dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_claims: Option<Vec<String>>,
    /// `auth.email_claims` for this dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_claims: Option<Vec<String>>,
    /// `auth.avatar_claims` for this dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_claims: Option<Vec<String>>,
    /// `auth.require_exp` for this dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_exp: Option<bool>,
}

impl DialectAuthConfig {
    /// Every key left to `[auth]`.
    pub const INHERIT: DialectAuthConfig = DialectAuthConfig {
        user_id_claims: None,
        name_claims: None,
        email_claims: None,
        avatar_claims: None,
        require_exp: None,
    };

    /// Checks the claim lists that are set, as `[auth]`'s; the error names
    /// the key.
    fn validate(&self, dialect: &str) -> Result<(), ConfigError> {
        let lists = [
            ("user_id_claims", &self.user_id_claims, true),
            ("name_claims", &self.name_claims, false),
            ("email_claims", &self.email_claims, false),
            ("avatar_claims", &self.avatar_claims, false),
        ];
        for (key, list, required) in lists {
            if let Some(list) = list {
                check_claims(&format!("dialects.{dialect}.auth.{key}"), list, required)?;
            }
        }
        Ok(())
    }
}

/// One listener per dialect. A dialect table given partly in a file keeps the
/// defaults of the keys it leaves out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialectsConfig {
    pub dozaar: DialectConfig,
    pub syarah: DialectConfig,
    pub jobspare: DialectConfig,
    pub vchat: DialectConfig,
    pub voxora: DialectConfig,
}

impl Default for DialectsConfig {
    fn default() -> Self {
        DialectsConfig {
            dozaar: DialectConfig::new(true, 3001),
            syarah: DialectConfig::new(true, 3005),
            jobspare: DialectConfig::new(true, 4000),
            vchat: DialectConfig::new(true, 8081),
            voxora: DialectConfig::new(true, 3002),
        }
    }
}

impl DialectsConfig {
    /// Every dialect with its name, in a fixed order.
    pub fn all(&self) -> [(&'static str, &DialectConfig); 5] {
        [
            ("dozaar", &self.dozaar),
            ("syarah", &self.syarah),
            ("jobspare", &self.jobspare),
            ("vchat", &self.vchat),
            ("voxora", &self.voxora),
        ]
    }

    /// The enabled dialects with their names.
    pub fn enabled(&self) -> impl Iterator<Item = (&'static str, &DialectConfig)> {
        self.all().into_iter().filter(|(_, d)| d.enabled)
    }
}

impl DialectsConfig {
    /// Checks that no two enabled dialects share a port (0, any free port,
    /// may repeat) and each dialect's `auth` table; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let all = self.all();
        for (i, (name, d)) in all.iter().enumerate() {
            d.auth.validate(name)?;
            if !d.enabled || d.port == 0 {
                continue;
            }
            if let Some((other, _)) = all[..i].iter().find(|(_, o)| o.enabled && o.port == d.port) {
                return Err(invalid(
                    &format!("dialects.{name}.port"),
                    format!("port {} is already used by dialects.{other}", d.port),
                ));
            }
        }
        Ok(())
    }
}
