//! Friendships: one row per unordered pair of users.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use sqlx::postgres::PgPool;
use sqlx::query;

use super::error::DbResult;
use super::statements::{all, execute, id_array, optional};
use super::users::ensure_users_in;
use crate::core::{Friendship, UserId};
use crate::store::StoreResult;
use crate::store::rows::{self, friendship_cols};

pub(super) async fn friendship(
    pool: &PgPool,
    a: &UserId,
    b: &UserId,
) -> StoreResult<Option<Friendship>> {
    let (lo, hi) = rows::ordered(a, b);
    optional(
        pool,
        query(concat!(
            "SELECT ",
            friendship_cols!(),
            " FROM friendships WHERE user_lo = $1 AND user_hi = $2"
        ))
        .bind(lo.as_str())
        .bind(hi.as_str()),
        rows::friendship,
    )
    .await
}

pub(super) async fn put_friendship(pool: &PgPool, f: &Friendship) -> StoreResult<()> {
    rows::two_users("a friendship", &f.requester, &f.addressee)?;
    let (lo, hi) = rows::ordered(&f.requester, &f.addressee);
    let mut tx = pool.begin().await.db()?;
    ensure_users_in(&mut tx, &id_array([lo, hi]), f.created_at).await?;
    execute(
        &mut *tx,
        query(
            "INSERT INTO friendships \
               (user_lo, user_hi, requester, addressee, status, blocked_by, created_at, \
                updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (user_lo, user_hi) DO UPDATE SET \
               requester = excluded.requester, \
               addressee = excluded.addressee, \
               status = excluded.status, \
               blocked_by = excluded.blocked_by, \
               created_at = excluded.created_at, \
               updated_at = excluded.updated_at",
        )
        .bind(lo.as_str())
        .bind(hi.as_str())
        .bind(f.requester.as_str())
        .bind(f.addressee.as_str())
        .bind(f.status.as_code())
        .bind(f.blocked_by.as_ref().map(UserId::as_str))
        .bind(f.created_at)
        .bind(f.updated_at),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(())
}

pub(super) async fn delete_friendship(pool: &PgPool, a: &UserId, b: &UserId) -> StoreResult<bool> {
    let (lo, hi) = rows::ordered(a, b);
    let deleted = execute(
        pool,
        query("DELETE FROM friendships WHERE user_lo = $1 AND user_hi = $2")
            .bind(lo.as_str())
            .bind(hi.as_str()),
    )
    .await?;
    Ok(deleted == 1)
}

pub(super) async fn friendships_of(pool: &PgPool, user: &UserId) -> StoreResult<Vec<Friendship>> {
    all(
        pool,
        query(concat!(
            "SELECT ",
            friendship_cols!(),
            " FROM friendships WHERE user_lo = $1 \
             UNION ALL SELECT ",
            friendship_cols!(),
            " FROM friendships WHERE user_hi = $1 \
             ORDER BY updated_at DESC, requester, addressee"
        ))
        .bind(user.as_str()),
        rows::friendship,
    )
    .await
}
