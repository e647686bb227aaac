//! Push notifications to the members of a conversation who will not see a new
//! message on a socket: offline, or online but not viewing the conversation
//! (Syarah's `joinRoom`/`leaveRoom`, Dozaar's `join:conversation`, V Chat's
//! `/message` namespace). The sender never gets one.
//!
//! - [`dispatch`]: an [`EventSink`](crate::fanout::EventSink) that picks the
//!   recipients of each new message and queues one job per recipient on a
//!   bounded queue (a full queue drops the job with a warning; message
//!   delivery is never delayed), and the workers that load the recipients'
//!   devices and send.
//! - [`fcm`]: Firebase Cloud Messaging HTTP v1 with a service account.
//! - [`webhook`]: a signed JSON POST to a service of your own.
//!
//! Both senders are off unless configured (`[push]`); both may be on.
//! Requests answered 429 or 5xx, or not answered, are retried with
//! exponential backoff and jitter, honouring `Retry-After`.
//!
//! Every push carries the neutral [`data`]. An app that reads other fields
//! (the V Chat SDK reads `roomId` and the message as JSON) gets them where
//! its device was registered with a push format (`Device::push_format`,
//! set by the dialect that registered it): the [`PushFormats`] the server
//! starts with map each format's name to the dialect's function that adds
//! its fields. This module knows no dialect.

use async_trait::async_trait;
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::config::PushConfig;
use crate::core::service::Service;
use crate::core::{Device, Message, UserId, UserSummary};

pub mod dispatch;
pub mod fcm;
pub mod webhook;

pub use dispatch::{PushSink, PushStats};
pub use fcm::FcmSender;
pub use webhook::WebhookSender;

/// Characters of message text shown in a notification.
pub const PREVIEW_CHARS: usize = 100;
/// The body of a notification for a message without text.
pub const ATTACHMENT_BODY: &str = "📎 Attachment";

/// What a push shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notification {
    pub title: String,
    pub body: String,
}

/// One notification for one recipient, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub recipient: UserId,
    /// The recipient's registered devices (possibly none).
    pub devices: Vec<Device>,
    pub notification: Notification,
    /// `conversationId`, `conversationUuid`, `messageId`, `messageUuid`,
    /// `senderId`, `kind`: strings, as FCM requires.
    pub data: BTreeMap<String, String>,
    /// The data in each known push format of the devices: [`Push::data`]
    /// with the format's fields added.
    pub formatted: BTreeMap<String, BTreeMap<String, String>>,
}

impl Push {
    /// The data a device is sent: in its push format if it has a known
    /// one, else the neutral data.
    pub fn data_for(&self, device: &Device) -> &BTreeMap<String, String> {
        device
            .push_format
            .as_ref()
            .and_then(|f| self.formatted.get(f))
            .unwrap_or(&self.data)
    }
}

/// The fields a push format adds to a new message's neutral data (strings,
/// as FCM requires; a field of the neutral data may be replaced).
pub type DataFormat = fn(&Message, &UserSummary) -> BTreeMap<String, String>;

/// The push formats the dialects define, by name.
#[derive(Debug, Clone, Default)]
pub struct PushFormats(BTreeMap<&'static str, DataFormat>);

impl PushFormats {
    /// Adds the format `name`.
    #[must_use]
    pub fn with(mut self, name: &'static str, format: DataFormat) -> Self {
        self.0.insert(name, format);
        self
    }

    /// The data of `message` in each of the `wanted` formats that is
    /// known: the neutral `data` with the format's fields.
    pub fn render<'a>(
        &self,
        wanted: impl IntoIterator<Item = &'a str>,
        data: &BTreeMap<String, String>,
        message: &Message,
        sender: &UserSummary,
    ) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for name in wanted {
            if out.contains_key(name) {
                continue;
            }
            let Some(format) = self.0.get(name) else {
                continue;
            };
            let mut d = data.clone();
            d.extend(format(message, sender));
            out.insert(name.to_owned(), d);
        }
        out
    }
}

/// The notification of a new message: the sender's name as title, a text
/// preview (or [`ATTACHMENT_BODY`]) as body.
pub fn notification(message: &Message, sender: &UserSummary) -> Notification {
    let body = match message.text.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.chars().take(PREVIEW_CHARS).collect(),
        _ => ATTACHMENT_BODY.to_owned(),
    };
    Notification {
        title: sender.name().to_owned(),
        body,
    }
}

/// The data payload of a new message's notification.
pub fn data(message: &Message) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "conversationId".to_owned(),
            message.conversation_id.to_string(),
        ),
        (
            "conversationUuid".to_owned(),
            message.conversation_uuid.to_string(),
        ),
        ("messageId".to_owned(), message.id.to_string()),
        ("messageUuid".to_owned(), message.uuid.to_string()),
        ("senderId".to_owned(), message.sender_id.as_str().to_owned()),
        ("kind".to_owned(), message.kind.as_str().to_owned()),
    ])
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("reading the FCM service account {path}: {source}")]
    ServiceAccountFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the FCM service account is not valid: {0}")]
    ServiceAccount(String),
    #[error("signing the OAuth assertion: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    #[error("building the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("{service} request failed: {source}")]
    Transport {
        service: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{service} answered {status}: {body}")]
    Status {
        service: &'static str,
        status: u16,
        body: String,
        /// The delay the service asked for (`Retry-After`).
        retry_after: Option<Duration>,
    },
    #[error("the OAuth token response is not valid: {0}")]
    TokenResponse(String),
    #[error("serializing the request: {0}")]
    Json(#[from] serde_json::Error),
    #[error("signing the webhook request: {0}")]
    Signature(String),
}

impl PushError {
    /// Worth another try: no answer, 408, 429 or 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            PushError::Transport { .. } => true,
            PushError::Status { status, .. } => is_transient_status(*status),
            _ => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            PushError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// 408, 429 and 5xx are retried; other statuses are final.
pub fn is_transient_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

/// A way to deliver a notification.
#[async_trait]
pub trait PushSender: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// Delivers `push`, retrying transient failures itself.
    async fn send(&self, push: &Push) -> Result<(), PushError>;
}

/// When to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries, the first included (at least 1).
    pub max_attempts: u32,
    pub initial: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    pub fn from_config(c: &PushConfig) -> Self {
        RetryPolicy {
            max_attempts: c.max_attempts.max(1),
            initial: Duration::from_millis(c.retry_initial_ms),
            max: Duration::from_millis(c.retry_max_ms.max(c.retry_initial_ms)),
        }
    }

    /// The wait after failed try number `attempt` (from 1): the service's
    /// `Retry-After` if it gave one, else `initial · 2^(attempt-1)` scaled by
    /// a random factor in [0.5, 1]; at most `max`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(d) = retry_after {
            return d.min(self.max);
        }
        let exp = self
            .initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max);
        exp.mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    /// Runs `op` until it succeeds, fails for good, or the tries run out.
    pub async fn run<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, PushError>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, PushError>>,
    {
        let mut attempt = 1;
        loop {
            match op(attempt).await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_transient() && attempt < self.max_attempts => {
                    let wait = self.delay(attempt, e.retry_after());
                    tracing::debug!(error = %e, attempt, ?wait, "{what}: retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Parses a `Retry-After` header: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The `Retry-After` of a response, if any.
pub(crate) fn retry_after_of(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

/// An HTTP client for the push services.
pub(crate) fn http_client(config: &PushConfig) -> Result<reqwest::Client, PushError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(config.timeout_secs))
        .connect_timeout(Duration::from_secs(config.timeout_secs))
        .user_agent(concat!("confab/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(PushError::Client)
}

/// The senders the config turns on (none when push is not configured).
pub fn senders(
    config: &PushConfig,
    service: &Service,
) -> Result<Vec<Arc<dyn PushSender>>, PushError> {
    let mut out: Vec<Arc<dyn PushSender>> = Vec::new();
    if config.fcm_service_account_file.is_some() {
        out.push(Arc::new(FcmSender::from_config(
            config,
            service.store().clone(),
        )?));
    }
    if let (Some(url), Some(secret)) = (&config.webhook_url, &config.webhook_secret) {
        out.push(Arc::new(WebhookSender::new(
            config,
            url.clone(),
            secret.clone(),
        )?));
    }
    Ok(out)
}

/// Starts push: the senders the config turns on and the workers, and returns
/// the sink to subscribe to the bus; `None` when no sender is configured.
/// `formats` are the push formats devices may be registered with.
pub fn start(
    config: &PushConfig,
    service: &Arc<Service>,
    formats: PushFormats,
) -> Result<Option<Arc<PushSink>>, PushError> {
    let senders = senders(config, service)?;
    if senders.is_empty() {
        return Ok(None);
    }
    tracing::info!(
        senders = ?senders.iter().map(|s| s.name()).collect::<Vec<_>>(),
        "push notifications on"
    );
    Ok(Some(PushSink::start(config, service, senders, formats)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::MessageKind;
    use uuid::Uuid;

    pub(crate) fn message(text: Option<&str>, attachments: &[&str]) -> Message {
        Message {
            id: 42,
            uuid: Uuid::nil(),
            conversation_id: 7,
            conversation_uuid: Uuid::from_u128(1),
            seq: 1,
            sender_id: UserId::parse("alice").expect("id"),
            kind: if attachments.is_empty() {
                MessageKind::Text
            } else {
                MessageKind::Image
            },
            declared_kind: None,
            text: text.map(str::to_owned),
            attachments: attachments.iter().map(|a| (*a).into()).collect(),
            client_id: None,
            created_at: 0,
            edited_at: None,
            deleted_at: None,
            external_id: None,
            conversation_external_id: None,
        }
    }

    fn sender(display: Option<&str>, username: Option<&str>) -> UserSummary {
        UserSummary {
            id: UserId::parse("alice").expect("id"),
            username: username.map(str::to_owned),
            display_name: display.map(str::to_owned),
            avatar_url: None,
        }
    }

    #[test]
    fn the_title_is_the_senders_best_name() {
        let m = message(Some("hi"), &[]);
        assert_eq!(
            notification(&m, &sender(Some("Alice A"), Some("al"))).title,
            "Alice A"
        );
        assert_eq!(notification(&m, &sender(None, Some("al"))).title, "al");
        assert_eq!(notification(&m, &sender(None, None)).title, "alice");
    }

    #[test]
    fn the_body_is_a_hundred_character_preview_or_an_attachment_note() {
        let long = "é".repeat(150);
        let n = notification(&message(Some(&long), &[]), &sender(None, None));
        assert_eq!(n.body.chars().count(), 100);
        let n = notification(&message(None, &["/uploads/a.webp"]), &sender(None, None));
        assert_eq!(n.body, ATTACHMENT_BODY);
        let n = notification(
            &message(Some("look"), &["/uploads/a.webp"]),
            &sender(None, None),
        );
        assert_eq!(n.body, "look");
    }

    #[test]
    fn the_data_is_all_strings_naming_the_message() {
        let d = data(&message(Some("hi"), &[]));
        assert_eq!(d["conversationId"], "7");
        assert_eq!(d["conversationUuid"], Uuid::from_u128(1).to_string());
        assert_eq!(d["messageId"], "42");
        assert_eq!(d["messageUuid"], Uuid::nil().to_string());
        assert_eq!(d["senderId"], "alice");
        assert_eq!(d["kind"], "text");
        assert_eq!(d.len(), 6);
    }

    #[test]
    fn delays_grow_with_jitter_and_honour_retry_after_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 5,
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let d1 = p.delay(1, None);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = p.delay(3, None);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            assert!(p.delay(30, None) <= Duration::from_secs(1));
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_millis(700))),
            Duration::from_millis(700)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(90))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        let d = parse_retry_after(&httpdate::fmt_http_date(later)).expect("date");
        assert!(d <= Duration::from_secs(30) && d >= Duration::from_secs(28));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn only_no_answer_408_429_and_5xx_are_retried() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_transient_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 413] {
            assert!(!is_transient_status(s), "{s}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn run_retries_transient_errors_until_the_tries_run_out() {
        let p = RetryPolicy {
            max_attempts: 3,
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
        };
        let status = |s: u16| PushError::Status {
            service: "test",
            status: s,
            body: String::new(),
            retry_after: None,
        };
        let mut tries = 0;
        let r: Result<(), _> = p
            .run("test", |_| {
                tries += 1;
                let e = status(503);
                async move { Err(e) }
            })
            .await;
        assert!(r.is_err());
        assert_eq!(tries, 3);

        let mut tries = 0;
        let r: Result<(), _> = p
            .run("test", |_| {
                tries += 1;
                let e = status(400);
                async move { Err(e) }
            })
            .await;
        assert!(r.is_err());
        assert_eq!(tries, 1, "a 400 is final");

        let r = p
            .run("test", |attempt| {
                let e = status(500);
                async move { if attempt < 2 { Err(e) } else { Ok(attempt) } }
            })
            .await;
        assert_eq!(r.ok(), Some(2));
    }

    #[test]
    fn the_push_config_is_validated() {
        let ok = PushConfig::default();
        assert!(ok.validate().is_ok());
        let cases: Vec<(PushConfig, &str)> = vec![
            (
                PushConfig {
                    webhook_url: Some("https://push.example.com/x".into()),
                    ..PushConfig::default()
                },
                "push.webhook_secret",
            ),
            (
                PushConfig {
                    webhook_url: Some("ftp://push.example.com/x".into()),
                    webhook_secret: Some("s".into()),
                    ..PushConfig::default()
                },
                "push.webhook_url",
            ),
            (
                PushConfig {
                    fcm_endpoint: "fcm.googleapis.com".into(),
                    ..PushConfig::default()
                },
                "push.fcm_endpoint",
            ),
            (
                PushConfig {
                    fcm_token_uri: Some(String::new()),
                    ..PushConfig::default()
                },
                "push.fcm_token_uri",
            ),
            (
                PushConfig {
                    max_attempts: 0,
                    ..PushConfig::default()
                },
                "push.max_attempts",
            ),
            (
                PushConfig {
                    workers: 0,
                    ..PushConfig::default()
                },
                "push.workers",
            ),
            (
                PushConfig {
                    retry_max_ms: 10,
                    ..PushConfig::default()
                },
                "push.retry_max_ms",
            ),
        ];
        for (c, key) in cases {
            let e = c.validate().expect_err(key).to_string();
            assert!(e.contains(key), "{key}: {e}");
        }
        let from_env = crate::config::Config::load(
            Some(std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/confab.example.toml"
            ))),
            [
                ("CONFAB_PUSH_WEBHOOK_URL", "https://push.example.com/hook"),
                ("CONFAB_PUSH_WEBHOOK_SECRET", "s3cret"),
                ("CONFAB_PUSH_MAX_ATTEMPTS", "3"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
            &[],
        )
        .expect("push keys from the environment");
        assert_eq!(
            from_env.push.webhook_url.as_deref(),
            Some("https://push.example.com/hook")
        );
        assert_eq!(from_env.push.webhook_secret.as_deref(), Some("s3cret"));
        assert_eq!(from_env.push.max_attempts, 3);
        let with_secret = PushConfig {
            webhook_secret: Some("top-secret".into()),
            ..PushConfig::default()
        };
        assert!(!format!("{with_secret:?}").contains("top-secret"));
    }
}
