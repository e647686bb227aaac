//! Users: provisioned from verified tokens, or registered with a password
//! and logged in.

use super::{Result, Service, validate_name};
use crate::core::{CoreError, Profile, User, UserId, now_millis, password};

impl Service {
    /// The user named by a verified token: created on first sight, its
    /// profile refreshed from the claims after.
    pub async fn provision(&self, id: &UserId, profile: Profile) -> Result<User> {
        Ok(self.store.upsert_user(id, &profile, now_millis()).await?)
    }

    /// Registers a password user; `id` is generated unless given.
    pub async fn register(
        &self,
        id: Option<UserId>,
        username: &str,
        password: &str,
        display_name: Option<String>,
    ) -> Result<User> {
        validate_username(username)?;
        password::validate_password(password).map_err(CoreError::invalid)?;
        let display_name = display_name.map(|n| validate_name(&n)).transpose()?;
        let pw = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(|_| CoreError::invalid("password hashing failed"))?
            .map_err(|_| CoreError::invalid("password hashing failed"))?;
        let id = id.unwrap_or_else(|| UserId::from_trusted(uuid::Uuid::new_v4().to_string()));
        let profile = Profile {
            display_name,
            ..Profile::default()
        };
        self.store
            .create_password_user(&id, username, &profile, &hash, now_millis())
            .await
            .map_err(|e| match CoreError::from(e) {
                CoreError::Conflict(_) => CoreError::Conflict("username is taken"),
                other => other,
            })
    }

    /// Checks a username and password; the same error for an unknown user and
    /// a wrong password.
    pub async fn login(&self, username: &str, password: &str) -> Result<User> {
        let creds = self.store.credentials(username).await?;
        let (user, hash) = match creds {
            Some(c) => (Some(c.user), c.password_hash),
            // Verify against a fixed hash anyway so timing does not tell.
            None => (None, DUMMY_HASH.to_owned()),
        };
        let pw = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
            .await
            .unwrap_or(false);
        match user {
            Some(u) if ok => Ok(u),
            _ => Err(CoreError::Unauthenticated),
        }
    }

    pub async fn user(&self, id: &UserId) -> Result<User> {
        self.store
            .user(id)
            .await?
            .ok_or(CoreError::NotFound("user"))
    }
}

/// A login name: 3 to 64 characters of letters, digits, `.`, `_`, `-`,
/// `+` and `@` (so an email address is one, as V Chat's clients use).
fn validate_username(s: &str) -> Result<()> {
    let ok = (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "username must be 3 to 64 characters of letters, digits, '.', '_', '-', '+' and '@'",
        ))
    }
}

/// An argon2 hash of a random password, verified against when a username is
/// unknown so that login timing does not reveal which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3d0mU0ZV8J4iH1g5Qd0p3kqg3x0pJ4gM9v1oN3GQ0uE";
