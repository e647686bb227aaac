//! Authentication: JWT verification and issuing ([`jwt`]). (Password
//! hashing is the core's: [`crate::core::password`].)
//!
//! The `Display` text of the client-facing [`AuthError`] variants is shown to
//! clients as is (Socket.IO `connect_error`, HTTP 401 bodies), so it is short,
//! human and never leaks key material or internal paths. Setup errors
//! ([`AuthError::is_setup_error`]) are for the operator at start-up.

pub mod jwt;
pub mod session;

use std::path::PathBuf;

/// Everything that can go wrong while authenticating a client or setting up
/// the keys.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    // ---- shown to clients -------------------------------------------------
    /// No token in the handshake.
    #[error("missing token: send `Authorization: Bearer <jwt>` or `auth.token`")]
    MissingToken,
    /// No token in a Socket.IO handshake: `places` says everywhere the
    /// dialect's clients may put it (`Handshake::token_places`).
    #[error("missing token: send it as {places}")]
    MissingHandshakeToken { places: &'static str },
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// The signature does not match any configured key.
    #[error("invalid token signature")]
    InvalidSignature,
    /// Not a JWT (three base64url parts, JSON header and claims).
    #[error("malformed token")]
    Malformed,
    /// `alg` is not one of the accepted algorithms for which a key is configured
    /// (`none` is never accepted).
    #[error("token algorithm not accepted")]
    AlgorithmNotAccepted,
    /// `iss` does not match `auth.issuer`.
    #[error("token issuer not accepted")]
    IssuerNotAccepted,
    /// `aud` does not match `auth.audience`.
    #[error("token audience not accepted")]
    AudienceNotAccepted,
    /// A user id to put in a token (or read from one) is not 1..=128 bytes
    /// of `[A-Za-z0-9._:@-]`.
    #[error("token subject is not a valid user id")]
    InvalidSubject,
    /// The token has none of the claims that may carry the user id
    /// (`auth.user_id_claims`, or the dialect's); they are listed.
    #[error(
        "token has no user id: none of the claims {} is set (see auth.user_id_claims)",
        claim_list(.0)
    )]
    NoUserIdClaim(Vec<String>),
    /// The claim that carries the user id holds something else than a user
    /// id (an object, a negative number, a string with a space, ...).
    #[error("token claim `{claim}` is not a valid user id: {reason}")]
    InvalidUserId { claim: String, reason: &'static str },
    /// A registered claim that must be there (`exp`, or `iss`/`aud` when
    /// configured) is missing or has the wrong type (e.g. a string `exp`).
    #[error("token claim `{0}` is missing or invalid")]
    InvalidClaim(String),

    // ---- setup / server side ----------------------------------------------
    /// A key or secret file could not be read or written.
    #[error("{path}: {source}")]
    KeyIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A key or secret is unusable (empty secret, not a public key, wrong curve, ...).
    #[error("{what}: {reason}")]
    InvalidKey { what: String, reason: String },
    /// Signing a token failed.
    #[error("could not sign token: {0}")]
    Signing(String),
    /// No secret is configured and the data directory has no generated one
    /// (refused where a new one must not be invented: `confab token`).
    #[error(
        "no JWT secret: none is configured and {path} does not exist. The server keeps the \
         secret it generated in <data_dir>/jwt-secret: run this with the server's data \
         directory (--data-dir DIR, data_dir in the config file, or CONFAB_DATA_DIR), or \
         point at the server's secret with auth.jwt_secret_file (CONFAB_AUTH_JWT_SECRET_FILE) \
         or auth.jwt_secret (CONFAB_AUTH_JWT_SECRET)"
    )]
    NoSecret { path: PathBuf },
}

/// `` `sub`, `userId` ``.
fn claim_list(claims: &[String]) -> String {
    let quoted: Vec<String> = claims.iter().map(|c| format!("`{c}`")).collect();
    quoted.join(", ")
}

impl AuthError {
    /// True for errors about the server's own keys or crypto (log them, answer
    /// the client with a generic error); false for errors about the client's
    /// credentials (show them to the client).
    pub fn is_setup_error(&self) -> bool {
        matches!(
            self,
            AuthError::KeyIo { .. }
                | AuthError::InvalidKey { .. }
                | AuthError::Signing(_)
                | AuthError::NoSecret { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_not_setup_errors() {
        assert!(!AuthError::Expired.is_setup_error());
        assert!(!AuthError::MissingToken.is_setup_error());
        assert!(AuthError::Signing("x".into()).is_setup_error());
    }

    #[test]
    fn the_missing_user_id_message_names_the_claims_looked_for() {
        let e = AuthError::NoUserIdClaim(vec!["sub".into(), "userId".into()]);
        assert_eq!(
            e.to_string(),
            "token has no user id: none of the claims `sub`, `userId` is set \
             (see auth.user_id_claims)"
        );
        assert!(!e.is_setup_error());
    }

    #[test]
    fn the_missing_token_message_tells_the_client_what_to_send() {
        let text = AuthError::MissingToken.to_string();
        assert!(text.contains("Authorization: Bearer"));
        assert!(text.contains("auth.token"));
    }

    #[test]
    fn a_handshake_without_a_token_is_told_its_dialects_places() {
        let text = AuthError::MissingHandshakeToken {
            places: "`auth.token` or `?token=<jwt>`",
        }
        .to_string();
        assert_eq!(
            text,
            "missing token: send it as `auth.token` or `?token=<jwt>`"
        );
        assert!(!AuthError::MissingHandshakeToken { places: "" }.is_setup_error());
    }
}
