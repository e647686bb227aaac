//! The users: profiles from tokens, password users, placeholders for ids
//! named before their first token, and contacts.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use sqlx::postgres::PgPool;
use sqlx::query;

use super::error::DbResult;
use super::statements::{all, execute, id_array, one, optional};
use crate::core::{Millis, Profile, User, UserId};
use crate::store::rows::{self, user_cols};
use crate::store::{Credentials, StoreResult};

pub(super) async fn upsert_user(
    pool: &PgPool,
    id: &UserId,
    profile: &Profile,
    now: Millis,
) -> StoreResult<User> {
    one(
        pool,
        query(concat!(
            "INSERT INTO users (id, display_name, avatar_url, email, placeholder, created_at, \
               tokens_valid_after) \
             VALUES ($1, $2, $3, $4, FALSE, $5, (SELECT value FROM settings WHERE name = 'tokens_valid_after')) \
             ON CONFLICT (id) DO UPDATE SET \
               display_name = COALESCE(excluded.display_name, users.display_name), \
               avatar_url = COALESCE(excluded.avatar_url, users.avatar_url), \
               email = COALESCE(excluded.email, users.email), \
               placeholder = FALSE \
             RETURNING ",
            user_cols!()
        ))
        .bind(id.as_str())
        .bind(profile.display_name.as_deref())
        .bind(profile.avatar_url.as_deref())
        .bind(profile.email.as_deref())
        .bind(now),
        rows::user,
    )
    .await
}

pub(super) async fn ensure_users(pool: &PgPool, ids: &[UserId], now: Millis) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut conn = pool.acquire().await.db()?;
    ensure_users_in(&mut conn, &id_array(ids), now).await
}

pub(super) async fn create_password_user(
    pool: &PgPool,
    id: &UserId,
    username: &str,
    profile: &Profile,
    password_hash: &str,
    now: Millis,
) -> StoreResult<User> {
    one(
        pool,
        query(concat!(
            "INSERT INTO users \
               (id, username, display_name, avatar_url, email, password_hash, placeholder, \
                created_at, tokens_valid_after) \
             VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, (SELECT value FROM settings WHERE name = 'tokens_valid_after')) \
             RETURNING ",
            user_cols!()
        ))
        .bind(id.as_str())
        .bind(username)
        .bind(profile.display_name.as_deref())
        .bind(profile.avatar_url.as_deref())
        .bind(profile.email.as_deref())
        .bind(password_hash)
        .bind(now),
        rows::user,
    )
    .await
}

pub(super) async fn credentials(pool: &PgPool, username: &str) -> StoreResult<Option<Credentials>> {
    // `lower` of a "C" string folds ASCII letters only, like SQLite's
    // NOCASE; the expression is the one of `users_username_idx`.
    optional(
        pool,
        query(concat!(
            "SELECT ",
            user_cols!(),
            ", password_hash FROM users \
             WHERE lower(username) = lower($1 COLLATE \"C\") AND password_hash IS NOT NULL"
        ))
        .bind(username),
        rows::credentials,
    )
    .await
}

pub(super) async fn user_by_login(pool: &PgPool, login: &str) -> StoreResult<Option<User>> {
    // The username comparison is `credentials`' (and its index's).
    optional(
        pool,
        query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users \
             WHERE lower(username) = lower($1 COLLATE \"C\") OR email = $1 \
             ORDER BY lower(username) = lower($1 COLLATE \"C\") DESC NULLS LAST, created_at, id \
             LIMIT 1"
        ))
        .bind(login),
        rows::user,
    )
    .await
}

pub(super) async fn user(pool: &PgPool, id: &UserId) -> StoreResult<Option<User>> {
    optional(
        pool,
        query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id.as_str()),
        rows::user,
    )
    .await
}

pub(super) async fn users(pool: &PgPool, ids: &[UserId]) -> StoreResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    all(
        pool,
        query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = ANY($1::text[])"
        ))
        .bind(id_array(ids)),
        rows::user,
    )
    .await
}

pub(super) async fn set_last_seen(pool: &PgPool, id: &UserId, at: Millis) -> StoreResult<()> {
    execute(
        pool,
        query(
            "UPDATE users SET last_seen_at = GREATEST(COALESCE(last_seen_at, $1), $1) \
             WHERE id = $2",
        )
        .bind(at)
        .bind(id.as_str()),
    )
    .await?;
    Ok(())
}

pub(super) async fn contacts(pool: &PgPool, id: &UserId) -> StoreResult<Vec<UserId>> {
    all(
        pool,
        query(
            "SELECT DISTINCT other.user_id FROM members mine \
             JOIN members other ON other.conversation_id = mine.conversation_id \
             WHERE mine.user_id = $1 AND other.user_id <> $1 \
             ORDER BY other.user_id",
        )
        .bind(id.as_str()),
        |row| row.user_id("user_id"),
    )
    .await
}

/// Creates placeholders for the ids not known yet, inside a transaction.
/// New rows are inserted in id order, so that concurrent transactions
/// provisioning the same ids wait for each other instead of deadlocking.
pub(super) async fn ensure_users_in(
    conn: &mut sqlx::PgConnection,
    ids: &[&str],
    now: Millis,
) -> StoreResult<()> {
    execute(
        conn,
        query(
            "INSERT INTO users (id, placeholder, created_at, tokens_valid_after) \
             SELECT DISTINCT id, TRUE, $1, (SELECT value FROM settings WHERE name = 'tokens_valid_after') \
             FROM unnest($2::text[]) AS t (id) ORDER BY id \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(now)
        .bind(ids),
    )
    .await?;
    Ok(())
}
