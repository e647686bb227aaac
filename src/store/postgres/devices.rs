//! Push devices: a token belongs to one user.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use sqlx::postgres::PgPool;
use sqlx::query;

use super::error::DbResult;
use super::statements::{all, execute, id_array};
use super::users::ensure_users_in;
use crate::core::{Device, UserId};
use crate::store::StoreResult;
use crate::store::rows::{self, device_cols};

pub(super) async fn add_device(pool: &PgPool, d: &Device) -> StoreResult<()> {
    let mut tx = pool.begin().await.db()?;
    ensure_users_in(&mut tx, &id_array([&d.user_id]), d.created_at).await?;
    execute(
        &mut *tx,
        query(
            "INSERT INTO devices (token, user_id, platform, created_at, push_format) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (token) DO UPDATE SET \
               user_id = excluded.user_id, \
               platform = excluded.platform, \
               created_at = excluded.created_at, \
               push_format = excluded.push_format",
        )
        .bind(&d.token)
        .bind(d.user_id.as_str())
        .bind(d.platform.as_str())
        .bind(d.created_at)
        .bind(d.push_format.as_deref()),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(())
}

pub(super) async fn remove_device(pool: &PgPool, user: &UserId, token: &str) -> StoreResult<bool> {
    let removed = execute(
        pool,
        query("DELETE FROM devices WHERE token = $1 AND user_id = $2")
            .bind(token)
            .bind(user.as_str()),
    )
    .await?;
    Ok(removed == 1)
}

pub(super) async fn remove_device_token(pool: &PgPool, token: &str) -> StoreResult<bool> {
    let removed = execute(
        pool,
        query("DELETE FROM devices WHERE token = $1").bind(token),
    )
    .await?;
    Ok(removed == 1)
}

pub(super) async fn devices_of(pool: &PgPool, users: &[UserId]) -> StoreResult<Vec<Device>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    all(
        pool,
        query(concat!(
            "SELECT ",
            device_cols!(),
            " FROM devices WHERE user_id = ANY($1::text[]) \
             ORDER BY user_id, created_at, token"
        ))
        .bind(id_array(users)),
        rows::device,
    )
    .await
}
