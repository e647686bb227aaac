//! The `[push]` table: push notifications through FCM and/or a signed
//! webhook.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, LEAVE_IT_OUT, invalid, require_not_blank, require_positive};

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
        require_not_blank(&[
            ("push.fcm_token_uri", &self.fcm_token_uri),
            ("push.webhook_url", &self.webhook_url),
            ("push.webhook_secret", &self.webhook_secret),
        ])?;
        if let Some(uri) = &self.fcm_token_uri {
            http_url("push.fcm_token_uri", uri)?;
        }
        if self
            .fcm_service_account_file
            .as_ref()
            .is_some_and(|f| f.as_os_str().is_empty())
        {
            return Err(invalid("push.fcm_service_account_file", LEAVE_IT_OUT));
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
        require_positive(&[
            ("push.queue_capacity", self.queue_capacity as u64),
            ("push.workers", self.workers as u64),
            ("push.max_attempts", u64::from(self.max_attempts)),
            ("push.retry_initial_ms", self.retry_initial_ms),
            ("push.timeout_secs", self.timeout_secs),
        ])?;
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
