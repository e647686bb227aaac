//! HS256 JWTs (`sub`, `name`, `exp`), signed by the generator with the secret
//! the server under test is started with, and checked by the ceiling.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Result, protocol};

type HmacSha256 = Hmac<Sha256>;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Signs tokens with one secret.
#[derive(Clone)]
pub struct Signer {
    secret: Vec<u8>,
    header_b64: String,
}

impl Signer {
    pub fn new(secret: &str) -> Self {
        Signer {
            secret: secret.as_bytes().to_vec(),
            header_b64: URL_SAFE_NO_PAD.encode(HEADER),
        }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length.
        match HmacSha256::new_from_slice(&self.secret) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of every length"),
        }
    }

    /// A token for `sub` named `name`, valid until `exp` (seconds since the epoch).
    pub fn sign(&self, sub: &str, name: &str, exp: u64) -> String {
        let claims = serde_json::json!({ "sub": sub, "name": name, "exp": exp });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{}.{}", self.header_b64, payload);
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    /// Checks an HS256 token's signature and expiry; returns its `sub`.
    pub fn verify(&self, token: &str, now: u64) -> Result<String> {
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        let (signing_input, sig) = token
            .rsplit_once('.')
            .ok_or_else(|| protocol("malformed token"))?;
        let (header, payload) = signing_input
            .split_once('.')
            .ok_or_else(|| protocol("malformed token"))?;
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(header)
                .map_err(|_| protocol("malformed token"))?,
        )?;
        if header["alg"] != "HS256" {
            return Err(protocol("token algorithm is not HS256"));
        }
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| protocol("malformed token"))?;
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&sig)
            .map_err(|_| protocol("invalid token signature"))?;
        let claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(payload)
                .map_err(|_| protocol("malformed token"))?,
        )?;
        match claims["exp"].as_u64() {
            Some(exp) if exp >= now => {}
            _ => return Err(protocol("token expired")),
        }
        claims["sub"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| protocol("token has no sub"))
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_with_the_same_secret_only() {
        let s = Signer::new("secret");
        let t = s.sign("alice", "Alice", 2_000_000_000);
        assert_eq!(t.split('.').count(), 3);
        assert_eq!(s.verify(&t, 1_000).unwrap(), "alice");
        assert_eq!(s.verify(&format!("Bearer {t}"), 1_000).unwrap(), "alice");
        assert!(Signer::new("other").verify(&t, 1_000).is_err());
        assert!(s.verify(&t, 2_000_000_001).is_err());
        assert!(s.verify("not-a-token", 0).is_err());
    }

    #[test]
    fn the_claims_are_sub_name_and_exp() {
        let t = Signer::new("k").sign("bob", "Bob", 42);
        let payload = t.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({"sub": "bob", "name": "Bob", "exp": 42})
        );
    }
}
