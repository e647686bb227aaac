//! Verifying a token: the key chosen by the header's `alg`, the registered
//! claims checked, and the [`Identity`] read from the claims by the
//! [`super::ClaimRules`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::{Identity, JwtKeys, MAX_TOKEN_BYTES};
use crate::auth::AuthError;

impl JwtKeys {
    /// Verifies a token given raw or as `Bearer <token>` (scheme
    /// case-insensitive, whitespace trimmed) and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let token = strip_bearer(token);
        if token.is_empty() {
            return Err(AuthError::MissingToken);
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed);
        }
        let alg = header_alg(token)?;
        let keys: Vec<&DecodingKey> = match alg {
            Algorithm::HS256 => vec![&self.hs_decoding],
            Algorithm::RS256 => self.rsa.iter().collect(),
            Algorithm::ES256 => self.ec.iter().collect(),
            _ => Vec::new(),
        };
        if keys.is_empty() {
            return Err(AuthError::AlgorithmNotAccepted);
        }
        let validation = self.validation(alg);
        let mut last = AuthError::InvalidSignature;
        for key in keys {
            match jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation) {
                Ok(data) => return self.claims.identity(&data.claims),
                Err(e) => {
                    last = map_jwt_error(e.kind());
                    if !matches!(last, AuthError::InvalidSignature) {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = self.leeway_secs;
        v.validate_exp = true;
        v.validate_nbf = true;
        let mut required = Vec::new();
        if self.claims.require_exp {
            required.push("exp");
        }
        if let Some(iss) = &self.issuer {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        if let Some(aud) = &self.audience {
            v.set_audience(&[aud]);
            v.validate_aud = true;
            required.push("aud");
        } else {
            v.validate_aud = false;
        }
        v.set_required_spec_claims(&required);
        v
    }
}

/// `"  Bearer  abc "` → `"abc"`; `"abc"` → `"abc"`.
fn strip_bearer(token: &str) -> &str {
    let token = token.trim();
    if token.eq_ignore_ascii_case("bearer") {
        return "";
    }
    match token.get(..7) {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("bearer ")
                || scheme.eq_ignore_ascii_case("bearer\t") =>
        {
            token[7..].trim()
        }
        _ => token,
    }
}

/// Reads `alg` from the (unverified) header, refusing anything that is not
/// HS256, RS256 or ES256 and headers with `crit` extensions we do not know.
fn header_alg(token: &str) -> Result<Algorithm, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    let header: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)?;
    if header.contains_key("crit") {
        return Err(AuthError::Malformed);
    }
    match header.get("alg").and_then(Value::as_str) {
        Some("HS256") => Ok(Algorithm::HS256),
        Some("RS256") => Ok(Algorithm::RS256),
        Some("ES256") => Ok(Algorithm::ES256),
        Some(_) => Err(AuthError::AlgorithmNotAccepted),
        None => Err(AuthError::Malformed),
    }
}

fn map_jwt_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => AuthError::InvalidSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::IssuerNotAccepted,
        ErrorKind::InvalidAudience => AuthError::AudienceNotAccepted,
        ErrorKind::InvalidSubject => AuthError::InvalidSubject,
        ErrorKind::MissingRequiredClaim(c) | ErrorKind::InvalidClaimFormat(c) => {
            AuthError::InvalidClaim(c.clone())
        }
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName => AuthError::AlgorithmNotAccepted,
        _ => AuthError::Malformed,
    }
}
