//! Uploaded files, by server path.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use super::pool::Pool;
use super::statements::{execute, ids_json, optional};
use super::users::ensure_users_in;
use crate::core::Upload;
use crate::store::StoreResult;
use crate::store::rows::{self, upload_cols};

pub(super) fn record_upload(db: &Pool, u: &Upload) -> StoreResult<()> {
    let json = ids_json([&u.owner])?;
    db.write(|tx| {
        ensure_users_in(tx, &json, u.created_at)?;
        execute(
            tx,
            "INSERT INTO uploads (path, owner, kind, content_type, size, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            rusqlite::params![
                u.path,
                u.owner.as_str(),
                u.kind.as_str(),
                u.content_type,
                u.size,
                u.created_at
            ],
        )?;
        Ok(())
    })
}

pub(super) fn upload(db: &Pool, path: &str) -> StoreResult<Option<Upload>> {
    db.read(|conn| {
        optional(
            conn,
            concat!("SELECT ", upload_cols!(), " FROM uploads WHERE path = ?"),
            [path],
            rows::upload,
        )
    })
}
