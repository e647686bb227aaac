//! The `[dialects.*]` tables: one listener per dialect.

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, invalid};

/// One dialect listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialectConfig {
    pub enabled: bool,
    /// TCP port; 0 picks a free port (tests).
    pub port: u16,
}

impl DialectConfig {
    pub const fn new(enabled: bool, port: u16) -> Self {
        DialectConfig { enabled, port }
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
    pub fn all(&self) -> [(&'static str, DialectConfig); 5] {
        [
            ("dozaar", self.dozaar),
            ("syarah", self.syarah),
            ("jobspare", self.jobspare),
            ("vchat", self.vchat),
            ("voxora", self.voxora),
        ]
    }

    /// The enabled dialects with their names.
    pub fn enabled(&self) -> impl Iterator<Item = (&'static str, DialectConfig)> {
        self.all().into_iter().filter(|(_, d)| d.enabled)
    }
}

impl DialectsConfig {
    /// Checks that no two enabled dialects share a port (0, any free port,
    /// may repeat); the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let all = self.all();
        for (i, (name, d)) in all.iter().enumerate() {
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
