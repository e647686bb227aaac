//! Issuing confab's own tokens (HS256).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Header};
use serde_json::{Map, Value};

use super::{JwtKeys, is_valid_user_id};
use crate::auth::AuthError;

impl JwtKeys {
    /// Signs an HS256 token: `sub`, `name` (if given), `iat`, `nbf`,
    /// `exp = now + ttl`, and `iss`/`aud` from config if set.
    pub fn issue(
        &self,
        user_id: &str,
        name: Option<&str>,
        ttl: Duration,
    ) -> Result<String, AuthError> {
        if !is_valid_user_id(user_id) {
            return Err(AuthError::InvalidSubject);
        }
        let now = now_secs();
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::from(user_id));
        if let Some(name) = name {
            claims.insert("name".into(), Value::from(name));
        }
        claims.insert("iat".into(), Value::from(now));
        claims.insert("nbf".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(now.saturating_add(ttl.as_secs())));
        if let Some(iss) = &self.issuer {
            claims.insert("iss".into(), Value::from(iss.as_str()));
        }
        if let Some(aud) = &self.audience {
            claims.insert("aud".into(), Value::from(aud.as_str()));
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.hs_encoding)
            .map_err(|e| AuthError::Signing(e.to_string()))
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(super) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
