//! Push devices: a token belongs to one user.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use super::pool::Pool;
use super::statements::{all, execute, ids_json};
use super::users::ensure_users_in;
use crate::core::{Device, UserId};
use crate::store::StoreResult;
use crate::store::rows::{self, device_cols};

pub(super) fn add_device(db: &Pool, d: &Device) -> StoreResult<()> {
    let json = ids_json([&d.user_id])?;
    db.write(|tx| {
        ensure_users_in(tx, &json, d.created_at)?;
        execute(
            tx,
            "INSERT INTO devices (token, user_id, platform, created_at, push_format) \
             VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (token) DO UPDATE SET \
               user_id = excluded.user_id, \
               platform = excluded.platform, \
               created_at = excluded.created_at, \
               push_format = excluded.push_format",
            rusqlite::params![
                d.token,
                d.user_id.as_str(),
                d.platform.as_str(),
                d.created_at,
                d.push_format
            ],
        )?;
        Ok(())
    })
}

pub(super) fn remove_device(db: &Pool, user: &UserId, token: &str) -> StoreResult<bool> {
    let removed = db.write(|tx| {
        execute(
            tx,
            "DELETE FROM devices WHERE token = ? AND user_id = ?",
            [token, user.as_str()],
        )
    })?;
    Ok(removed == 1)
}

pub(super) fn remove_device_token(db: &Pool, token: &str) -> StoreResult<bool> {
    let removed = db.write(|tx| execute(tx, "DELETE FROM devices WHERE token = ?", [token]))?;
    Ok(removed == 1)
}

pub(super) fn devices_of(db: &Pool, users: &[UserId]) -> StoreResult<Vec<Device>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let json = ids_json(users)?;
    db.read(|conn| {
        all(
            conn,
            concat!(
                "SELECT ",
                device_cols!(),
                " FROM devices WHERE user_id IN (SELECT value FROM json_each(?)) \
                 ORDER BY user_id, created_at, token"
            ),
            [json],
            rows::device,
        )
    })
}
