//! Configuration: built-in defaults → optional TOML file → `CONFAB_*`
//! environment variables → command-line flags (highest wins).
//!
//! Every key, its default and its meaning are listed in `confab.example.toml`
//! at the repository root (a unit test keeps that file equal to the defaults).
//!
//! # Environment variables
//! The mapping is derived from the defaults, not hand-written: every leaf key
//! path is accepted as `CONFAB_` + the path joined with `_`, uppercased
//! (`limits.max_text_chars` → `CONFAB_LIMITS_MAX_TEXT_CHARS`,
//! `dialects.dozaar.port` → `CONFAB_DIALECTS_DOZAAR_PORT`). A path without its
//! first table is accepted too when that is unambiguous (`CONFAB_JWT_SECRET`,
//! `CONFAB_DOZAAR_PORT`, `CONFAB_MAX_TEXT_CHARS`); the full name wins over
//! the short one. Values are parsed by the type of the key: integers, booleans
//! (`true/false/1/0/yes/no/on/off`), strings, and comma-separated lists for
//! arrays. An empty value unsets an optional key. `CONFAB_CONFIG` names the
//! config file; `CONFAB_USER_PASSWORD` is read by `confab user add`; any other
//! `CONFAB_*` variable that maps to no key is ignored and reported in
//! [`Config::warnings`].
//!
//! # Flags
//! Flags arrive as `(key path, value)` pairs such as `("dialects.dozaar.port",
//! "0")` and are parsed like environment values.
//!
//! # Layout
//! [`Config`] and its top-level keys are here; each table has a module of
//! its own (`auth`, `limits`, `socket`, `presence`, `dialects`, `uploads`,
//! `attachments`, `push`, `admin`, `web`) with
//! its struct, defaults and checks. `load` merges the layers, `keys` finds
//! the keys in the defaults and sets one from a string, `env` maps the
//! environment variables, `duration` parses durations and `error` holds
//! [`ConfigError`]. Everything public is re-exported here.

mod admin;
mod attachments;
mod auth;
mod dialects;
mod duration;
mod env;
mod error;
mod keys;
mod limits;
mod load;
mod log;
mod presence;
mod push;
mod socket;
mod uploads;
mod web;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use admin::AdminConfig;
pub use attachments::AttachmentsConfig;
pub use auth::{AuthConfig, MAX_LEEWAY_SECS, Registration};
pub use dialects::{DialectAuthConfig, DialectConfig, DialectsConfig};
pub use duration::{DurationParseError, DurationStr};
pub use env::{ENV_CONFIG_FILE, ENV_NOT_CONFIG, ENV_PREFIX, env_vars};
pub use error::ConfigError;
use error::{invalid, require_positive};
pub use limits::LimitsConfig;
pub use load::DEFAULT_CONFIG_FILE;
pub use log::LogFormat;
pub use presence::{MAX_OFFLINE_GRACE_MS, PresenceConfig, Visibility};
pub use push::PushConfig;
pub use socket::SocketConfig;
pub use uploads::{MAX_SOCKET_UPLOAD, MAX_WEBP_SIDE, UploadsConfig};
pub use web::WebConfig;

/// The whole configuration. See `confab.example.toml` for every key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory for the SQLite database, uploads and the generated JWT secret.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; None → `sqlite://<data_dir>/confab.db`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `redis://host:6379`: run as one node of a cluster (events, presence,
    /// typing, viewing and rate limits shared through Redis ≥ 7). None → a
    /// single node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<String>,
    /// Address every dialect listener binds to.
    pub bind: IpAddr,
    /// Log filter in `tracing_subscriber::EnvFilter` syntax.
    pub log: String,
    /// `json`, `pretty`, or `auto`: JSON lines unless both stdout and
    /// stderr are terminals.
    pub log_format: LogFormat,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub socket: SocketConfig,
    /// A typing indicator expires after this many seconds without a refresh.
    pub typing_ttl_secs: u64,
    /// In a cluster: a node that has not sent a heartbeat for this many
    /// seconds is dead, and its users go offline (heartbeats every third of
    /// it, at most every 10 s).
    pub presence_ttl_secs: u64,
    pub presence: PresenceConfig,
    /// On SIGTERM or Ctrl-C: how long the node may take to close every
    /// socket, finish what it was handling and flush, before it exits.
    pub drain_timeout: DurationStr,
    pub dialects: DialectsConfig,
    pub uploads: UploadsConfig,
    pub attachments: AttachmentsConfig,
    pub push: PushConfig,
    pub admin: AdminConfig,
    pub web: WebConfig,
    /// Notes produced while loading (e.g. unknown `CONFAB_*` variables), to be
    /// logged once logging is set up. Not a config key.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// The kind of store a config names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A SQLite file (by default `<data_dir>/confab.db`).
    SqliteFile,
    /// A private in-memory SQLite database.
    SqliteMemory,
    /// A PostgreSQL database, which several nodes may share.
    Postgres,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::SqliteFile => "sqlite",
            StoreKind::SqliteMemory => "sqlite in memory",
            StoreKind::Postgres => "postgresql",
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            log: "info".into(),
            log_format: LogFormat::Auto,
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            socket: SocketConfig::default(),
            typing_ttl_secs: 10,
            presence_ttl_secs: 300,
            presence: PresenceConfig::default(),
            drain_timeout: DurationStr::from_secs(10),
            dialects: DialectsConfig::default(),
            uploads: UploadsConfig::default(),
            attachments: AttachmentsConfig::default(),
            push: PushConfig::default(),
            admin: AdminConfig::default(),
            web: WebConfig::default(),
            warnings: Vec::new(),
        }
    }
}

impl Config {
    /// The database URL: `database_url`, or `sqlite://<data_dir>/confab.db?mode=rwc`
    /// (created if missing).
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => {
                let path = self.data_dir.join("confab.db");
                let mut encoded = String::new();
                for c in path.to_string_lossy().chars() {
                    match c {
                        '%' => encoded.push_str("%25"),
                        '?' => encoded.push_str("%3F"),
                        '#' => encoded.push_str("%23"),
                        c => encoded.push(c),
                    }
                }
                format!("sqlite://{encoded}?mode=rwc")
            }
        }
    }

    /// Which store [`Config::database_url`] names.
    pub fn store_kind(&self) -> StoreKind {
        let url = self.database_url();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            StoreKind::Postgres
        } else if url.contains(":memory:") || url.contains("mode=memory") {
            StoreKind::SqliteMemory
        } else {
            StoreKind::SqliteFile
        }
    }

    /// Where uploaded files are stored: `uploads.dir`, else `<data_dir>/uploads`.
    pub fn uploads_dir(&self) -> PathBuf {
        self.uploads
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("uploads"))
    }

    /// Whether a browser from `origin` may connect: see
    /// [`SocketConfig::origin_allowed`].
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        self.socket.origin_allowed(origin)
    }

    /// Checks every key and the rules between keys; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty"));
        }
        if let Some(url) = &self.database_url
            && !(url.contains("://") || url.starts_with("sqlite:"))
        {
            return Err(invalid(
                "database_url",
                format!("{url:?} is not a database URL (sqlite://... or postgres://...)"),
            ));
        }
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(invalid(
                "redis_url",
                format!("{url:?} is not a Redis URL (redis://host:6379)"),
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log) {
            return Err(invalid("log", format!("not a valid log filter: {e}")));
        }
        self.auth.validate()?;
        self.limits.validate()?;
        require_positive(&[
            ("typing_ttl_secs", self.typing_ttl_secs),
            ("presence_ttl_secs", self.presence_ttl_secs),
        ])?;
        self.presence.validate()?;
        self.uploads.validate()?;
        self.attachments.validate()?;
        self.socket.validate()?;
        self.push.validate()?;
        self.admin.validate()?;
        self.dialects.validate()
    }
}

#[cfg(test)]
mod tests;
