//! Which claims of a verified token say who the user is ([`ClaimRules`]):
//! `auth.user_id_claims`, `name_claims`, `email_claims`, `avatar_claims` and
//! `require_exp`, overridden per dialect by `dialects.<name>.auth`.

use serde_json::{Map, Value};

use super::{Identity, is_valid_user_id};
use crate::auth::AuthError;
use crate::config::{AuthConfig, DialectAuthConfig};

/// How the identity is read from a token's claims, and whether `exp` must
/// be there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRules {
    /// Claims that may carry the user id, in order; never empty.
    pub user_id: Vec<String>,
    pub name: Vec<String>,
    pub email: Vec<String>,
    pub avatar: Vec<String>,
    pub require_exp: bool,
}

impl ClaimRules {
    /// The rules of `[auth]`.
    pub fn of(auth: &AuthConfig) -> Self {
        ClaimRules {
            user_id: auth.user_id_claims.clone(),
            name: auth.name_claims.clone(),
            email: auth.email_claims.clone(),
            avatar: auth.avatar_claims.clone(),
            require_exp: auth.require_exp,
        }
    }

    /// These rules with the keys a dialect sets otherwise.
    pub fn overridden(&self, with: &DialectAuthConfig) -> Self {
        let pick = |own: &Vec<String>, other: &Option<Vec<String>>| {
            other.clone().unwrap_or_else(|| own.clone())
        };
        ClaimRules {
            user_id: pick(&self.user_id, &with.user_id_claims),
            name: pick(&self.name, &with.name_claims),
            email: pick(&self.email, &with.email_claims),
            avatar: pick(&self.avatar, &with.avatar_claims),
            require_exp: with.require_exp.unwrap_or(self.require_exp),
        }
    }

    /// Who the claims name: the first user id claim the token has (absent
    /// and `null` claims are skipped), and the first non-empty string of
    /// each profile list (other values are ignored).
    pub fn identity(&self, claims: &Map<String, Value>) -> Result<Identity, AuthError> {
        let found = self
            .user_id
            .iter()
            .find_map(|c| claims.get(c).filter(|v| !v.is_null()).map(|v| (c, v)));
        let Some((claim, value)) = found else {
            return Err(AuthError::NoUserIdClaim(self.user_id.clone()));
        };
        let user_id = user_id_of(claim, value)?;
        let text = |names: &[String]| {
            names.iter().find_map(|name| {
                claims
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            })
        };
        Ok(Identity {
            user_id,
            name: text(&self.name),
            avatar_url: text(&self.avatar),
            email: text(&self.email),
            // A fractional `iat` counts from its whole second.
            issued_at: claims.get("iat").and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            }),
        })
    }
}

/// A user id claim's value as a user id: a string as is, a non-negative
/// integer as its decimal string; anything else is refused, naming `claim`.
fn user_id_of(claim: &str, value: &Value) -> Result<String, AuthError> {
    let invalid = |reason: &'static str| AuthError::InvalidUserId {
        claim: claim.to_owned(),
        reason,
    };
    let id = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_u64() {
            Some(n) => n.to_string(),
            None => return Err(invalid("a number that is not a non-negative integer")),
        },
        Value::Object(_) => return Err(invalid("an object")),
        Value::Array(_) => return Err(invalid("an array")),
        Value::Bool(_) => return Err(invalid("a boolean")),
        Value::Null => return Err(invalid("null")),
    };
    if !is_valid_user_id(&id) {
        return Err(invalid(
            "expected 1 to 128 letters, digits or `.` `_` `:` `@` `-`",
        ));
    }
    Ok(id)
}
