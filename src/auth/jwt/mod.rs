//! JWT verification (HS256 with confab's secret, RS256/ES256 with configured
//! public keys of another issuer) and issuing (HS256).
//!
//! Decisions:
//! - The key is chosen by the header's `alg`: `HS256` → the secret, `RS256` →
//!   the RSA public keys, `ES256` → the P-256 public keys. Any other `alg`
//!   (`none`, `HS512`, `PS256`, ...) is refused, and so is an `alg` for which no
//!   key is configured. An RSA public key is never used as an HMAC secret, so
//!   algorithm confusion is impossible.
//! - `exp` is required (unless `auth.require_exp` is off) and must be a
//!   number (a string `exp` is refused); an `exp` a token has is checked even
//!   when it is not required; `nbf` is checked when present; both with
//!   `auth.leeway_secs` of leeway.
//! - `iss` / `aud` are required and checked only when `auth.issuer` /
//!   `auth.audience` are configured; otherwise they are ignored.
//! - The user id is the first of `auth.user_id_claims` (default `sub`) that
//!   the token has; it must be 1..=128 bytes of `[A-Za-z0-9._:@-]`. A
//!   non-negative integer (some issuers use numeric ids) is accepted as its
//!   decimal string; an object, an array or a boolean is refused naming the
//!   claim. A token with none of the claims is refused naming them all.
//! - The display name, the email and the avatar are the first non-empty
//!   string of `auth.name_claims` (`name`), `auth.email_claims` (`email`) and
//!   `auth.avatar_claims` (`picture`, `avatar`); other values are ignored.
//! - A dialect's `dialects.<name>.auth` table overrides these claim keys and
//!   `require_exp` for its listener ([`JwtKeys::for_dialect`]): the keys and
//!   the registered-claim checks stay the same.
//! - Tokens confab issues carry the user id in `sub`.
//! - The secret file is used as text (trimmed): the same string can be given
//!   to another system as its HS256 secret.
//!
//! [`JwtKeys`] is defined here; where its keys come from is in `keys`,
//! verifying in `verify`, which claims name the user in `claims`, issuing in
//! `issue`.

mod claims;
mod issue;
mod keys;
mod verify;

pub use claims::ClaimRules;

use std::fmt;

use jsonwebtoken::{DecodingKey, EncodingKey};

use crate::config::{AuthConfig, DialectAuthConfig, MAX_LEEWAY_SECS};

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
    /// The `iat` claim (seconds since the epoch), if the token has one:
    /// compared with a user's `tokens_valid_after`.
    pub issued_at: Option<u64>,
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
    claims: ClaimRules,
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
            .field("claims", &self.claims)
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
            claims: ClaimRules::of(auth),
        }
    }

    /// These keys, reading tokens by the claims `dialect`'s listener maps
    /// otherwise (`dialects.<dialect>.auth`). Logs a warning when that
    /// listener accepts tokens without `exp`.
    pub fn for_dialect(&self, dialect: &str, overrides: &DialectAuthConfig) -> Self {
        let claims = self.claims.overridden(overrides);
        if !claims.require_exp {
            tracing::warn!(
                dialect,
                "tokens without `exp` are accepted (require_exp = false): such a token \
                 stays valid until the key that signed it changes"
            );
        }
        JwtKeys {
            claims,
            ..self.clone()
        }
    }

    /// How this verifier reads the identity from a token's claims.
    pub fn claims(&self) -> &ClaimRules {
        &self.claims
    }
}

#[cfg(test)]
mod tests;
