//! Where the keys come from: the HS256 secret (given inline, read from a
//! file, or generated in the data directory) and the PEM public keys of
//! other issuers.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};

use super::{JwtKeys, MIN_SECRET_BYTES, SECRET_FILE_NAME};
use crate::auth::AuthError;
use crate::config::AuthConfig;

impl JwtKeys {
    /// Builds the verifier/issuer from config. HS256 secret: `auth.jwt_secret`
    /// if set, else the file `auth.jwt_secret_file` if set (it must exist),
    /// else `<data_dir>/jwt-secret`, generated (32 random bytes, base64url) on
    /// first use with mode 0600 (create_new, then read back; on unix its mode
    /// is reset to 0600 if it was wider).
    ///
    /// `auth.public_key_files` (PEM, `PUBLIC KEY`/`RSA PUBLIC KEY`/`CERTIFICATE`):
    /// RSA keys verify RS256 tokens, EC P-256 keys verify ES256 tokens.
    pub fn load(auth: &AuthConfig, data_dir: &Path) -> Result<Self, AuthError> {
        Self::load_or_generate(auth, data_dir, true)
    }

    /// As [`JwtKeys::load`], but never generates a secret: with none
    /// configured and no `<data_dir>/jwt-secret`, [`AuthError::NoSecret`]
    /// (a token signed with a new secret would be refused by the server).
    pub fn load_existing(auth: &AuthConfig, data_dir: &Path) -> Result<Self, AuthError> {
        Self::load_or_generate(auth, data_dir, false)
    }

    fn load_or_generate(
        auth: &AuthConfig,
        data_dir: &Path,
        generate: bool,
    ) -> Result<Self, AuthError> {
        let secret = if let Some(secret) = &auth.jwt_secret {
            if secret.trim().is_empty() {
                return Err(AuthError::InvalidKey {
                    what: "auth.jwt_secret".into(),
                    reason: "is empty".into(),
                });
            }
            secret.as_bytes().to_vec()
        } else if let Some(path) = &auth.jwt_secret_file {
            read_secret_file(path)?
        } else {
            let path = data_dir.join(SECRET_FILE_NAME);
            if !generate && !path.exists() {
                let path = std::path::absolute(&path).unwrap_or(path);
                return Err(AuthError::NoSecret { path });
            }
            ensure_generated_secret(&path)?;
            read_secret_file(&path)?
        };
        if secret.len() < MIN_SECRET_BYTES {
            tracing::warn!(
                "the HS256 JWT secret is {} bytes long; use at least {MIN_SECRET_BYTES}",
                secret.len()
            );
        }
        let mut keys = Self::from_secret(&secret, auth);
        for path in &auth.public_key_files {
            let pem = std::fs::read(path).map_err(|source| AuthError::KeyIo {
                path: path.clone(),
                source,
            })?;
            keys.add_public_key_pem(&path.display().to_string(), &pem)?;
        }
        Ok(keys)
    }

    /// Adds a PEM public key (RSA → RS256, EC P-256 → ES256). `what` names the
    /// key in errors (usually its path).
    pub fn add_public_key_pem(&mut self, what: &str, pem: &[u8]) -> Result<(), AuthError> {
        let invalid = |reason: &str| AuthError::InvalidKey {
            what: what.to_string(),
            reason: reason.to_string(),
        };
        let text = String::from_utf8_lossy(pem);
        if text.contains("PRIVATE KEY") {
            return Err(invalid(
                "is a private key; give the issuer's public key (openssl pkey -pubout)",
            ));
        }
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            // Parses the DER now so that a bad key fails at start-up, not per token.
            jsonwebtoken::jwk::Jwk::from_decoding_key(&key, Some(Algorithm::RS256))
                .map_err(|e| invalid(&format!("not a usable RSA public key ({e})")))?;
            self.rsa.push(key);
            return Ok(());
        }
        if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            let p256 = key.try_get_as_bytes().map(|b| b.len() == 65 && b[0] == 4);
            if p256 != Ok(true) {
                return Err(invalid(
                    "is an EC key but not on P-256 (only ES256 is accepted)",
                ));
            }
            self.ec.push(key);
            return Ok(());
        }
        Err(invalid(
            "is not a PEM RSA or EC (P-256) public key (expected -----BEGIN PUBLIC KEY-----)",
        ))
    }
}

fn key_io(path: &Path) -> impl FnOnce(std::io::Error) -> AuthError + '_ {
    move |source| AuthError::KeyIo {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a secret file as trimmed text.
fn read_secret_file(path: &Path) -> Result<Vec<u8>, AuthError> {
    let text = std::fs::read_to_string(path).map_err(key_io(path))?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(AuthError::InvalidKey {
            what: path.display().to_string(),
            reason: "the JWT secret file is empty".into(),
        });
    }
    #[cfg(unix)]
    warn_if_readable_by_others(path);
    Ok(secret.as_bytes().to_vec())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            "JWT secret file {} is accessible by group/others (mode {:o}); use 0600",
            path.display(),
            meta.permissions().mode() & 0o777
        );
    }
}

/// Creates `path` with a fresh random secret unless it exists; makes sure it
/// has mode 0600 on unix.
fn ensure_generated_secret(path: &Path) -> Result<(), AuthError> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(key_io(dir))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
            file.write_all(format!("{secret}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(key_io(path))?;
            tracing::info!("generated a new JWT secret in {}", path.display());
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(key_io(path)(e)),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(key_io(path))?;
        if meta.permissions().mode() & 0o777 != 0o600 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(key_io(path))?;
        }
    }
    Ok(())
}
