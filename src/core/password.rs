//! Password hashing with Argon2id (default parameters, random salt, PHC string).
//!
//! Both [`hash`] and [`verify`] take tens of milliseconds of CPU on purpose:
//! call them from `tokio::task::spawn_blocking`.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Hashing a password failed.
#[derive(Debug, thiserror::Error)]
#[error("could not hash password: {0}")]
pub struct HashError(String);

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// No valid password is longer than this in bytes (256 chars × 4 bytes);
/// [`verify`] refuses longer input without hashing it.
const MAX_PASSWORD_BYTES: usize = MAX_PASSWORD_CHARS * 4;

/// Hashes `password` with Argon2id (default params, random salt) into a PHC
/// string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`).
pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|phc| phc.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// True if `password` matches the PHC string `phc`. A malformed `phc` never
/// matches.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// Checks the length rule for new passwords: 8..=256 characters.
pub fn validate_password(p: &str) -> Result<(), &'static str> {
    let n = p.chars().count();
    if n < MIN_PASSWORD_CHARS {
        Err("password must be at least 8 characters")
    } else if n > MAX_PASSWORD_CHARS {
        Err("password must be at most 256 characters")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse", &phc));
        assert!(!verify("correct horsE", &phc));
        assert!(!verify("", &phc));
    }

    #[test]
    fn the_salt_is_random() {
        let a = hash("same password").expect("hash");
        let b = hash("same password").expect("hash");
        assert_ne!(a, b);
    }

    #[test]
    fn a_malformed_hash_never_matches() {
        assert!(!verify("x", ""));
        assert!(!verify("x", "not a phc string"));
        assert!(!verify("x", "$argon2id$v=19$m=19456,t=2,p=1$bad$bad"));
        assert!(!verify(&"x".repeat(MAX_PASSWORD_BYTES + 1), "$argon2id$"));
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password("ééééééé").is_err());
        assert!(validate_password("éééééééé").is_ok());
        assert!(validate_password(&"x".repeat(256)).is_ok());
        assert!(validate_password(&"x".repeat(257)).is_err());
    }
}
