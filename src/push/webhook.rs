//! A signed webhook: every notification is POSTed as JSON to a service of
//! your own, which delivers it however it likes (APNs directly, OneSignal,
//! SMS, …).
//!
//! Body: `{"recipient", "devices": [{"token", "platform"}], "notification":
//! {"title", "body"}, "data": {...}}` (`devices` may be empty: the receiver
//! may keep its own registry). A device registered with a known push format
//! also has `"pushFormat"` and its `"data"` in that format. Headers: `X-Confab-Timestamp` (unix seconds)
//! and `X-Confab-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`
//! keyed with `push.webhook_secret`. A receiver checks the signature over the
//! raw body and refuses old timestamps. Any 2xx is success; 408, 429, 5xx
//! and no answer are retried (a retry is signed again with a new timestamp);
//! other statuses are final.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::collections::BTreeMap;

use super::{Notification, Push, PushError, PushSender, RetryPolicy, http_client, retry_after_of};
use crate::config::PushConfig;

pub const TIMESTAMP_HEADER: &str = "X-Confab-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Confab-Signature";

#[derive(Serialize)]
struct Body<'a> {
    recipient: &'a str,
    devices: Vec<DeviceJson<'a>>,
    notification: &'a Notification,
    data: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceJson<'a> {
    token: &'a str,
    platform: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    push_format: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a BTreeMap<String, String>>,
}

/// `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub fn signature(secret: &[u8], timestamp: u64, body: &[u8]) -> Result<String, PushError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .map_err(|e| PushError::Signature(e.to_string()))?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// The webhook sender.
pub struct WebhookSender {
    http: reqwest::Client,
    url: String,
    secret: Vec<u8>,
    retry: RetryPolicy,
}

impl WebhookSender {
    pub fn new(config: &PushConfig, url: String, secret: String) -> Result<Self, PushError> {
        Ok(WebhookSender {
            http: http_client(config)?,
            url,
            secret: secret.into_bytes(),
            retry: RetryPolicy::from_config(config),
        })
    }

    /// The JSON body of a push.
    pub fn body(push: &Push) -> Result<Vec<u8>, PushError> {
        let body = Body {
            recipient: push.recipient.as_str(),
            devices: push
                .devices
                .iter()
                .map(|d| {
                    let format = d
                        .push_format
                        .as_deref()
                        .filter(|f| push.formatted.contains_key(*f));
                    DeviceJson {
                        token: &d.token,
                        platform: d.platform.as_str(),
                        push_format: format,
                        data: format.map(|_| push.data_for(d)),
                    }
                })
                .collect(),
            notification: &push.notification,
            data: &push.data,
        };
        Ok(serde_json::to_vec(&body)?)
    }

    async fn post(&self, body: &[u8]) -> Result<(), PushError> {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let signature = signature(&self.secret, timestamp, body)?;
        let transport = |source| PushError::Transport {
            service: "webhook",
            source,
        };
        let resp = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = retry_after_of(resp.headers());
        let text = resp.text().await.unwrap_or_default();
        Err(PushError::Status {
            service: "webhook",
            status: status.as_u16(),
            body: text.chars().take(1_000).collect(),
            retry_after,
        })
    }
}

#[async_trait]
impl PushSender for WebhookSender {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, push: &Push) -> Result<(), PushError> {
        let body = Self::body(push)?;
        self.retry.run("webhook", |_| self.post(&body)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Device, DevicePlatform, UserId};

    #[test]
    fn the_signature_is_an_hmac_of_timestamp_dot_body() {
        // HMAC-SHA256("key", "1700000000.{}") computed independently:
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        let sig = signature(b"key", 1_700_000_000, b"{}").expect("signs");
        assert_eq!(
            sig,
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn the_body_names_the_recipient_devices_notification_and_data() {
        let push = Push {
            recipient: UserId::parse("bob").expect("id"),
            devices: vec![
                Device {
                    user_id: UserId::parse("bob").expect("id"),
                    token: "t1".into(),
                    platform: DevicePlatform::Ios,
                    created_at: 0,
                    push_format: None,
                },
                Device {
                    user_id: UserId::parse("bob").expect("id"),
                    token: "t2".into(),
                    platform: DevicePlatform::Android,
                    created_at: 0,
                    push_format: Some("app".into()),
                },
            ],
            notification: Notification {
                title: "Alice".into(),
                body: "hi".into(),
            },
            data: BTreeMap::from([("messageId".to_owned(), "1".to_owned())]),
            formatted: BTreeMap::from([(
                "app".to_owned(),
                BTreeMap::from([
                    ("messageId".to_owned(), "1".to_owned()),
                    ("roomId".to_owned(), "3".to_owned()),
                ]),
            )]),
        };
        let v: serde_json::Value =
            serde_json::from_slice(&WebhookSender::body(&push).expect("body")).expect("json");
        assert_eq!(
            v,
            serde_json::json!({
                "recipient": "bob",
                "devices": [
                    {"token": "t1", "platform": "ios"},
                    {"token": "t2", "platform": "android", "pushFormat": "app",
                     "data": {"messageId": "1", "roomId": "3"}},
                ],
                "notification": {"title": "Alice", "body": "hi"},
                "data": {"messageId": "1"},
            })
        );
    }
}
