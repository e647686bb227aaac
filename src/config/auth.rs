//! The `[auth]` table: how tokens are verified and issued, and which of
//! their claims say who the user is.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::duration::DurationStr;
use super::error::{ConfigError, invalid, require_not_blank, require_positive};
pub use crate::core::login::Registration;

/// Upper bound of `auth.leeway_secs`.
pub const MAX_LEEWAY_SECS: u64 = 86_400;

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
    /// Claims that carry the user id, in order: the first one a token has
    /// names the user (a non-negative integer as its decimal string).
    pub user_id_claims: Vec<String>,
    /// Claims that carry the display name, in order: the first that is a
    /// non-empty string is used.
    pub name_claims: Vec<String>,
    /// Claims that carry the email, in order, as `name_claims`.
    pub email_claims: Vec<String>,
    /// Claims that carry the avatar URL, in order, as `name_claims`.
    pub avatar_claims: Vec<String>,
    /// Whether a token must carry `exp`. Off: a token without one never
    /// expires (a warning is logged at start); an `exp` a token has is
    /// still checked.
    pub require_exp: bool,
    /// `open`: the register routes of every dialect create password
    /// accounts; `closed`: they answer 403 (users come from tokens, or
    /// `confab user add`).
    pub registration: Registration,
    /// Failed logins of one login name within `login_failure_window` before
    /// its logins are refused (429) until the window ends; 0: no limit.
    pub login_failures_per_account: u32,
    /// Failed logins from one client address within `login_failure_window`
    /// before its logins are refused; 0: no limit.
    pub login_failures_per_address: u32,
    /// How long failed logins count, from the first.
    pub login_failure_window: DurationStr,
    /// Behind a reverse proxy: the request header whose last address is the
    /// client's (e.g. `X-Forwarded-For`). Unset: the connection's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip_header: Option<String>,
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
            user_id_claims: vec!["sub".into()],
            name_claims: vec!["name".into()],
            email_claims: vec!["email".into()],
            avatar_claims: vec!["picture".into(), "avatar".into()],
            require_exp: true,
            registration: Registration::Open,
            login_failures_per_account: 5,
            login_failures_per_address: 50,
            login_failure_window: DurationStr::from_secs(15 * 60),
            client_ip_header: None,
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
            .field("user_id_claims", &self.user_id_claims)
            .field("name_claims", &self.name_claims)
            .field("email_claims", &self.email_claims)
            .field("avatar_claims", &self.avatar_claims)
            .field("require_exp", &self.require_exp)
            .field("registration", &self.registration)
            .field(
                "login_failures_per_account",
                &self.login_failures_per_account,
            )
            .field(
                "login_failures_per_address",
                &self.login_failures_per_address,
            )
            .field("login_failure_window", &self.login_failure_window)
            .field("client_ip_header", &self.client_ip_header)
            .finish()
    }
}

impl AuthConfig {
    /// Checks the `auth.*` keys; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_not_blank(&[
            ("auth.jwt_secret", &self.jwt_secret),
            ("auth.issuer", &self.issuer),
            ("auth.audience", &self.audience),
            ("auth.client_ip_header", &self.client_ip_header),
        ])?;
        require_positive(&[
            ("auth.token_ttl", self.token_ttl.as_secs()),
            (
                "auth.login_failure_window",
                self.login_failure_window.as_secs(),
            ),
        ])?;
        if let Some(h) = &self.client_ip_header
            && http::HeaderName::from_bytes(h.as_bytes()).is_err()
        {
            return Err(invalid(
                "auth.client_ip_header",
                format!("{h:?} is not a header name"),
            ));
        }
        if self.leeway_secs > MAX_LEEWAY_SECS {
            return Err(invalid(
                "auth.leeway_secs",
                format!("must be at most {MAX_LEEWAY_SECS}"),
            ));
        }
        check_claims("auth.user_id_claims", &self.user_id_claims, true)?;
        check_claims("auth.name_claims", &self.name_claims, false)?;
        check_claims("auth.email_claims", &self.email_claims, false)?;
        check_claims("auth.avatar_claims", &self.avatar_claims, false)
    }
}

/// Checks a list of claim names: none blank, none twice, and (`required`)
/// at least one.
pub(super) fn check_claims(
    key: &str,
    claims: &[String],
    required: bool,
) -> Result<(), ConfigError> {
    if required && claims.is_empty() {
        return Err(invalid(key, "must name at least one claim"));
    }
    for (i, claim) in claims.iter().enumerate() {
        if claim.trim().is_empty() || claim.trim() != claim {
            return Err(invalid(
                key,
                format!("{claim:?} is not a claim name (empty, or spaces around it)"),
            ));
        }
        if claims[..i].contains(claim) {
            return Err(invalid(key, format!("names {claim:?} twice")));
        }
    }
    Ok(())
}
