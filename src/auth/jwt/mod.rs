//! JWT verification (HS256 with confab's secret, RS256/ES256 with configured
//! public keys of another issuer) and issuing (HS256).
//!
//! Decisions:
//! - The key is chosen by the header's `alg`: `HS256` → the secret, `RS256` →
//!   the RSA public keys, `ES256` → the P-256 public keys. Any other `alg`
//!   (`none`, `HS512`, `PS256`, ...) is refused, and so is an `alg` for which no
//!   key is configured. An RSA public key is never used as an HMAC secret, so
//!   algorithm confusion is impossible.
//! - `exp` is required and must be a number (a string `exp` is refused); `nbf`
//!   is checked when present; both with `auth.leeway_secs` of leeway.
//! - `iss` / `aud` are required and checked only when `auth.issuer` /
//!   `auth.audience` are configured; otherwise they are ignored.
//! - `sub` must be a user id: 1..=128 bytes of `[A-Za-z0-9._:@-]`. A
//!   non-negative integer `sub` (some issuers use numeric ids) is accepted as
//!   its decimal string.
//! - `name`, `picture` (or `avatar`) and `email` are optional; a claim that is
//!   not a non-empty string is ignored.
//! - The secret file is used as text (trimmed): the same string can be given
//!   to another system as its HS256 secret.
//!
//! [`JwtKeys`] is defined here; where its keys come from is in `keys`,
//! verifying in `verify`, issuing in `issue`.

mod issue;
mod keys;
mod verify;

use std::fmt;

use jsonwebtoken::{DecodingKey, EncodingKey};

use crate::config::{AuthConfig, MAX_LEEWAY_SECS};

/// Tokens longer than this are refused as malformed before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// HS256 secrets shorter than this are accepted (other systems may already use
/// them) but logged as weak.
pub const MIN_SECRET_BYTES: usize = 32;
/// File name of the generated secret inside the data directory.
pub const SECRET_FILE_NAME: &str = "jwt-secret";

/// Who a verified token says the client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    pub email: Option<String>,
}

/// True if `s` is a valid user id: 1..=128 bytes of `[A-Za-z0-9._:@-]`.
pub fn is_valid_user_id(s: &str) -> bool {
    crate::core::UserId::is_valid(s)
}

/// Verifier and issuer of tokens.
#[derive(Clone)]
pub struct JwtKeys {
    hs_encoding: EncodingKey,
    hs_decoding: DecodingKey,
    rsa: Vec<DecodingKey>,
    ec: Vec<DecodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway_secs: u64,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("hs256_secret", &"[redacted]")
            .field("rsa_keys", &self.rsa.len())
            .field("ec_keys", &self.ec.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_secs", &self.leeway_secs)
            .finish()
    }
}

impl JwtKeys {
    /// A verifier/issuer with this HS256 secret and the issuer, audience and
    /// leeway of `auth`; `auth`'s secret and key files are not read.
    pub fn from_secret(secret: &[u8], auth: &AuthConfig) -> Self {
        JwtKeys {
            hs_encoding: EncodingKey::from_secret(secret),
            hs_decoding: DecodingKey::from_secret(secret),
            rsa: Vec::new(),
            ec: Vec::new(),
            issuer: auth.issuer.clone(),
            audience: auth.audience.clone(),
            leeway_secs: auth.leeway_secs.min(MAX_LEEWAY_SECS),
        }
    }
}

#[cfg(test)]
mod tests;
