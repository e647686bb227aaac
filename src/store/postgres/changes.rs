//! The change feed: the changes a user may see after a cursor, and the lock
//! that keeps its cursors in commit order.
//!
//! The rows are written by the triggers of
//! `migrations/postgres/0006_changes.sql` in the transaction of each change.
//! Unlike SQLite, PostgreSQL runs writers side by side, and an identity
//! column is not in commit order: a transaction can take id 7, another id
//! 8 and commit first; a reader that passed 8 would never see 7. Two ways
//! out were weighed:
//!
//! - the transactional outbox's snapshot bound: store
//!   `pg_current_xact_id()` with each row and serve only rows whose
//!   transaction is below `pg_snapshot_xmin(pg_current_snapshot())`,
//!   ordered by that id. No writer waits, but the feed then stops at the
//!   oldest transaction running anywhere in the cluster (any database),
//!   so one long or idle-in-transaction session freezes every user's feed
//!   for as long as it lasts;
//! - an advisory lock, taken here: every transaction that may write a
//!   change takes, as its first statement, the transaction-scoped advisory
//!   lock keyed by the `changes` table's oid in **shared** mode, so
//!   writers never wait for each other; a reader takes the same lock
//!   **exclusively** for a moment, which waits until every writer that
//!   holds it committed or rolled back, then reads the highest id and lets
//!   go. No writer is then between taking an id and committing, so every
//!   id up to that bound is final, and the reader serves only those. A
//!   writer waiting for the lock holds no other lock (it is its first
//!   statement), so the lock cannot take part in a deadlock.
//!
//! The price is one round trip per write transaction (the shared lock,
//! uncontended while nobody reads the feed) and, on each feed read, a wait
//! for the writes in flight (milliseconds) during which new writes queue
//! behind the reader. Measured with pgbench on the development machine
//! (PostgreSQL 15, 8 clients each inserting a message into one of 8
//! conversations, `synchronous_commit` on, two shared cores): 364
//! transactions a second without the lock, 346 with the shared lock (-5 %),
//! 94 if writers took it exclusively, one after the other (-74 %, why the
//! writers share it); with a feed read every 20 ms beside them, 220 (-22 %)
//! and each read about 60 ms. A feed read is a catch-up, rare beside
//! writes, and the bound never lags behind a slow session elsewhere, which
//! is why the lock won. Keyed by the table's oid, the lock is per schema.

use sqlx::postgres::{PgPool, Postgres};
use sqlx::{Transaction, query};

use super::error::DbResult;
use super::statements::{all, execute, one};
use crate::core::{ChangeCursor, ChangePage, UserId};
use crate::store::StoreResult;
use crate::store::rows::{self, change_cols};

/// A transaction that may write change rows (through the triggers): begun,
/// with the shared lock taken first.
pub(super) async fn begin(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await.db()?;
    execute(
        &mut *tx,
        query("SELECT pg_advisory_xact_lock_shared('changes'::regclass::oid::bigint)"),
    )
    .await?;
    Ok(tx)
}

pub(super) async fn changes(
    pool: &PgPool,
    user: &UserId,
    after: ChangeCursor,
    limit: u32,
) -> StoreResult<ChangePage> {
    let bound = change_head(pool).await?;
    if bound <= after {
        return Ok(rows::change_page(Vec::new(), limit));
    }
    let found = all(
        pool,
        query(concat!(
            "SELECT ",
            change_cols!(),
            " FROM changes ch \
             JOIN conversations c ON c.id = ch.conversation_id \
             LEFT JOIN messages m ON m.id = ch.message_id \
             WHERE ch.id IN ( \
               SELECT DISTINCT x.id FROM member_spans s \
               JOIN changes x ON x.conversation_id = s.conversation_id \
               WHERE s.user_id = $1 AND x.id > $2 AND x.id <= $3 \
                 AND (x.kind = 'conversation.created' \
                      OR (x.id >= s.from_change \
                          AND (s.until_change IS NULL OR x.id <= s.until_change))) \
               ORDER BY x.id LIMIT $4) \
             ORDER BY ch.id"
        ))
        .bind(user.as_str())
        .bind(after)
        .bind(bound)
        .bind(i64::from(limit) + 1),
        rows::change,
    )
    .await?;
    Ok(rows::change_page(found, limit))
}

/// The highest id below which every change is final: read under the
/// exclusive lock, so that no writer holds an id it has not committed.
pub(super) async fn change_head(pool: &PgPool) -> StoreResult<ChangeCursor> {
    let mut tx = pool.begin().await.db()?;
    execute(
        &mut *tx,
        query("SELECT pg_advisory_xact_lock('changes'::regclass::oid::bigint)"),
    )
    .await?;
    let head = one(
        &mut *tx,
        query("SELECT COALESCE(MAX(id), 0)::bigint AS head FROM changes"),
        |row| row.int("head"),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(head)
}
