//! What an operator does to accounts (`confab user ...`): listing,
//! disabling, revoking tokens, deleting, and the messages a user sent (for
//! an export).
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use sqlx::postgres::PgPool;
use sqlx::query;

use super::error::DbResult;
use super::statements::{all, execute};
use crate::core::{Message, Millis, User, UserId};
use crate::store::StoreResult;
use crate::store::like_prefix;
use crate::store::rows::{self, select_message, user_cols};

pub(super) async fn list_users(
    pool: &PgPool,
    after: Option<&UserId>,
    limit: u32,
) -> StoreResult<Vec<User>> {
    users_page(pool, None, after, limit).await
}

pub(super) async fn search_users(
    pool: &PgPool,
    prefix: &str,
    after: Option<&UserId>,
    limit: u32,
) -> StoreResult<Vec<User>> {
    users_page(pool, Some(&like_prefix(prefix)), after, limit).await
}

/// A page of users by id, of those matching `pattern` (an `ILIKE` pattern
/// with `\` as its escape) on id, username or display name if given.
async fn users_page(
    pool: &PgPool,
    pattern: Option<&str>,
    after: Option<&UserId>,
    limit: u32,
) -> StoreResult<Vec<User>> {
    all(
        pool,
        query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE ($1::TEXT IS NULL OR id > $1) AND ($3::TEXT IS NULL \
             OR id ILIKE $3 ESCAPE '\\' OR username ILIKE $3 ESCAPE '\\' \
             OR display_name ILIKE $3 ESCAPE '\\') ORDER BY id LIMIT $2"
        ))
        .bind(after.map(UserId::as_str))
        .bind(i64::from(limit))
        .bind(pattern),
        rows::user,
    )
    .await
}

pub(super) async fn set_disabled(pool: &PgPool, id: &UserId, disabled: bool) -> StoreResult<bool> {
    let changed = execute(
        pool,
        query("UPDATE users SET disabled = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(disabled)
            .bind(id.as_str()),
    )
    .await?;
    Ok(changed > 0)
}

pub(super) async fn revoke_tokens(
    pool: &PgPool,
    id: Option<&UserId>,
    after: Millis,
) -> StoreResult<u64> {
    let mut tx = pool.begin().await.db()?;
    if id.is_none() {
        // Users created from now on get it too.
        execute(
            &mut *tx,
            query(
                "INSERT INTO settings (name, value) VALUES ('tokens_valid_after', $1) \
                 ON CONFLICT (name) DO UPDATE SET \
                   value = GREATEST(settings.value, excluded.value)",
            )
            .bind(after),
        )
        .await?;
    }
    let changed = execute(
        &mut *tx,
        query(
            "UPDATE users SET tokens_valid_after = GREATEST(COALESCE(tokens_valid_after, $1), $1) \
             WHERE $2::TEXT IS NULL OR id = $2",
        )
        .bind(after)
        .bind(id.map(UserId::as_str)),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(changed)
}

pub(super) async fn delete_user(pool: &PgPool, id: &UserId, at: Millis) -> StoreResult<bool> {
    let id = id.as_str();
    let mut tx = super::changes::begin(pool).await?;
    let changed = execute(
        &mut *tx,
        query(
            "UPDATE users SET username = NULL, display_name = NULL, avatar_url = NULL, \
               email = NULL, password_hash = NULL, disabled = TRUE, deleted_at = $1, \
               tokens_valid_after = GREATEST(COALESCE(tokens_valid_after, $1), $1) \
             WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(at)
        .bind(id),
    )
    .await?;
    if changed == 0 {
        return Ok(false);
    }
    for sql in [
        "DELETE FROM devices WHERE user_id = $1",
        "DELETE FROM friendships WHERE user_lo = $1 OR user_hi = $1",
        "DELETE FROM members WHERE user_id = $1",
        "DELETE FROM department_agents WHERE user_id = $1",
    ] {
        execute(&mut *tx, query(sql).bind(id)).await?;
    }
    tx.commit().await.db()?;
    Ok(true)
}

pub(super) async fn messages_by(pool: &PgPool, sender: &UserId) -> StoreResult<Vec<Message>> {
    all(
        pool,
        query(concat!(
            select_message!(),
            "WHERE m.sender_id = $1 ORDER BY m.id"
        ))
        .bind(sender.as_str()),
        rows::message,
    )
    .await
}
