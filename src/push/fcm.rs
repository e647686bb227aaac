//! Firebase Cloud Messaging, HTTP v1 API, authenticated as a Google service
//! account.
//!
//! OAuth: an RS256 JWT assertion signed with the account's private key
//! (`iss` = `client_email`, `scope` = [`SCOPE`], `aud` = the token URI, one
//! hour) is exchanged at the token URI for an access token, which is cached
//! until a minute before it expires and fetched again once if FCM answers
//! 401. One request per device token goes to
//! `{endpoint}/v1/projects/{project_id}/messages:send`. A token FCM reports
//! as unregistered (404 `UNREGISTERED`) or invalid (400 `INVALID_ARGUMENT`
//! about the token) is removed from the store. 408, 429 and 5xx are retried
//! with backoff, honouring `Retry-After`.

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;
use std::time::{Duration, Instant};

use super::{Push, PushError, PushSender, RetryPolicy, http_client, retry_after_of};
use crate::config::PushConfig;
use crate::core::Device;
use crate::core::ports::DynStore;

/// The OAuth scope FCM needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Google's token URI, when the service account names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The JWT-bearer grant type (RFC 7523).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Lifetime of an assertion, seconds (Google's maximum).
const ASSERTION_TTL_SECS: u64 = 3_600;
/// A cached access token is replaced this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Error bodies are kept up to this many characters.
const MAX_ERROR_BODY: usize = 1_000;

/// The fields of a Google service-account key file that FCM needs.
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    /// PEM (PKCS#8) RSA private key.
    pub private_key: String,
    #[serde(default)]
    pub private_key_id: Option<String>,
    pub project_id: String,
    #[serde(default)]
    pub token_uri: Option<String>,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key", &"[redacted]")
            .field("private_key_id", &self.private_key_id)
            .field("project_id", &self.project_id)
            .field("token_uri", &self.token_uri)
            .finish()
    }
}

impl ServiceAccount {
    pub fn parse(json: &str) -> Result<Self, PushError> {
        serde_json::from_str(json).map_err(|e| PushError::ServiceAccount(e.to_string()))
    }
}

/// The claims of the OAuth assertion.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AssertionClaims {
    pub iss: String,
    pub scope: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Clone)]
struct CachedToken {
    value: String,
    refresh_at: Instant,
}

/// What FCM's answer to one send means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// The access token was refused: fetch a new one and try again once.
    Unauthorized,
    /// The device token is dead: forget it.
    DeadToken,
    /// Try again later.
    Retry,
    /// Give up.
    Fail,
}

/// Reads FCM's answer: status and JSON error body.
pub fn verdict(status: u16, body: &Value) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        401 => Verdict::Unauthorized,
        404 if error_code_is(body, "UNREGISTERED") => Verdict::DeadToken,
        400 if error_code_is(body, "INVALID_ARGUMENT") && about_the_token(body) => {
            Verdict::DeadToken
        }
        s if super::is_transient_status(s) => Verdict::Retry,
        _ => Verdict::Fail,
    }
}

/// The error's `status`, or an `errorCode` of its FcmError details, is `code`.
fn error_code_is(body: &Value, code: &str) -> bool {
    let error = &body["error"];
    error["status"].as_str() == Some(code)
        || details(error).any(|d| d["errorCode"].as_str() == Some(code))
}

fn details(error: &Value) -> impl Iterator<Item = &Value> {
    error["details"].as_array().into_iter().flatten()
}

/// An INVALID_ARGUMENT blames the registration token: a field violation on
/// `message.token`, or a message naming the registration token.
fn about_the_token(body: &Value) -> bool {
    let error = &body["error"];
    let field_violation = details(error)
        .filter_map(|d| d["fieldViolations"].as_array())
        .flatten()
        .any(|v| v["field"].as_str() == Some("message.token"));
    let message = error["message"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    field_violation || message.contains("registration token")
}

/// The FCM HTTP v1 sender.
pub struct FcmSender {
    http: reqwest::Client,
    client_email: String,
    private_key_id: Option<String>,
    key: EncodingKey,
    token_uri: String,
    send_url: String,
    store: DynStore,
    retry: RetryPolicy,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

impl FcmSender {
    /// Reads `push.fcm_service_account_file` and builds the sender.
    pub fn from_config(config: &PushConfig, store: DynStore) -> Result<Self, PushError> {
        let Some(path) = &config.fcm_service_account_file else {
            return Err(PushError::ServiceAccount(
                "push.fcm_service_account_file is not set".into(),
            ));
        };
        let text =
            std::fs::read_to_string(path).map_err(|source| PushError::ServiceAccountFile {
                path: path.clone(),
                source,
            })?;
        Self::new(ServiceAccount::parse(&text)?, config, store)
    }

    pub fn new(
        account: ServiceAccount,
        config: &PushConfig,
        store: DynStore,
    ) -> Result<Self, PushError> {
        let project = &account.project_id;
        if project.is_empty()
            || !project
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
        {
            return Err(PushError::ServiceAccount(format!(
                "project_id {project:?} is not a project id"
            )));
        }
        if account.client_email.trim().is_empty() {
            return Err(PushError::ServiceAccount("client_email is empty".into()));
        }
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|e| PushError::ServiceAccount(format!("private_key: {e}")))?;
        let token_uri = config
            .fcm_token_uri
            .clone()
            .or(account.token_uri)
            .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
        let send_url = format!(
            "{}/v1/projects/{project}/messages:send",
            config.fcm_endpoint.trim_end_matches('/')
        );
        Ok(FcmSender {
            http: http_client(config)?,
            client_email: account.client_email,
            private_key_id: account.private_key_id,
            key,
            token_uri,
            send_url,
            store,
            retry: RetryPolicy::from_config(config),
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// The signed assertion exchanged for an access token.
    pub fn assertion(&self, now_secs: u64) -> Result<String, PushError> {
        let claims = AssertionClaims {
            iss: self.client_email.clone(),
            scope: SCOPE.to_owned(),
            aud: self.token_uri.clone(),
            iat: now_secs,
            exp: now_secs + ASSERTION_TTL_SECS,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.private_key_id.clone();
        Ok(jsonwebtoken::encode(&header, &claims, &self.key)?)
    }

    /// A valid access token: the cached one unless it is about to expire or
    /// is `stale` (refused by FCM), else a new one. Concurrent callers wait
    /// for one fetch.
    async fn access_token(&self, stale: Option<&str>) -> Result<String, PushError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref()
            && stale != Some(t.value.as_str())
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let fresh = self
            .retry
            .run("FCM OAuth token", |_| self.fetch_token())
            .await?;
        *cached = Some(fresh.clone());
        Ok(fresh.value)
    }

    async fn fetch_token(&self) -> Result<CachedToken, PushError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let assertion = self.assertion(now)?;
        let transport = |source| PushError::Transport {
            service: "FCM OAuth",
            source,
        };
        let resp = self
            .http
            .post(&self.token_uri)
            .form(&[
                ("grant_type", GRANT_TYPE),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status().as_u16();
        let retry_after = retry_after_of(resp.headers());
        let text = resp.text().await.map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(PushError::Status {
                service: "FCM OAuth",
                status,
                body: truncate(&text),
                retry_after,
            });
        }
        let token: TokenResponse =
            serde_json::from_str(&text).map_err(|e| PushError::TokenResponse(e.to_string()))?;
        if token.access_token.is_empty() {
            return Err(PushError::TokenResponse("empty access_token".into()));
        }
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(ASSERTION_TTL_SECS));
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        Ok(CachedToken {
            value: token.access_token,
            refresh_at: Instant::now() + (lifetime - margin),
        })
    }

    /// The request body for one device.
    pub fn message(device: &Device, push: &Push) -> Value {
        json!({
            "message": {
                "token": device.token,
                "notification": {
                    "title": push.notification.title,
                    "body": push.notification.body,
                },
                "data": push.data_for(device),
                "android": { "priority": "high" },
                "apns": { "headers": { "apns-priority": "10" } },
            }
        })
    }

    /// Sends to one device; a dead token is removed and counts as done.
    async fn send_one(&self, device: &Device, push: &Push) -> Result<(), PushError> {
        let body = Self::message(device, push);
        let mut attempt = 1;
        let mut stale: Option<String> = None;
        let mut refreshed = false;
        loop {
            let token = self.access_token(stale.as_deref()).await?;
            let (status, retry_after, text) = match self.post(&token, &body).await {
                Ok(answer) => answer,
                Err(e) if attempt < self.retry.max_attempts => {
                    tracing::debug!(error = %e, attempt, "FCM send: retrying");
                    tokio::time::sleep(self.retry.delay(attempt, None)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let failure = || PushError::Status {
                service: "FCM",
                status,
                body: truncate(&text),
                retry_after,
            };
            match verdict(status, &json) {
                Verdict::Delivered => return Ok(()),
                Verdict::Unauthorized if !refreshed => {
                    refreshed = true;
                    stale = Some(token);
                }
                Verdict::DeadToken => {
                    match self.store.remove_device_token(&device.token).await {
                        Ok(_) => tracing::info!(
                            user = %device.user_id,
                            status,
                            "FCM: removed a dead device token"
                        ),
                        Err(e) => tracing::warn!(
                            user = %device.user_id,
                            error = %e,
                            "FCM: removing a dead device token failed"
                        ),
                    }
                    return Ok(());
                }
                Verdict::Retry if attempt < self.retry.max_attempts => {
                    let wait = self.retry.delay(attempt, retry_after);
                    tracing::debug!(status, attempt, ?wait, "FCM send: retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Verdict::Unauthorized | Verdict::Retry | Verdict::Fail => return Err(failure()),
            }
        }
    }

    async fn post(
        &self,
        token: &str,
        body: &Value,
    ) -> Result<(u16, Option<Duration>, String), PushError> {
        let transport = |source| PushError::Transport {
            service: "FCM",
            source,
        };
        let resp = self
            .http
            .post(&self.send_url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status().as_u16();
        let retry_after = retry_after_of(resp.headers());
        let text = resp.text().await.map_err(transport)?;
        Ok((status, retry_after, text))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(MAX_ERROR_BODY).collect()
}

#[async_trait]
impl PushSender for FcmSender {
    fn name(&self) -> &'static str {
        "fcm"
    }

    /// Sends to every device of the recipient concurrently; fails with the
    /// first device that failed for good.
    async fn send(&self, push: &Push) -> Result<(), PushError> {
        let results =
            futures::future::join_all(push.devices.iter().map(|d| self.send_one(d, push))).await;
        results.into_iter().collect::<Result<Vec<()>, _>>()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unregistered_and_invalid_tokens_are_dead_and_other_errors_are_not() {
        let unregistered = json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
        assert_eq!(verdict(404, &unregistered), Verdict::DeadToken);
        assert_eq!(
            verdict(404, &json!({"error": {"status": "NOT_FOUND"}})),
            Verdict::Fail,
            "a 404 without UNREGISTERED (a wrong project) keeps the token"
        );

        let bad_token = json!({"error": {"code": 400, "message": "The registration token is not a valid FCM registration token", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"}]}});
        assert_eq!(verdict(400, &bad_token), Verdict::DeadToken);
        let field = json!({"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}]}]}});
        assert_eq!(verdict(400, &field), Verdict::DeadToken);
        let bad_data = json!({"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "message.data[0].key"}]}]}});
        assert_eq!(verdict(400, &bad_data), Verdict::Fail);

        assert_eq!(verdict(200, &Value::Null), Verdict::Delivered);
        assert_eq!(verdict(401, &Value::Null), Verdict::Unauthorized);
        assert_eq!(verdict(429, &Value::Null), Verdict::Retry);
        assert_eq!(verdict(503, &Value::Null), Verdict::Retry);
        assert_eq!(verdict(403, &Value::Null), Verdict::Fail);
    }

    #[test]
    fn a_service_account_without_a_valid_key_is_refused_and_never_printed() {
        let account = ServiceAccount::parse(
            r#"{"type": "service_account", "project_id": "demo", "private_key_id": "k1",
                "private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
                "client_email": "push@demo.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"}"#,
        )
        .expect("parses");
        assert!(!format!("{account:?}").contains("not a key"));
        assert_eq!(account.token_uri.as_deref(), Some(DEFAULT_TOKEN_URI));
        assert!(ServiceAccount::parse("{}").is_err());
        assert!(ServiceAccount::parse("not json").is_err());
    }

    #[tokio::test]
    async fn a_sender_needs_an_rsa_key_and_a_project_id() {
        let store = crate::store::open("sqlite::memory:").await.expect("store");
        let account = |key: &str, project: &str| ServiceAccount {
            client_email: "push@demo.iam.gserviceaccount.com".into(),
            private_key: key.into(),
            private_key_id: None,
            project_id: project.into(),
            token_uri: None,
        };
        let config = PushConfig::default();
        let bad_key = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
        let e = FcmSender::new(account(bad_key, "demo"), &config, store.clone())
            .err()
            .expect("a bad key is refused")
            .to_string();
        assert!(e.contains("private_key"), "{e}");
        let e = FcmSender::new(account(bad_key, "demo/../x"), &config, store)
            .err()
            .expect("a bad project is refused")
            .to_string();
        assert!(e.contains("project_id"), "{e}");
    }
}
