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

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

/// Name of the config file read from the working directory when none is given.
pub const DEFAULT_CONFIG_FILE: &str = "confab.toml";
/// Prefix of every environment variable confab reads.
pub const ENV_PREFIX: &str = "CONFAB_";
/// Environment variable naming the config file.
pub const ENV_CONFIG_FILE: &str = "CONFAB_CONFIG";
/// `CONFAB_*` variables that are not config keys but are used elsewhere.
pub const ENV_NOT_CONFIG: &[&str] = &[ENV_CONFIG_FILE, "CONFAB_USER_PASSWORD"];
/// Upper bound of `auth.leeway_secs`.
pub const MAX_LEEWAY_SECS: u64 = 86_400;

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

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------
// DurationStr
// ---------------------------------------------------------------------------

/// A duration written as `"30s"`, `"15m"`, `"1h"`, `"7d"` or plain seconds
/// (`"90"`, or an integer in TOML). Whole seconds only. Serialized as a string
/// in the largest exact unit (`604800` s → `"7d"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DurationStr(pub Duration);

impl DurationStr {
    pub const fn from_secs(secs: u64) -> Self {
        DurationStr(Duration::from_secs(secs))
    }

    pub fn as_duration(&self) -> Duration {
        self.0
    }

    pub fn as_secs(&self) -> u64 {
        self.0.as_secs()
    }
}

impl From<DurationStr> for Duration {
    fn from(d: DurationStr) -> Duration {
        d.0
    }
}

/// Why a duration string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {0:?}: expected a number of seconds or a number followed by s, m, h or d (e.g. \"30s\", \"15m\", \"1h\", \"7d\")"
)]
pub struct DurationParseError(String);

impl FromStr for DurationStr {
    type Err = DurationParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationParseError(s.to_string());
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        if digits.is_empty() {
            return Err(err());
        }
        let n: u64 = digits.parse().map_err(|_| err())?;
        let factor = match unit.trim() {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(err()),
        };
        n.checked_mul(factor)
            .map(DurationStr::from_secs)
            .ok_or_else(err)
    }
}

impl fmt::Display for DurationStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        for (factor, unit) in [(86_400, "d"), (3_600, "h"), (60, "m")] {
            if secs != 0 && secs.is_multiple_of(factor) {
                return write!(f, "{}{unit}", secs / factor);
            }
        }
        write!(f, "{secs}s")
    }
}

impl Serialize for DurationStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DurationStr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DurationStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"30s\", \"15m\", \"1h\", \"7d\" or seconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DurationStr, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DurationStr, E> {
                Ok(DurationStr::from_secs(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DurationStr, E> {
                u64::try_from(v)
                    .map(DurationStr::from_secs)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// Config structs
// ---------------------------------------------------------------------------

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
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub socket: SocketConfig,
    /// A typing indicator expires after this many seconds without a refresh.
    pub typing_ttl_secs: u64,
    /// In a cluster: a node that has not sent a heartbeat for this many
    /// seconds is dead, and its users go offline (heartbeats every third of
    /// it, at most every 10 s).
    pub presence_ttl_secs: u64,
    pub dialects: DialectsConfig,
    pub uploads: UploadsConfig,
    pub push: PushConfig,
    /// Notes produced while loading (e.g. unknown `CONFAB_*` variables), to be
    /// logged once logging is set up. Not a config key.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            log: "info".into(),
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            socket: SocketConfig::default(),
            typing_ttl_secs: 10,
            presence_ttl_secs: 300,
            dialects: DialectsConfig::default(),
            uploads: UploadsConfig::default(),
            push: PushConfig::default(),
            warnings: Vec::new(),
        }
    }
}

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

/// Sizes and rates. Every value must be greater than zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Longest message text, in characters.
    pub max_text_chars: usize,
    /// Messages a user may send per minute (all sockets, all dialects).
    pub messages_per_minute: u32,
    /// Largest Engine.IO packet payload, bytes (socketioxide `max_payload`).
    pub max_payload_bytes: u64,
    /// Outgoing packets queued per socket before emits fail
    /// (socketioxide `max_buffer_size`).
    pub max_buffer_packets: usize,
    /// Largest WebSocket message, bytes.
    pub ws_max_message_bytes: usize,
    /// Largest WebSocket frame, bytes (≤ `ws_max_message_bytes`).
    pub ws_max_frame_bytes: usize,
    /// Largest HTTP request body (JSON API), bytes.
    pub http_body_bytes: usize,
    /// Seconds a client has to complete the Socket.IO connect.
    pub connect_timeout_secs: u64,
    /// Most attachments on one message.
    pub max_attachments: usize,
    /// Most messages returned by one history page.
    pub history_page_max: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_text_chars: 10_000,
            messages_per_minute: 50,
            max_payload_bytes: 65_536,
            max_buffer_packets: 1_024,
            ws_max_message_bytes: 65_536,
            ws_max_frame_bytes: 65_536,
            http_body_bytes: 1_048_576,
            connect_timeout_secs: 10,
            max_attachments: 10,
            history_page_max: 100,
        }
    }
}

/// Engine.IO / Socket.IO transport settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocketConfig {
    /// Seconds between server pings.
    pub ping_interval_secs: u64,
    /// Seconds without a pong before a client is dropped (> ping interval).
    pub ping_timeout_secs: u64,
    /// Origins allowed to connect (`scheme://host[:port]`), or `"*"` for any.
    /// A request without an `Origin` header (non-browser client) is always
    /// allowed.
    pub allowed_origins: Vec<String>,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig {
            ping_interval_secs: 25,
            ping_timeout_secs: 60,
            allowed_origins: vec!["*".into()],
        }
    }
}

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

/// File uploads (`POST /api/chat/uploadFile`, `POST /api/uploads`) and
/// their per-type limits (Syarah's seed: images become WebP within
/// 1920×1920, video up to 500 MB, audio and files up to 50 MB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadsConfig {
    /// Folder of the stored files; None → `<data_dir>/uploads`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Largest image upload (before transcoding), bytes.
    pub max_image_bytes: u64,
    /// Largest video upload, bytes.
    pub max_video_bytes: u64,
    /// Largest audio upload, bytes.
    pub max_audio_bytes: u64,
    /// Largest file (document) upload, bytes.
    pub max_file_bytes: u64,
    /// Images are scaled down to fit within this many pixels on each side.
    pub image_max_side: u32,
    /// Images with more pixels than this are refused before decoding (the
    /// decompression-bomb guard).
    pub image_max_pixels: u64,
    /// Lossy WebP quality of transcoded images, 0–100.
    pub webp_quality: u8,
    /// Largest file sent whole in a Socket.IO event (Voxora's binary
    /// `file_upload`), bytes. The listeners of dialects with such an event
    /// accept packets this large; bigger files go through `POST /api/uploads`.
    pub socket_max_bytes: u64,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        UploadsConfig {
            dir: None,
            max_image_bytes: 20 * 1024 * 1024,
            max_video_bytes: 500 * 1024 * 1024,
            max_audio_bytes: 50 * 1024 * 1024,
            max_file_bytes: 50 * 1024 * 1024,
            image_max_side: 1920,
            image_max_pixels: 40_000_000,
            webp_quality: 80,
            socket_max_bytes: 1024 * 1024,
        }
    }
}

/// Largest `uploads.socket_max_bytes`: a socket event is held whole in memory.
pub const MAX_SOCKET_UPLOAD: u64 = 16 * 1024 * 1024;

/// Largest `uploads.image_max_side` (the WebP format's limit).
pub const MAX_WEBP_SIDE: u32 = 16_383;

impl Config {
    /// Where uploaded files are stored: `uploads.dir`, else `<data_dir>/uploads`.
    pub fn uploads_dir(&self) -> PathBuf {
        self.uploads
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("uploads"))
    }
}

/// Push notifications to members who are offline or not viewing the
/// conversation: FCM HTTP v1 and/or a signed webhook (see `crate::push`).
/// Each is off until configured; both may be on.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// Google service-account key (JSON); set → FCM is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fcm_service_account_file: Option<PathBuf>,
    /// Base URL of the FCM API.
    pub fcm_endpoint: String,
    /// OAuth token URI; None → the service account's `token_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fcm_token_uri: Option<String>,
    /// Where the webhook posts; set → the webhook is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// HMAC-SHA256 key of the webhook signature (required with `webhook_url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    /// Notifications waiting to be sent before new ones are dropped.
    pub queue_capacity: usize,
    /// Notifications sent concurrently.
    pub workers: usize,
    /// Tries of one request, the first included.
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubled per try, with jitter.
    pub retry_initial_ms: u64,
    /// Longest retry delay in milliseconds (a `Retry-After` included).
    pub retry_max_ms: u64,
    /// Timeout of one HTTP request, seconds.
    pub timeout_secs: u64,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            fcm_service_account_file: None,
            fcm_endpoint: "https://fcm.googleapis.com".into(),
            fcm_token_uri: None,
            webhook_url: None,
            webhook_secret: None,
            queue_capacity: 10_000,
            workers: 4,
            max_attempts: 5,
            retry_initial_ms: 500,
            retry_max_ms: 60_000,
            timeout_secs: 10,
        }
    }
}

impl fmt::Debug for PushConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushConfig")
            .field("fcm_service_account_file", &self.fcm_service_account_file)
            .field("fcm_endpoint", &self.fcm_endpoint)
            .field("fcm_token_uri", &self.fcm_token_uri)
            .field("webhook_url", &self.webhook_url)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("queue_capacity", &self.queue_capacity)
            .field("workers", &self.workers)
            .field("max_attempts", &self.max_attempts)
            .field("retry_initial_ms", &self.retry_initial_ms)
            .field("retry_max_ms", &self.retry_max_ms)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl PushConfig {
    /// Checks the `push.*` keys; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let http_url = |key: &str, url: &str| -> Result<(), ConfigError> {
            match reqwest::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(()),
                _ => Err(invalid(key, format!("{url:?} is not an http(s) URL"))),
            }
        };
        http_url("push.fcm_endpoint", &self.fcm_endpoint)?;
        for (key, value) in [
            ("push.fcm_token_uri", &self.fcm_token_uri),
            ("push.webhook_url", &self.webhook_url),
            ("push.webhook_secret", &self.webhook_secret),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(invalid(key, "must not be empty (leave it out instead)"));
            }
        }
        if let Some(uri) = &self.fcm_token_uri {
            http_url("push.fcm_token_uri", uri)?;
        }
        if self
            .fcm_service_account_file
            .as_ref()
            .is_some_and(|f| f.as_os_str().is_empty())
        {
            return Err(invalid(
                "push.fcm_service_account_file",
                "must not be empty (leave it out instead)",
            ));
        }
        if let Some(url) = &self.webhook_url {
            http_url("push.webhook_url", url)?;
            if self.webhook_secret.is_none() {
                return Err(invalid(
                    "push.webhook_secret",
                    "is required when push.webhook_url is set",
                ));
            }
        }
        for (key, value) in [
            ("push.queue_capacity", self.queue_capacity as u64),
            ("push.workers", self.workers as u64),
            ("push.max_attempts", u64::from(self.max_attempts)),
            ("push.retry_initial_ms", self.retry_initial_ms),
            ("push.timeout_secs", self.timeout_secs),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than zero"));
            }
        }
        if self.workers > 1_024 {
            return Err(invalid("push.workers", "must be at most 1024"));
        }
        if self.retry_max_ms < self.retry_initial_ms {
            return Err(invalid(
                "push.retry_max_ms",
                format!(
                    "must be at least push.retry_initial_ms ({})",
                    self.retry_initial_ms
                ),
            ));
        }
        Ok(())
    }
}

/// The process environment's `CONFAB_*` variables, skipping any that are not
/// valid Unicode (unlike `std::env::vars`, which panics on them).
pub fn env_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect()
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

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

    /// Whether a browser from `origin` may connect. `"*"` in
    /// `socket.allowed_origins` allows any origin. Otherwise the origin must
    /// equal an entry (`scheme://host[:port]`, case-insensitive, default ports
    /// 80/443 optional). A missing `Origin` header is always allowed: only
    /// browsers send it, and non-browser clients (mobile apps, Flutter,
    /// servers) cannot be restricted by it anyway.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let allowed = &self.socket.allowed_origins;
        if allowed.iter().any(|a| a.trim() == "*") {
            return true;
        }
        let origin = normalize_origin(origin);
        allowed.iter().any(|a| normalize_origin(a) == origin)
    }

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

    /// Checks the cross-key rules; the error names the key.
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

        let a = &self.auth;
        for (key, value) in [
            ("auth.jwt_secret", &a.jwt_secret),
            ("auth.issuer", &a.issuer),
            ("auth.audience", &a.audience),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(invalid(key, "must not be empty (leave it out instead)"));
            }
        }
        if a.token_ttl.as_secs() == 0 {
            return Err(invalid("auth.token_ttl", "must be greater than zero"));
        }
        if a.leeway_secs > MAX_LEEWAY_SECS {
            return Err(invalid(
                "auth.leeway_secs",
                format!("must be at most {MAX_LEEWAY_SECS}"),
            ));
        }

        let l = &self.limits;
        for (key, value) in [
            ("limits.max_text_chars", l.max_text_chars as u64),
            (
                "limits.messages_per_minute",
                u64::from(l.messages_per_minute),
            ),
            ("limits.max_payload_bytes", l.max_payload_bytes),
            ("limits.max_buffer_packets", l.max_buffer_packets as u64),
            ("limits.ws_max_message_bytes", l.ws_max_message_bytes as u64),
            ("limits.ws_max_frame_bytes", l.ws_max_frame_bytes as u64),
            ("limits.http_body_bytes", l.http_body_bytes as u64),
            ("limits.connect_timeout_secs", l.connect_timeout_secs),
            ("limits.max_attachments", l.max_attachments as u64),
            ("limits.history_page_max", u64::from(l.history_page_max)),
            ("typing_ttl_secs", self.typing_ttl_secs),
            ("presence_ttl_secs", self.presence_ttl_secs),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than zero"));
            }
        }
        if l.ws_max_frame_bytes > l.ws_max_message_bytes {
            return Err(invalid(
                "limits.ws_max_frame_bytes",
                format!(
                    "must not exceed limits.ws_max_message_bytes ({})",
                    l.ws_max_message_bytes
                ),
            ));
        }

        let u = &self.uploads;
        for (key, value) in [
            ("uploads.max_image_bytes", u.max_image_bytes),
            ("uploads.max_video_bytes", u.max_video_bytes),
            ("uploads.max_audio_bytes", u.max_audio_bytes),
            ("uploads.max_file_bytes", u.max_file_bytes),
            ("uploads.image_max_side", u64::from(u.image_max_side)),
            ("uploads.image_max_pixels", u.image_max_pixels),
            ("uploads.socket_max_bytes", u.socket_max_bytes),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than zero"));
            }
        }
        if u.image_max_side > MAX_WEBP_SIDE {
            return Err(invalid(
                "uploads.image_max_side",
                format!("must be at most {MAX_WEBP_SIDE} (the WebP limit)"),
            ));
        }
        if u.socket_max_bytes > MAX_SOCKET_UPLOAD {
            return Err(invalid(
                "uploads.socket_max_bytes",
                format!(
                    "must be at most {MAX_SOCKET_UPLOAD} (use POST /api/uploads for bigger files)"
                ),
            ));
        }
        if u.webp_quality > 100 {
            return Err(invalid("uploads.webp_quality", "must be at most 100"));
        }
        if u.dir.as_ref().is_some_and(|d| d.as_os_str().is_empty()) {
            return Err(invalid(
                "uploads.dir",
                "must not be empty (leave it out instead)",
            ));
        }

        let s = &self.socket;
        if s.ping_interval_secs == 0 {
            return Err(invalid(
                "socket.ping_interval_secs",
                "must be greater than zero",
            ));
        }
        if s.ping_timeout_secs <= s.ping_interval_secs {
            return Err(invalid(
                "socket.ping_timeout_secs",
                format!(
                    "must be greater than socket.ping_interval_secs ({})",
                    s.ping_interval_secs
                ),
            ));
        }
        if s.allowed_origins.is_empty() {
            return Err(invalid(
                "socket.allowed_origins",
                "must not be empty (use [\"*\"] to allow any origin)",
            ));
        }
        for o in &s.allowed_origins {
            if o.trim() != "*" && !is_origin(o) {
                return Err(invalid(
                    "socket.allowed_origins",
                    format!(
                        "{o:?} is not an origin: write scheme://host[:port] without a path or trailing slash, or \"*\""
                    ),
                ));
            }
        }

        self.push.validate()?;

        let all = self.dialects.all();
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

/// `scheme://host[:port]` with nothing after.
fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.trim().split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let (host, port) = match rest.rsplit_once(':') {
        // An IPv6 literal `[::1]` without a port has ':' inside the brackets.
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && !host
            .chars()
            .any(|c| matches!(c, '/' | '?' | '#' | '@' | ' ' | '\\'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    scheme_ok && host_ok && port_ok
}

/// Lowercase, trimmed, default port removed.
fn normalize_origin(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    for (scheme, port) in [("http://", ":80"), ("https://", ":443")] {
        if s.starts_with(scheme)
            && let Some(stripped) = s.strip_suffix(port)
        {
            return stripped.to_string();
        }
    }
    s
}

/// One overridable key found in the defaults.
struct Leaf {
    path: Vec<String>,
    default: Value,
}

/// The shape of the defaults: leaf keys (with their default values, which
/// give their types) and tables.
struct Shape {
    leaves: Vec<Leaf>,
    tables: Vec<Vec<String>>,
}

impl Shape {
    fn of(defaults: &Table) -> Shape {
        fn walk(t: &Table, prefix: &mut Vec<String>, shape: &mut Shape) {
            shape.tables.push(prefix.clone());
            for (k, v) in t {
                prefix.push(k.clone());
                match v {
                    Value::Table(inner) => walk(inner, prefix, shape),
                    other => shape.leaves.push(Leaf {
                        path: prefix.clone(),
                        default: other.clone(),
                    }),
                }
                prefix.pop();
            }
        }
        let mut shape = Shape {
            leaves: Vec::new(),
            tables: Vec::new(),
        };
        walk(defaults, &mut Vec::new(), &mut shape);
        // Deepest tables first, so the most specific prefix wins.
        shape.tables.sort_by_key(|t| std::cmp::Reverse(t.len()));
        shape
    }

    fn leaf(&self, path: &[String]) -> Option<&Leaf> {
        self.leaves.iter().find(|l| l.path == path)
    }
}

fn env_name(path: &[String]) -> String {
    format!("{ENV_PREFIX}{}", path.join("_").to_ascii_uppercase())
}

/// Where an environment variable goes.
struct EnvTarget {
    path: Vec<String>,
    /// Default of the key, giving its type; None for optional keys (strings).
    default: Option<Value>,
    /// True when found by its full name (applied after short aliases).
    full: bool,
}

/// Maps `CONFAB_...` to a key path, see the module docs.
fn resolve_env(shape: &Shape, var: &str) -> Option<EnvTarget> {
    let var = var.to_ascii_uppercase();
    let from_leaf = |l: &Leaf, full| EnvTarget {
        path: l.path.clone(),
        default: Some(l.default.clone()),
        full,
    };
    if let Some(l) = shape.leaves.iter().find(|l| env_name(&l.path) == var) {
        return Some(from_leaf(l, true));
    }
    let aliases: Vec<&Leaf> = shape
        .leaves
        .iter()
        .filter(|l| l.path.len() >= 2 && env_name(&l.path[1..]) == var)
        .collect();
    if let [l] = aliases[..] {
        return Some(from_leaf(l, false));
    }
    // Optional keys (None by default, so absent from the defaults): find a
    // table whose name prefixes the variable and accept the rest as a key if
    // the config knows it.
    let candidates = |alias: bool| -> Vec<Vec<String>> {
        let mut found: Vec<Vec<String>> = Vec::new();
        for table in &shape.tables {
            if alias && table.is_empty() {
                continue;
            }
            let name = if alias { &table[1..] } else { &table[..] };
            let prefix = if name.is_empty() {
                ENV_PREFIX.to_string()
            } else {
                format!("{}_", env_name(name))
            };
            let Some(rest) = var.strip_prefix(&prefix) else {
                continue;
            };
            if rest.is_empty() {
                continue;
            }
            let mut path = table.clone();
            path.push(rest.to_ascii_lowercase());
            if shape.leaf(&path).is_none()
                && !shape.tables.contains(&path)
                && check_sparse(&path, Value::String(String::new())).is_ok()
                && !found.contains(&path)
            {
                found.push(path);
            }
        }
        found
    };
    if let Some(path) = candidates(false).into_iter().next() {
        return Some(EnvTarget {
            path,
            default: None,
            full: true,
        });
    }
    match &candidates(true)[..] {
        [path] => Some(EnvTarget {
            path: path.clone(),
            default: None,
            full: false,
        }),
        _ => None,
    }
}

/// Parses a string by the type of the key's default. `Ok(None)` unsets an
/// optional key.
fn parse_value(raw: &str, default: Option<&Value>) -> Result<Option<Value>, String> {
    match default {
        None => {
            if raw.trim().is_empty() {
                Ok(None)
            } else {
                Ok(Some(Value::String(raw.to_string())))
            }
        }
        Some(Value::Array(items)) => {
            let element = items.first();
            let mut out = Vec::new();
            for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if let Some(v) = parse_value(part, element)? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        Some(d) => parse_scalar(raw, d).map(Some),
    }
}

fn parse_scalar(raw: &str, default: &Value) -> Result<Value, String> {
    let t = raw.trim();
    match default {
        Value::Integer(_) => t
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("expected an integer, got {raw:?}")),
        Value::Float(_) => t
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("expected a number, got {raw:?}")),
        Value::Boolean(_) => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {raw:?}")),
        },
        Value::Table(_) => Err("a table cannot be set from a single value".into()),
        _ => Ok(Value::String(raw.to_string())),
    }
}

/// Sets (or with None removes) the value at `path`, creating tables.
fn set_path(table: &mut Table, path: &[String], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(inner) = entry else {
            return;
        };
        t = inner;
    }
    match value {
        Some(v) => {
            t.insert(last.clone(), v);
        }
        None => {
            t.remove(last);
        }
    }
}

/// Deserializes a config holding only this one key (the rest defaults), to
/// check the key exists and the value has the right type.
fn check_sparse(path: &[String], value: Value) -> Result<(), String> {
    let mut t = Table::new();
    set_path(&mut t, path, Some(value));
    Value::Table(t)
        .try_into::<Config>()
        .map(|_| ())
        .map_err(|e| e.to_string().trim().to_string())
}

fn deep_merge(base: &mut Table, over: Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => deep_merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn load_with_default_file(
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
    let mut warnings = Vec::new();

    // File.
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
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let file_err = |e: toml::de::Error| ConfigError::File {
            path: path.clone(),
            message: e.to_string().trim().to_string(),
        };
        // Typed parse first: its errors point at the line and name the key.
        toml::from_str::<Config>(&text).map_err(file_err)?;
        let table: Table = toml::from_str(&text).map_err(file_err)?;
        deep_merge(&mut merged, table);
    }

    // Environment: short aliases first, full names after (they win).
    let mut env_sets = Vec::new();
    for (var, raw) in &env {
        if ENV_NOT_CONFIG.contains(&var.as_str()) {
            continue;
        }
        let Some(target) = resolve_env(&shape, var) else {
            warnings.push(format!(
                "ignored environment variable {var}: it names no config key"
            ));
            continue;
        };
        let key = target.path.join(".");
        let env_err = |message: String| ConfigError::Env {
            var: var.clone(),
            key: key.clone(),
            message,
        };
        let value = parse_value(raw, target.default.as_ref()).map_err(env_err)?;
        if let Some(v) = &value {
            check_sparse(&target.path, v.clone()).map_err(env_err)?;
        }
        env_sets.push((target.full, target.path, value));
    }
    env_sets.sort_by_key(|(full, _, _)| *full);
    for (_, path, value) in env_sets {
        set_path(&mut merged, &path, value);
    }

    // Flags.
    for (key, raw) in flags {
        let path: Vec<String> = key.split('.').map(str::to_string).collect();
        let default = match shape.leaf(&path) {
            Some(l) => Some(l.default.clone()),
            None => {
                let parent_is_table = shape.tables.iter().any(|t| t[..] == path[..path.len() - 1]);
                if !parent_is_table
                    || shape.tables.contains(&path)
                    || check_sparse(&path, Value::String(String::new())).is_err()
                {
                    return Err(ConfigError::UnknownKey(key.clone()));
                }
                None
            }
        };
        let flag_err = |message: String| ConfigError::Flag {
            key: key.clone(),
            message,
        };
        let value = parse_value(raw, default.as_ref()).map_err(flag_err)?;
        if let Some(v) = &value {
            check_sparse(&path, v.clone()).map_err(flag_err)?;
        }
        set_path(&mut merged, &path, value);
    }

    let mut config: Config = Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| invalid("", e.to_string().trim().to_string()))?;
    config.warnings = warnings;
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_file() -> PathBuf {
        PathBuf::from("/nonexistent/confab-test/confab.toml")
    }

    fn load(
        file: Option<&Path>,
        env: &[(&str, &str)],
        flags: &[(&str, &str)],
    ) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let flags: Vec<(String, String)> = flags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        load_with_default_file(file, &no_file(), env, &flags)
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    fn err_text(r: Result<Config, ConfigError>) -> String {
        match r {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn nothing_given_yields_the_defaults() {
        let c = load(None, &[], &[]).expect("load");
        assert_eq!(c, Config::default());
        assert_eq!(c.dialects.dozaar, DialectConfig::new(true, 3001));
        assert_eq!(c.auth.token_ttl.as_secs(), 7 * 86_400);
        assert_eq!(c.socket.allowed_origins, vec!["*".to_string()]);
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(
            &dir,
            "c.toml",
            "log = \"debug\"\ntyping_ttl_secs = 20\n[limits]\nmax_text_chars = 500\n[dialects.dozaar]\nport = 4001\n",
        );
        let c = load(Some(&file), &[], &[]).expect("file only");
        assert_eq!(c.log, "debug");
        assert_eq!(c.limits.max_text_chars, 500);
        assert_eq!(
            c.limits.messages_per_minute, 50,
            "untouched keys keep defaults"
        );
        assert_eq!(c.dialects.dozaar, DialectConfig::new(true, 4001));

        let env = [
            ("CONFAB_LIMITS_MAX_TEXT_CHARS", "600"),
            ("CONFAB_DIALECTS_DOZAAR_PORT", "5001"),
        ];
        let c = load(Some(&file), &env, &[]).expect("file + env");
        assert_eq!(c.limits.max_text_chars, 600);
        assert_eq!(c.dialects.dozaar.port, 5001);
        assert_eq!(c.typing_ttl_secs, 20);

        let c = load(
            Some(&file),
            &env,
            &[("dialects.dozaar.port", "0"), ("log", "warn")],
        )
        .expect("file + env + flags");
        assert_eq!(c.dialects.dozaar.port, 0);
        assert_eq!(c.log, "warn");
        assert_eq!(c.limits.max_text_chars, 600);

        // Flags may set optional keys too.
        let c = load(
            None,
            &[],
            &[("auth.issuer", "me"), ("database_url", "sqlite::memory:")],
        )
        .expect("optional keys by flag");
        assert_eq!(c.auth.issuer.as_deref(), Some("me"));
        assert_eq!(c.database_url(), "sqlite::memory:");
    }

    #[test]
    fn a_partial_dialect_table_keeps_the_dialects_default_port() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(&dir, "c.toml", "[dialects.syarah]\nenabled = true\n");
        let c = load(Some(&file), &[], &[]).expect("load");
        assert_eq!(c.dialects.syarah, DialectConfig::new(true, 3005));
    }

    #[test]
    fn env_names_are_derived_from_every_key() {
        let env = [
            ("CONFAB_BIND", "127.0.0.1"),
            ("CONFAB_DATA_DIR", "/tmp/confab-x"),
            ("CONFAB_AUTH_JWT_SECRET", "s3cret"),
            ("CONFAB_AUTH_LEEWAY_SECS", "5"),
            ("CONFAB_AUTH_TOKEN_TTL", "1h"),
            (
                "CONFAB_SOCKET_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            ),
            ("CONFAB_DIALECTS_SYARAH_ENABLED", "yes"),
            ("CONFAB_PRESENCE_TTL_SECS", "60"),
            ("CONFAB_DATABASE_URL", "postgres://u@localhost/confab"),
            ("CONFAB_AUTH_PUBLIC_KEY_FILES", "/k/a.pem,/k/b.pem"),
        ];
        let c = load(None, &env, &[]).expect("load");
        assert_eq!(c.bind, "127.0.0.1".parse::<IpAddr>().expect("ip"));
        assert_eq!(c.data_dir, PathBuf::from("/tmp/confab-x"));
        assert_eq!(c.auth.jwt_secret.as_deref(), Some("s3cret"));
        assert_eq!(c.auth.leeway_secs, 5);
        assert_eq!(c.auth.token_ttl, DurationStr::from_secs(3600));
        assert_eq!(
            c.socket.allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert!(c.dialects.syarah.enabled);
        assert_eq!(c.presence_ttl_secs, 60);
        assert_eq!(c.database_url(), "postgres://u@localhost/confab");
        assert_eq!(
            c.auth.public_key_files,
            vec![PathBuf::from("/k/a.pem"), PathBuf::from("/k/b.pem")]
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn short_env_aliases_work_and_full_names_win() {
        let c = load(
            None,
            &[
                ("CONFAB_JWT_SECRET", "short"),
                ("CONFAB_DOZAAR_PORT", "7001"),
                ("CONFAB_SYARAH_ENABLED", "true"),
                ("CONFAB_JOBSPARE_PORT", "7002"),
            ],
            &[],
        )
        .expect("load");
        assert_eq!(c.auth.jwt_secret.as_deref(), Some("short"));
        assert_eq!(c.dialects.dozaar.port, 7001);
        assert!(c.dialects.syarah.enabled);
        assert_eq!(c.dialects.jobspare.port, 7002);

        // Full name given before or after the alias: the full name wins.
        for env in [
            [
                ("CONFAB_DIALECTS_DOZAAR_PORT", "7100"),
                ("CONFAB_DOZAAR_PORT", "7200"),
            ],
            [
                ("CONFAB_DOZAAR_PORT", "7200"),
                ("CONFAB_DIALECTS_DOZAAR_PORT", "7100"),
            ],
        ] {
            let c = load(None, &env, &[]).expect("load");
            assert_eq!(c.dialects.dozaar.port, 7100);
        }
    }

    #[test]
    fn an_empty_env_value_unsets_an_optional_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(&dir, "c.toml", "database_url = \"sqlite://x.db\"\n");
        let c = load(Some(&file), &[("CONFAB_DATABASE_URL", "")], &[]).expect("load");
        assert_eq!(c.database_url, None);
    }

    #[test]
    fn unknown_env_variables_are_reported_not_fatal() {
        let c = load(
            None,
            &[
                ("CONFAB_NOPE", "1"),
                ("CONFAB_AUTH_NOPE", "1"),
                ("CONFAB_CONFIG", ""),
                ("CONFAB_USER_PASSWORD", "x"),
                ("HOME", "/root"),
            ],
            &[],
        )
        .expect("load");
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("CONFAB_NOPE"));
        assert!(c.warnings[1].contains("CONFAB_AUTH_NOPE"));
    }

    #[test]
    fn confab_config_in_env_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(&dir, "c.toml", "typing_ttl_secs = 3\n");
        let path = file.to_string_lossy().to_string();
        let c = load(None, &[("CONFAB_CONFIG", &path)], &[]).expect("load");
        assert_eq!(c.typing_ttl_secs, 3);
        // An explicit file wins over CONFAB_CONFIG.
        let other = write(&dir, "d.toml", "typing_ttl_secs = 4\n");
        let c = load(Some(&other), &[("CONFAB_CONFIG", &path)], &[]).expect("load");
        assert_eq!(c.typing_ttl_secs, 4);
    }

    #[test]
    fn bad_values_name_the_key() {
        let t = err_text(load(None, &[("CONFAB_LIMITS_MAX_TEXT_CHARS", "lots")], &[]));
        assert!(
            t.contains("CONFAB_LIMITS_MAX_TEXT_CHARS") && t.contains("limits.max_text_chars"),
            "{t}"
        );
        let t = err_text(load(None, &[("CONFAB_BIND", "localhost")], &[]));
        assert!(t.contains("CONFAB_BIND") && t.contains("`bind`"), "{t}");
        let t = err_text(load(None, &[("CONFAB_DOZAAR_PORT", "70000")], &[]));
        assert!(t.contains("dialects.dozaar.port"), "{t}");
        let t = err_text(load(None, &[("CONFAB_DOZAAR_ENABLED", "maybe")], &[]));
        assert!(t.contains("dialects.dozaar.enabled"), "{t}");
        let t = err_text(load(None, &[("CONFAB_TOKEN_TTL", "soon")], &[]));
        assert!(t.contains("auth.token_ttl"), "{t}");
        let t = err_text(load(None, &[], &[("dialects.dozaar.port", "x")]));
        assert!(t.contains("dialects.dozaar.port"), "{t}");
        let t = err_text(load(None, &[], &[("no.such.key", "1")]));
        assert!(t.contains("no.such.key"), "{t}");

        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(&dir, "c.toml", "[limits]\nmax_text_chars = \"many\"\n");
        let t = err_text(load(Some(&file), &[], &[]));
        assert!(t.contains("max_text_chars") && t.contains("c.toml"), "{t}");
        let file = write(&dir, "d.toml", "[limits]\nmax_txt_chars = 5\n");
        let t = err_text(load(Some(&file), &[], &[]));
        assert!(t.contains("max_txt_chars"), "{t}");
        let t = err_text(load(Some(&dir.path().join("missing.toml")), &[], &[]));
        assert!(t.contains("missing.toml"), "{t}");
    }

    #[test]
    fn validation_names_the_key() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("socket.ping_interval_secs", "0")],
                "socket.ping_interval_secs",
            ),
            (
                &[("socket.ping_timeout_secs", "25")],
                "socket.ping_timeout_secs",
            ),
            (&[("limits.max_text_chars", "0")], "limits.max_text_chars"),
            (
                &[("limits.ws_max_frame_bytes", "999999999")],
                "limits.ws_max_frame_bytes",
            ),
            (&[("typing_ttl_secs", "0")], "typing_ttl_secs"),
            (
                &[("uploads.max_video_bytes", "0")],
                "uploads.max_video_bytes",
            ),
            (&[("uploads.webp_quality", "101")], "uploads.webp_quality"),
            (
                &[("uploads.image_max_side", "20000")],
                "uploads.image_max_side",
            ),
            (&[("auth.token_ttl", "0s")], "auth.token_ttl"),
            (&[("auth.leeway_secs", "999999")], "auth.leeway_secs"),
            (&[("log", "info,[[[")], "`log`"),
            (
                &[("socket.allowed_origins", "https://a.example/")],
                "socket.allowed_origins",
            ),
            (&[("socket.allowed_origins", "")], "socket.allowed_origins"),
            (
                &[
                    ("dialects.syarah.enabled", "true"),
                    ("dialects.syarah.port", "3001"),
                ],
                "dialects.syarah.port",
            ),
        ];
        for (flags, key) in cases {
            let t = err_text(load(None, &[], flags));
            assert!(t.contains(key), "{flags:?}: {t}");
        }
        // Port 0 may repeat; disabled dialects may share ports.
        load(
            None,
            &[],
            &[
                ("dialects.syarah.enabled", "true"),
                ("dialects.syarah.port", "0"),
                ("dialects.dozaar.port", "0"),
                ("dialects.vchat.port", "3001"),
            ],
        )
        .expect("valid");
    }

    #[test]
    fn origins_are_checked() {
        let mut c = Config::default();
        assert!(c.origin_allowed(Some("https://anything.example")));
        assert!(c.origin_allowed(None));

        c.socket.allowed_origins = vec![
            "https://chat.example.com".into(),
            "http://localhost:5173".into(),
        ];
        assert!(c.origin_allowed(Some("https://chat.example.com")));
        assert!(c.origin_allowed(Some("HTTPS://Chat.Example.com")));
        assert!(c.origin_allowed(Some("https://chat.example.com:443")));
        assert!(c.origin_allowed(Some("http://localhost:5173")));
        assert!(!c.origin_allowed(Some("http://localhost:5174")));
        assert!(!c.origin_allowed(Some("http://chat.example.com")));
        assert!(!c.origin_allowed(Some("https://chat.example.com.evil.test")));
        assert!(!c.origin_allowed(Some("null")));
        assert!(c.origin_allowed(None), "non-browser clients send no Origin");
        assert!(c.validate().is_ok());

        assert!(is_origin("http://[::1]:8080"));
        assert!(is_origin("http://[::1]"));
        assert!(!is_origin("chat.example.com"));
        assert!(!is_origin("https://x/path"));
        assert!(!is_origin("https://x:99999"));
    }

    #[test]
    fn durations_parse_and_print() {
        for (s, secs) in [
            ("30s", 30),
            ("15m", 900),
            ("1h", 3600),
            ("7d", 604_800),
            ("90", 90),
            (" 2h ", 7200),
            ("0", 0),
        ] {
            assert_eq!(
                s.parse::<DurationStr>(),
                Ok(DurationStr::from_secs(secs)),
                "{s}"
            );
        }
        for bad in [
            "",
            "h",
            "1x",
            "-5s",
            "1.5h",
            "1h30m",
            "99999999999999999999d",
        ] {
            assert!(bad.parse::<DurationStr>().is_err(), "{bad}");
        }
        assert_eq!(DurationStr::from_secs(604_800).to_string(), "7d");
        assert_eq!(DurationStr::from_secs(5400).to_string(), "90m");
        assert_eq!(DurationStr::from_secs(61).to_string(), "61s");
        assert_eq!(DurationStr::from_secs(0).to_string(), "0s");

        #[derive(Deserialize)]
        struct T {
            d: DurationStr,
        }
        let t: T = toml::from_str("d = 120").expect("integer seconds");
        assert_eq!(t.d.as_secs(), 120);
        let t: T = toml::from_str("d = \"2m\"").expect("string");
        assert_eq!(t.d.as_secs(), 120);
        assert!(toml::from_str::<T>("d = -1").is_err());
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_dir() {
        let mut c = Config {
            data_dir: PathBuf::from("/var/lib/confab"),
            ..Config::default()
        };
        assert_eq!(
            c.database_url(),
            "sqlite:///var/lib/confab/confab.db?mode=rwc"
        );
        c.data_dir = PathBuf::from("/tmp/a?b#c%d");
        assert_eq!(
            c.database_url(),
            "sqlite:///tmp/a%3Fb%23c%25d/confab.db?mode=rwc"
        );
    }

    #[test]
    fn debug_output_hides_the_jwt_secret() {
        let c = Config {
            auth: AuthConfig {
                jwt_secret: Some("super-secret-value".into()),
                ..AuthConfig::default()
            },
            ..Config::default()
        };
        let text = format!("{c:?}");
        assert!(!text.contains("super-secret-value"));
        assert!(text.contains("redacted"));
    }

    fn example(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
    }

    fn leaf_paths(t: &Table) -> Vec<String> {
        let mut out: Vec<String> = Shape::of(t)
            .leaves
            .iter()
            .map(|l| l.path.join("."))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_example_config_equals_the_defaults_and_lists_every_key() {
        let path = example("confab.example.toml");
        let c = load(Some(&path), &[], &[]).expect("example loads");
        assert_eq!(
            c,
            Config::default(),
            "confab.example.toml drifted from the defaults"
        );

        let text = std::fs::read_to_string(&path).expect("read example");
        let file: Table = toml::from_str(&text).expect("example parses");
        let defaults = match Value::try_from(Config::default()) {
            Ok(Value::Table(t)) => t,
            other => panic!("defaults: {other:?}"),
        };
        assert_eq!(
            leaf_paths(&file),
            leaf_paths(&defaults),
            "keys missing from the example"
        );
        // Optional keys (None by default) are documented as comments.
        for key in [
            "database_url",
            "redis_url",
            "jwt_secret",
            "jwt_secret_file",
            "issuer",
            "audience",
            "dir",
        ] {
            assert!(text.contains(&format!("# {key} =")), "{key} not documented");
        }
    }

    #[test]
    fn the_production_example_config_loads() {
        let c = load(Some(&example("confab.production.example.toml")), &[], &[])
            .expect("production example loads");
        assert!(!c.origin_allowed(Some("https://evil.example")));
        assert!(c.origin_allowed(Some("https://chat.example.com")));
        assert!(c.auth.jwt_secret.is_none());
        assert!(c.auth.jwt_secret_file.is_some());
    }
}
