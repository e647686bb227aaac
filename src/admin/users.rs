//! Accounts, as an operator sees them: a listing, disabling, revoking
//! tokens, deleting, and an export of everything a user has here.
//!
//! Decisions:
//! - Deleting an account keeps the messages it sent, with the sender
//!   anonymised: the user's row stays as a tombstone emptied of username,
//!   names, avatar, email and password, disabled and marked deleted, so the
//!   conversations of the others stay readable and in sequence (the foreign
//!   keys of messages to their sender hold). Devices, friendships,
//!   memberships and department seats go. Uploads stay: they are the
//!   attachments of kept messages.
//! - Revoking tokens sets the users' `tokens_valid_after` to the next whole
//!   second: a token's `iat` has a precision of one second, so every token
//!   issued up to now is refused, and so are those issued within the same
//!   second (log in again a second later). For every user (`--all`) the
//!   time is also kept in the store, and users created later get it: a
//!   token of a user not seen before the revocation is refused as well.

use serde::Serialize;
use serde_json::Value;

use super::AdminError;
use crate::core::{
    ConversationSummary, Device, Friendship, Message, Millis, User, UserId, now_millis,
};
use crate::dialects::shared::iso8601;
use crate::store::DynStore;

fn parse(id: &str) -> Result<UserId, AdminError> {
    UserId::parse(id).map_err(|e| AdminError::Refused(format!("user id {id:?}: {e}")))
}

/// One line of `confab user list --json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserLine {
    pub id: String,
    pub name: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub created_at: Millis,
    pub last_seen_at: Option<Millis>,
    pub disabled: bool,
    pub deleted: bool,
    pub placeholder: bool,
}

impl From<&User> for UserLine {
    fn from(u: &User) -> Self {
        UserLine {
            id: u.id.to_string(),
            name: if u.deleted_at.is_some() {
                "deleted user".to_owned()
            } else {
                u.name().to_owned()
            },
            username: u.username.clone(),
            email: u.email.clone(),
            created_at: u.created_at,
            last_seen_at: u.last_seen_at,
            disabled: u.disabled,
            deleted: u.deleted_at.is_some(),
            placeholder: u.placeholder,
        }
    }
}

/// Up to `limit` users after the id `after`, by id.
pub async fn list(
    store: &DynStore,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<UserLine>, AdminError> {
    let after = after.map(parse).transpose()?;
    let users = store.list_users(after.as_ref(), limit).await?;
    Ok(users.iter().map(UserLine::from).collect())
}

/// The listing as text: a header and one tab-separated line per user.
pub fn table(lines: &[UserLine]) -> String {
    let mut out = String::from("id\tname\tusername\temail\tcreated\tlast_seen\tdisabled\n");
    let time = utc;
    for l in lines {
        let disabled = match (l.deleted, l.disabled) {
            (true, _) => "deleted",
            (false, true) => "yes",
            (false, false) => "no",
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            l.id,
            l.name,
            l.username.as_deref().unwrap_or("-"),
            l.email.as_deref().unwrap_or("-"),
            time(l.created_at),
            l.last_seen_at.map(time).unwrap_or_else(|| "-".to_owned()),
            disabled,
        ));
    }
    out
}

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC): the dialects'
/// timestamp to the second.
pub fn utc(ms: Millis) -> String {
    let full = iso8601(ms.div_euclid(1000) * 1000);
    format!("{}Z", full.trim_end_matches(".000Z"))
}

/// Disables (or enables) a user.
pub async fn set_disabled(store: &DynStore, id: &str, disabled: bool) -> Result<(), AdminError> {
    let id = parse(id)?;
    if store.set_disabled(&id, disabled).await? {
        Ok(())
    } else {
        Err(AdminError::NoSuchUser(id.to_string()))
    }
}

/// The time from which tokens count again after a revocation at `now`:
/// the next whole second (see the module's decisions).
pub fn revocation_time(now: Millis) -> Millis {
    (now.div_euclid(1000) + 1) * 1000
}

/// Refuses the tokens issued until now of one user, or of all (`None`);
/// how many users that is.
pub async fn revoke_tokens(store: &DynStore, id: Option<&str>) -> Result<u64, AdminError> {
    let id = id.map(parse).transpose()?;
    let n = store
        .revoke_tokens(id.as_ref(), revocation_time(now_millis()))
        .await?;
    match (&id, n) {
        (Some(id), 0) => Err(AdminError::NoSuchUser(id.to_string())),
        _ => Ok(n),
    }
}

/// Deletes an account (see the module's decisions).
pub async fn delete(store: &DynStore, id: &str) -> Result<(), AdminError> {
    let id = parse(id)?;
    if store.delete_user(&id, now_millis()).await? {
        Ok(())
    } else {
        Err(AdminError::NoSuchUser(id.to_string()))
    }
}

/// Everything of a user's: `confab user export`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub exported_at: Millis,
    pub user: User,
    pub conversations: Vec<ConversationSummary>,
    pub messages: Vec<Message>,
    pub devices: Vec<Device>,
    pub friendships: Vec<Friendship>,
}

/// A user's data: profile, the conversations they are in, the messages
/// they sent, their devices and friendships.
pub async fn export(store: &DynStore, id: &str) -> Result<Value, AdminError> {
    let id = parse(id)?;
    let user = store
        .user(&id)
        .await?
        .ok_or_else(|| AdminError::NoSuchUser(id.to_string()))?;
    let export = Export {
        exported_at: now_millis(),
        conversations: store.conversations_of(&id).await?,
        messages: store.messages_by(&id).await?,
        devices: store.devices_of(std::slice::from_ref(&id)).await?,
        friendships: store.friendships_of(&id).await?,
        user,
    };
    serde_json::to_value(&export).map_err(|e| AdminError::Refused(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_counts_from_the_next_second() {
        assert_eq!(revocation_time(12_500), 13_000);
        assert_eq!(revocation_time(12_000), 13_000);
        assert_eq!(revocation_time(0), 1000);
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_709_210_096_789), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn the_table_names_each_column() {
        let line = UserLine {
            id: "u1".into(),
            name: "Ada".into(),
            username: Some("ada".into()),
            email: None,
            created_at: 0,
            last_seen_at: None,
            disabled: true,
            deleted: false,
            placeholder: false,
        };
        let t = table(&[line]);
        assert_eq!(
            t,
            "id\tname\tusername\temail\tcreated\tlast_seen\tdisabled\n\
             u1\tAda\tada\t-\t1970-01-01T00:00:00Z\t-\tyes\n"
        );
    }
}
