//! The users: profiles from tokens, password users, placeholders for ids
//! named before their first token, and contacts.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use rusqlite::Connection;

use super::pool::Pool;
use super::statements::{all, execute, ids_json, one, optional};
use crate::core::{Millis, Profile, User, UserId};
use crate::store::rows::{self, user_cols};
use crate::store::{Credentials, StoreResult};

pub(super) fn upsert_user(
    db: &Pool,
    id: &UserId,
    profile: &Profile,
    now: Millis,
) -> StoreResult<User> {
    db.write(|tx| {
        one(
            tx,
            concat!(
                "INSERT INTO users (id, display_name, avatar_url, email, placeholder, created_at, \
                   tokens_valid_after) \
                 VALUES (?, ?, ?, ?, 0, ?, (SELECT value FROM settings WHERE name = 'tokens_valid_after')) \
                 ON CONFLICT (id) DO UPDATE SET \
                   display_name = COALESCE(excluded.display_name, display_name), \
                   avatar_url = COALESCE(excluded.avatar_url, avatar_url), \
                   email = COALESCE(excluded.email, email), \
                   placeholder = 0 \
                 RETURNING ",
                user_cols!()
            ),
            rusqlite::params![
                id.as_str(),
                profile.display_name.as_deref(),
                profile.avatar_url.as_deref(),
                profile.email.as_deref(),
                now
            ],
            rows::user,
        )
    })
}

pub(super) fn ensure_users(db: &Pool, ids: &[UserId], now: Millis) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let json = ids_json(ids)?;
    db.write(|tx| ensure_users_in(tx, &json, now))
}

pub(super) fn create_password_user(
    db: &Pool,
    id: &UserId,
    username: &str,
    profile: &Profile,
    password_hash: &str,
    now: Millis,
) -> StoreResult<User> {
    db.write(|tx| {
        one(
            tx,
            concat!(
                "INSERT INTO users \
                   (id, username, display_name, avatar_url, email, password_hash, placeholder, \
                    created_at, tokens_valid_after) \
                 VALUES (?, ?, ?, ?, ?, ?, 0, ?, (SELECT value FROM settings WHERE name = 'tokens_valid_after')) \
                 RETURNING ",
                user_cols!()
            ),
            rusqlite::params![
                id.as_str(),
                username,
                profile.display_name.as_deref(),
                profile.avatar_url.as_deref(),
                profile.email.as_deref(),
                password_hash,
                now
            ],
            rows::user,
        )
    })
}

pub(super) fn credentials(db: &Pool, username: &str) -> StoreResult<Option<Credentials>> {
    db.read(|conn| {
        optional(
            conn,
            concat!(
                "SELECT ",
                user_cols!(),
                ", password_hash FROM users \
                 WHERE username = ? AND password_hash IS NOT NULL"
            ),
            [username],
            rows::credentials,
        )
    })
}

pub(super) fn user_by_login(db: &Pool, login: &str) -> StoreResult<Option<User>> {
    db.read(|conn| {
        optional(
            conn,
            concat!(
                "SELECT ",
                user_cols!(),
                " FROM users WHERE username = ?1 OR email = ?1 \
                 ORDER BY username = ?1 DESC, created_at, id LIMIT 1"
            ),
            [login],
            rows::user,
        )
    })
}

pub(super) fn user(db: &Pool, id: &UserId) -> StoreResult<Option<User>> {
    db.read(|conn| {
        optional(
            conn,
            concat!("SELECT ", user_cols!(), " FROM users WHERE id = ?"),
            [id.as_str()],
            rows::user,
        )
    })
}

pub(super) fn users(db: &Pool, ids: &[UserId]) -> StoreResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let json = ids_json(ids)?;
    db.read(|conn| {
        all(
            conn,
            concat!(
                "SELECT ",
                user_cols!(),
                " FROM users WHERE id IN (SELECT value FROM json_each(?))"
            ),
            [json],
            rows::user,
        )
    })
}

pub(super) fn set_last_seen(db: &Pool, id: &UserId, at: Millis) -> StoreResult<()> {
    db.write(|tx| {
        execute(
            tx,
            "UPDATE users SET last_seen_at = MAX(COALESCE(last_seen_at, ?1), ?1) WHERE id = ?2",
            rusqlite::params![at, id.as_str()],
        )
    })?;
    Ok(())
}

pub(super) fn contacts(db: &Pool, id: &UserId) -> StoreResult<Vec<UserId>> {
    db.read(|conn| {
        all(
            conn,
            "SELECT DISTINCT other.user_id FROM members mine \
             JOIN members other ON other.conversation_id = mine.conversation_id \
             WHERE mine.user_id = ?1 AND other.user_id <> ?1 \
             ORDER BY other.user_id",
            [id.as_str()],
            |row| row.user_id("user_id"),
        )
    })
}

/// Creates placeholders for the ids not known yet, inside a transaction.
pub(super) fn ensure_users_in(conn: &Connection, ids_json: &str, now: Millis) -> StoreResult<()> {
    execute(
        conn,
        "INSERT INTO users (id, placeholder, created_at, tokens_valid_after) \
         SELECT DISTINCT value, 1, ?, (SELECT value FROM settings WHERE name = 'tokens_valid_after') FROM json_each(?) WHERE true \
         ON CONFLICT (id) DO NOTHING",
        rusqlite::params![now, ids_json],
    )?;
    Ok(())
}
