//! Users: provisioned from verified tokens, or registered with a password
//! and logged in; found by login name; their profiles changed by
//! themselves and shown to their contacts.

use std::net::IpAddr;

use super::{Result, Service, validate_name};
use crate::core::command::Actor;
use crate::core::ids::validate_attachment_url;
use crate::core::login::Registration;
use crate::core::{CoreError, Profile, User, UserId, now_millis, password};

impl Service {
    /// The user named by a verified token: created on first sight, its
    /// profile refreshed from the claims after.
    pub async fn provision(&self, id: &UserId, profile: Profile) -> Result<User> {
        Ok(self.store.upsert_user(id, &profile, now_millis()).await?)
    }

    /// Whether anyone may open an account (`auth.registration`); refused
    /// with `FORBIDDEN` when closed.
    pub fn registration_open(&self) -> Result<()> {
        match self.limits.registration {
            Registration::Open => Ok(()),
            Registration::Closed => Err(CoreError::Forbidden(
                "registration is closed on this server: accounts come from the operator",
            )),
        }
    }

    /// A client opens a password account (the register routes): as
    /// [`Service::register_profile`] with a generated id, when registration
    /// is open.
    pub async fn sign_up(&self, username: &str, password: &str, profile: Profile) -> Result<User> {
        self.registration_open()?;
        self.register_profile(None, username, password, profile)
            .await
    }

    /// Registers a password user (the operator's `confab user add`, or
    /// [`Service::sign_up`]); `id` is generated unless given.
    pub async fn register(
        &self,
        id: Option<UserId>,
        username: &str,
        password: &str,
        display_name: Option<String>,
    ) -> Result<User> {
        let profile = Profile {
            display_name,
            ..Profile::default()
        };
        self.register_profile(id, username, password, profile).await
    }

    /// Registers a password user with a display name, an email and an
    /// avatar; `id` is generated unless given.
    pub async fn register_profile(
        &self,
        id: Option<UserId>,
        username: &str,
        password: &str,
        profile: Profile,
    ) -> Result<User> {
        validate_username(username)?;
        password::validate_password(password).map_err(CoreError::invalid)?;
        let profile = validate_profile(profile)?;
        let pw = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
            .await
            .map_err(|_| CoreError::invalid("password hashing failed"))?
            .map_err(|_| CoreError::invalid("password hashing failed"))?;
        let id = id.unwrap_or_else(|| UserId::from_trusted(uuid::Uuid::new_v4().to_string()));
        self.store
            .create_password_user(&id, username, &profile, &hash, now_millis())
            .await
            .map_err(|e| match CoreError::from(e) {
                CoreError::Conflict(_) => CoreError::Conflict("username is taken"),
                other => other,
            })
    }

    /// Checks a username and password from the client address `from`; the
    /// same error for an unknown user and a wrong password. After too many
    /// failures of the account or the address, `RATE_LIMITED` (password
    /// unchecked) until their window ends ([`crate::core::login`]).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        from: Option<IpAddr>,
    ) -> Result<User> {
        if let Err(wait) = self.logins.attempt(username, from).await {
            return Err(CoreError::RateLimited {
                retry_after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            });
        }
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
            Some(u) if ok => {
                self.logins.succeeded(username, from).await;
                if u.disabled {
                    return Err(CoreError::Forbidden("this account is disabled"));
                }
                Ok(u)
            }
            _ => Err(CoreError::Unauthenticated),
        }
    }

    pub async fn user(&self, id: &UserId) -> Result<User> {
        self.store
            .user(id)
            .await?
            .ok_or(CoreError::NotFound("user"))
    }

    /// The user a client names by login: a username (case-insensitively),
    /// else an email, else a user id; placeholders are not found.
    pub async fn find_user(&self, login: &str) -> Result<User> {
        if let Some(u) = self.store.user_by_login(login).await? {
            return Ok(u);
        }
        let by_id = match UserId::parse(login) {
            Ok(id) => self.store.user(&id).await?,
            Err(_) => None,
        };
        by_id
            .filter(|u| !u.placeholder)
            .ok_or(CoreError::NotFound("user"))
    }

    /// `id`'s profile, for the actor or a user who shares a conversation
    /// with the actor; anyone else is not found.
    pub async fn contact(&self, actor: &Actor, id: &UserId) -> Result<User> {
        if id != actor.id() && !self.store.contacts(actor.id()).await?.contains(id) {
            return Err(CoreError::NotFound("user"));
        }
        self.user(id).await
    }

    /// Changes the actor's display name, email or avatar (each `None` is
    /// left as it is).
    pub async fn update_profile(&self, actor: &Actor, profile: Profile) -> Result<User> {
        let profile = validate_profile(profile)?;
        Ok(self
            .store
            .upsert_user(actor.id(), &profile, now_millis())
            .await?)
    }
}

/// A profile's name (see `validate_name`), email (at most 254 visible
/// characters) and avatar (an attachment URL) checked.
fn validate_profile(p: Profile) -> Result<Profile> {
    let email = p.email.map(|e| e.trim().to_owned());
    if email
        .as_deref()
        .is_some_and(|e| e.is_empty() || e.len() > 254 || !e.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(CoreError::invalid(
            "email must be 1 to 254 visible ASCII characters",
        ));
    }
    if let Some(a) = &p.avatar_url {
        validate_attachment_url(a)?;
    }
    Ok(Profile {
        display_name: p.display_name.map(|n| validate_name(&n)).transpose()?,
        avatar_url: p.avatar_url,
        email,
    })
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
