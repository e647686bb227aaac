//! [`ConfigError`], and the helpers the `validate` checks of every section
//! build their errors with.

use std::path::PathBuf;

/// An error in the configuration; the message names the key (and the file,
/// variable or flag it came from).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("environment variable {var} (config key `{key}`): {message}")]
    Env {
        var: String,
        key: String,
        message: String,
    },
    #[error("flag for config key `{key}`: {message}")]
    Flag { key: String, message: String },
    #[error("unknown config key `{0}`")]
    UnknownKey(String),
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

/// A [`ConfigError::Invalid`] naming `key`.
pub(super) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

/// Fails on the first key whose value is zero.
pub(super) fn require_positive(keys: &[(&str, u64)]) -> Result<(), ConfigError> {
    match keys.iter().find(|(_, value)| *value == 0) {
        Some((key, _)) => Err(invalid(key, "must be greater than zero")),
        None => Ok(()),
    }
}

/// Fails on the first optional key that is set but blank: a key is left
/// out, not set to an empty string.
pub(super) fn require_not_blank(keys: &[(&str, &Option<String>)]) -> Result<(), ConfigError> {
    match keys
        .iter()
        .find(|(_, value)| value.as_deref().is_some_and(|v| v.trim().is_empty()))
    {
        Some((key, _)) => Err(invalid(key, LEAVE_IT_OUT)),
        None => Ok(()),
    }
}

/// The message of an optional key set to an empty value.
pub(super) const LEAVE_IT_OUT: &str = "must not be empty (leave it out instead)";
