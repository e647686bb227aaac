//! What an operator does to accounts (`confab user ...`): listing,
//! disabling, revoking tokens, deleting, and the messages a user sent (for
//! an export).
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use super::pool::Pool;
use super::statements::{all, execute};
use crate::core::{Message, Millis, User, UserId};
use crate::store::StoreResult;
use crate::store::like_prefix;
use crate::store::rows::{self, select_message, user_cols};

pub(super) fn list_users(db: &Pool, after: Option<&UserId>, limit: u32) -> StoreResult<Vec<User>> {
    users_page(db, None, after, limit)
}

pub(super) fn search_users(
    db: &Pool,
    prefix: &str,
    after: Option<&UserId>,
    limit: u32,
) -> StoreResult<Vec<User>> {
    users_page(db, Some(&like_prefix(prefix)), after, limit)
}

/// A page of users by id, of those matching `pattern` (a `LIKE` pattern
/// with `\` as its escape) on id, username or display name if given. SQLite's
/// `LIKE` ignores the case of ASCII letters.
fn users_page(
    db: &Pool,
    pattern: Option<&str>,
    after: Option<&UserId>,
    limit: u32,
) -> StoreResult<Vec<User>> {
    db.read(|conn| {
        all(
            conn,
            concat!(
                "SELECT ",
                user_cols!(),
                " FROM users WHERE (?1 IS NULL OR id > ?1) AND (?3 IS NULL \
                 OR id LIKE ?3 ESCAPE '\\' OR username LIKE ?3 ESCAPE '\\' \
                 OR display_name LIKE ?3 ESCAPE '\\') ORDER BY id LIMIT ?2"
            ),
            rusqlite::params![after.map(UserId::as_str), limit, pattern],
            rows::user,
        )
    })
}

pub(super) fn set_disabled(db: &Pool, id: &UserId, disabled: bool) -> StoreResult<bool> {
    let changed = db.write(|tx| {
        execute(
            tx,
            "UPDATE users SET disabled = ?1 WHERE id = ?2 AND deleted_at IS NULL",
            rusqlite::params![disabled, id.as_str()],
        )
    })?;
    Ok(changed > 0)
}

pub(super) fn revoke_tokens(db: &Pool, id: Option<&UserId>, after: Millis) -> StoreResult<u64> {
    let changed = db.write(|tx| {
        if id.is_none() {
            // Users created from now on get it too.
            execute(
                tx,
                "INSERT INTO settings (name, value) VALUES ('tokens_valid_after', ?1) \
                 ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)",
                [after],
            )?;
        }
        execute(
            tx,
            "UPDATE users SET tokens_valid_after = MAX(COALESCE(tokens_valid_after, ?1), ?1) \
             WHERE ?2 IS NULL OR id = ?2",
            rusqlite::params![after, id.map(UserId::as_str)],
        )
    })?;
    Ok(changed as u64)
}

pub(super) fn delete_user(db: &Pool, id: &UserId, at: Millis) -> StoreResult<bool> {
    db.write(|tx| {
        let id = id.as_str();
        let changed = execute(
            tx,
            "UPDATE users SET username = NULL, display_name = NULL, avatar_url = NULL, \
               email = NULL, password_hash = NULL, disabled = 1, deleted_at = ?1, \
               tokens_valid_after = MAX(COALESCE(tokens_valid_after, ?1), ?1) \
             WHERE id = ?2 AND deleted_at IS NULL",
            rusqlite::params![at, id],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        execute(tx, "DELETE FROM devices WHERE user_id = ?", [id])?;
        execute(
            tx,
            "DELETE FROM friendships WHERE user_lo = ?1 OR user_hi = ?1",
            [id],
        )?;
        execute(tx, "DELETE FROM members WHERE user_id = ?", [id])?;
        execute(tx, "DELETE FROM department_agents WHERE user_id = ?", [id])?;
        Ok(true)
    })
}

pub(super) fn messages_by(db: &Pool, sender: &UserId) -> StoreResult<Vec<Message>> {
    db.read(|conn| {
        all(
            conn,
            concat!(select_message!(), "WHERE m.sender_id = ? ORDER BY m.id"),
            [sender.as_str()],
            rows::message,
        )
    })
}
