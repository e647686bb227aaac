//! Uploaded files, by server path.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use sqlx::postgres::PgPool;
use sqlx::query;

use super::error::DbResult;
use super::statements::{execute, id_array, optional};
use super::users::ensure_users_in;
use crate::core::Upload;
use crate::store::StoreResult;
use crate::store::rows::{self, upload_cols};

pub(super) async fn record_upload(pool: &PgPool, u: &Upload) -> StoreResult<()> {
    let mut tx = pool.begin().await.db()?;
    ensure_users_in(&mut tx, &id_array([&u.owner]), u.created_at).await?;
    execute(
        &mut *tx,
        query(
            "INSERT INTO uploads (path, owner, kind, content_type, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&u.path)
        .bind(u.owner.as_str())
        .bind(u.kind.as_str())
        .bind(&u.content_type)
        .bind(u.size)
        .bind(u.created_at),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(())
}

pub(super) async fn upload(pool: &PgPool, path: &str) -> StoreResult<Option<Upload>> {
    optional(
        pool,
        query(concat!(
            "SELECT ",
            upload_cols!(),
            " FROM uploads WHERE path = $1"
        ))
        .bind(path),
        rows::upload,
    )
    .await
}
