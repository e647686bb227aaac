//! Loading: the defaults, then the config file, then the environment, then
//! the flags, each layer merged over the one before; the result is checked
//! with [`Config::validate`].

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::Config;
use super::env::{self, ENV_CONFIG_FILE, ENV_PREFIX};
use super::error::{ConfigError, invalid};
use super::keys::{Shape, deep_merge, parse_key, set_path};

/// Name of the config file read from the working directory when none is given.
pub const DEFAULT_CONFIG_FILE: &str = "confab.toml";

impl Config {
    /// Loads the configuration: defaults, then `file` (or `$CONFAB_CONFIG`
    /// from `env`, or `./confab.toml` if it exists), then the `CONFAB_*`
    /// variables of `env`, then `flags` (`(key path, value)` pairs); then
    /// validates it.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        load_with_default_file(file, Path::new(DEFAULT_CONFIG_FILE), env, flags)
    }
}

/// [`Config::load`] with another file than `./confab.toml` read when neither
/// `file` nor `$CONFAB_CONFIG` names one.
pub(super) fn load_with_default_file(
    file: Option<&Path>,
    default_file: &Path,
    env: impl IntoIterator<Item = (String, String)>,
    flags: &[(String, String)],
) -> Result<Config, ConfigError> {
    let env: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.to_ascii_uppercase().starts_with(ENV_PREFIX))
        .collect();
    let defaults = match Value::try_from(Config::default()) {
        Ok(Value::Table(t)) => t,
        Ok(_) => return Err(invalid("", "defaults are not a table")),
        Err(e) => return Err(invalid("", format!("cannot serialize defaults: {e}"))),
    };
    let shape = Shape::of(&defaults);
    let mut merged = defaults;

    let env_file = env
        .iter()
        .rev()
        .find(|(k, v)| k == ENV_CONFIG_FILE && !v.trim().is_empty())
        .map(|(_, v)| PathBuf::from(v));
    let file: Option<PathBuf> = match (file, env_file) {
        (Some(f), _) => Some(f.to_path_buf()),
        (None, Some(f)) => Some(f),
        (None, None) => default_file.is_file().then(|| default_file.to_path_buf()),
    };
    if let Some(path) = &file {
        deep_merge(&mut merged, read_file(path)?);
    }
    let warnings = env::apply(&shape, &env, &mut merged)?;
    apply_flags(&shape, flags, &mut merged)?;

    let mut config: Config = Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| invalid("", e.to_string().trim().to_string()))?;
    config.warnings = warnings;
    config.validate()?;
    Ok(config)
}

/// The config file as a table, after a typed parse whose errors point at the
/// line and name the key.
fn read_file(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file_err = |e: toml::de::Error| ConfigError::File {
        path: path.to_path_buf(),
        message: e.to_string().trim().to_string(),
    };
    toml::from_str::<Config>(&text).map_err(file_err)?;
    toml::from_str(&text).map_err(file_err)
}

/// Sets the key of every flag in `merged`, in order.
fn apply_flags(
    shape: &Shape,
    flags: &[(String, String)],
    merged: &mut Table,
) -> Result<(), ConfigError> {
    for (key, raw) in flags {
        let path: Vec<String> = key.split('.').map(str::to_string).collect();
        let default = match shape.leaf(&path) {
            Some(l) => Some(l.default.clone()),
            None => {
                let parent_is_table = shape.tables.iter().any(|t| t[..] == path[..path.len() - 1]);
                if !parent_is_table || !shape.is_optional_key(&path) {
                    return Err(ConfigError::UnknownKey(key.clone()));
                }
                None
            }
        };
        let value =
            parse_key(&path, raw, default.as_ref()).map_err(|message| ConfigError::Flag {
                key: key.clone(),
                message,
            })?;
        set_path(merged, &path, value);
    }
    Ok(())
}
