//! Friendships: one row per unordered pair of users.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use super::pool::Pool;
use super::statements::{all, execute, ids_json, optional};
use super::users::ensure_users_in;
use crate::core::{Friendship, UserId};
use crate::store::StoreResult;
use crate::store::rows::{self, friendship_cols};

pub(super) fn friendship(db: &Pool, a: &UserId, b: &UserId) -> StoreResult<Option<Friendship>> {
    let (lo, hi) = rows::ordered(a, b);
    db.read(|conn| {
        optional(
            conn,
            concat!(
                "SELECT ",
                friendship_cols!(),
                " FROM friendships WHERE user_lo = ? AND user_hi = ?"
            ),
            [lo.as_str(), hi.as_str()],
            rows::friendship,
        )
    })
}

pub(super) fn put_friendship(db: &Pool, f: &Friendship) -> StoreResult<()> {
    rows::two_users("a friendship", &f.requester, &f.addressee)?;
    let (lo, hi) = rows::ordered(&f.requester, &f.addressee);
    let pair = ids_json([lo, hi])?;
    db.write(|tx| {
        ensure_users_in(tx, &pair, f.created_at)?;
        execute(
            tx,
            "INSERT INTO friendships \
               (user_lo, user_hi, requester, addressee, status, blocked_by, created_at, \
                updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (user_lo, user_hi) DO UPDATE SET \
               requester = excluded.requester, \
               addressee = excluded.addressee, \
               status = excluded.status, \
               blocked_by = excluded.blocked_by, \
               created_at = excluded.created_at, \
               updated_at = excluded.updated_at",
            rusqlite::params![
                lo.as_str(),
                hi.as_str(),
                f.requester.as_str(),
                f.addressee.as_str(),
                f.status.as_code(),
                f.blocked_by.as_ref().map(UserId::as_str),
                f.created_at,
                f.updated_at
            ],
        )?;
        Ok(())
    })
}

pub(super) fn delete_friendship(db: &Pool, a: &UserId, b: &UserId) -> StoreResult<bool> {
    let (lo, hi) = rows::ordered(a, b);
    let deleted = db.write(|tx| {
        execute(
            tx,
            "DELETE FROM friendships WHERE user_lo = ? AND user_hi = ?",
            [lo.as_str(), hi.as_str()],
        )
    })?;
    Ok(deleted == 1)
}

pub(super) fn friendships_of(db: &Pool, user: &UserId) -> StoreResult<Vec<Friendship>> {
    db.read(|conn| {
        all(
            conn,
            concat!(
                "SELECT ",
                friendship_cols!(),
                " FROM friendships WHERE user_lo = ?1 \
                 UNION ALL SELECT ",
                friendship_cols!(),
                " FROM friendships WHERE user_hi = ?1 \
                 ORDER BY updated_at DESC, requester, addressee"
            ),
            [user.as_str()],
            rows::friendship,
        )
    })
}
