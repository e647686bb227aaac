//! The change feed: the changes a user may see after a cursor.
//!
//! The rows are written by the triggers of `migrations/sqlite/0009_changes.sql`
//! in the transaction of each change (the group commit of new messages
//! included). SQLite has one writer at a time and a reader sees a snapshot
//! of what committed, so the `AUTOINCREMENT` id is the commit order and a
//! reader never sees id 8 before id 7.

use super::pool::Pool;
use super::statements::{all, one};
use crate::core::{ChangeCursor, ChangePage, UserId};
use crate::store::StoreResult;
use crate::store::rows::{self, change_cols};

/// The changes of the conversations the user `?1` was a member of when
/// they were made (and the creation of each of its conversations), after
/// `?2` and up to `?3`, the first `?4` of them, with what they name.
macro_rules! select_changes {
    () => {
        concat!(
            "SELECT ",
            change_cols!(),
            " FROM changes ch \
             JOIN conversations c ON c.id = ch.conversation_id \
             LEFT JOIN messages m ON m.id = ch.message_id \
             WHERE ch.id IN ( \
               SELECT DISTINCT x.id FROM member_spans s \
               JOIN changes x ON x.conversation_id = s.conversation_id \
               WHERE s.user_id = ?1 AND x.id > ?2 AND x.id <= ?3 \
                 AND (x.kind = 'conversation.created' \
                      OR (x.id >= s.from_change \
                          AND (s.until_change IS NULL OR x.id <= s.until_change))) \
               ORDER BY x.id LIMIT ?4) \
             ORDER BY ch.id"
        )
    };
}

pub(super) fn changes(
    db: &Pool,
    user: &UserId,
    after: ChangeCursor,
    limit: u32,
) -> StoreResult<ChangePage> {
    let found = db.read(|conn| {
        all(
            conn,
            select_changes!(),
            rusqlite::params![user.as_str(), after, i64::MAX, i64::from(limit) + 1],
            rows::change,
        )
    })?;
    Ok(rows::change_page(found, limit))
}

pub(super) fn change_head(db: &Pool) -> StoreResult<ChangeCursor> {
    db.read(|conn| {
        one(
            conn,
            "SELECT COALESCE(MAX(id), 0) AS head FROM changes",
            [],
            |row| row.int("head"),
        )
    })
}
