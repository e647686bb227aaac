//! Messages (the insert of a new one, which [`super::group_commit`] runs
//! in its group's transaction, history, edits and deletes) and the read
//! and delivery watermarks.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use rusqlite::Connection;
use uuid::Uuid;

use super::pool::Pool;
use super::statements::{all, execute, ids_json, one, optional};
use crate::core::error::StoreError;
use crate::core::ids::RowRef;
use crate::core::{Message, MessageKind, MessageRef, Millis, NewMessage, Page, UserId};
use crate::store::rows::{self, select_message};
use crate::store::{Inserted, StoreResult};

/// The watermark capped at the conversation's last sequence number: `?1`
/// is the wanted sequence number, `?2` the conversation.
macro_rules! watermark_target {
    () => {
        "MIN(?1, (SELECT last_seq FROM conversations WHERE id = ?2))"
    };
}

pub(super) fn message(db: &Pool, r: MessageRef) -> StoreResult<Option<Message>> {
    db.read(|conn| match r {
        RowRef::Id(id) => optional(
            conn,
            concat!(select_message!(), "WHERE m.id = ?"),
            [id],
            rows::message,
        ),
        RowRef::Uuid(uuid) => optional(
            conn,
            concat!(select_message!(), "WHERE m.uuid = ?"),
            [uuid.to_string()],
            rows::message,
        ),
        RowRef::External(e) => optional(
            conn,
            concat!(select_message!(), "WHERE m.external_id = ?"),
            [e.as_str()],
            rows::message,
        ),
    })
}

pub(super) fn messages(db: &Pool, conversation_id: i64, page: Page) -> StoreResult<Vec<Message>> {
    let limit = i64::from(page.limit);
    if limit == 0 {
        return Ok(Vec::new());
    }
    db.read(|conn| match (page.before_seq, page.after_seq) {
        (None, Some(after)) => all(
            conn,
            concat!(
                select_message!(),
                "WHERE m.conversation_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?"
            ),
            rusqlite::params![conversation_id, after, limit],
            rows::message,
        ),
        (before, after) => {
            let mut messages = all(
                conn,
                concat!(
                    select_message!(),
                    "WHERE m.conversation_id = ? AND m.seq < ? AND m.seq > ? \
                     ORDER BY m.seq DESC LIMIT ?"
                ),
                rusqlite::params![
                    conversation_id,
                    before.unwrap_or(i64::MAX),
                    after.unwrap_or(0),
                    limit
                ],
                rows::message,
            )?;
            messages.reverse();
            Ok(messages)
        }
    })
}

pub(super) fn live_messages(
    db: &Pool,
    conversation_id: i64,
    before_seq: Option<i64>,
    skip: u32,
    limit: u32,
) -> StoreResult<(Vec<Message>, i64)> {
    let before = before_seq.unwrap_or(i64::MAX);
    db.read(|conn| {
        let total = one(
            conn,
            "SELECT COUNT(*) AS total FROM messages \
             WHERE conversation_id = ? AND seq < ? AND deleted_at IS NULL",
            rusqlite::params![conversation_id, before],
            |row| row.int("total"),
        )?;
        if limit == 0 {
            return Ok((Vec::new(), total));
        }
        let mut messages = all(
            conn,
            concat!(
                select_message!(),
                "WHERE m.conversation_id = ? AND m.seq < ? AND m.deleted_at IS NULL \
                 ORDER BY m.seq DESC LIMIT ? OFFSET ?"
            ),
            rusqlite::params![conversation_id, before, i64::from(limit), i64::from(skip)],
            rows::message,
        )?;
        messages.reverse();
        Ok((messages, total))
    })
}

pub(super) fn edit_message(db: &Pool, id: i64, text: &str, at: Millis) -> StoreResult<Message> {
    db.write(|tx| {
        let changed = execute(
            tx,
            "UPDATE messages SET text = ?, edited_at = ? WHERE id = ? AND deleted_at IS NULL",
            rusqlite::params![text, at, id],
        )?;
        let message = message_in(tx, id)?.ok_or_else(|| rows::message_not_found(id))?;
        if changed == 0 {
            // The row exists, so it is deleted (and nothing is committed).
            return Err(StoreError::Conflict("message is deleted"));
        }
        Ok(message)
    })
}

pub(super) fn delete_message(db: &Pool, id: i64, at: Millis) -> StoreResult<Message> {
    db.write(|tx| {
        execute(
            tx,
            "UPDATE messages \
             SET text = NULL, attachments = '[]', attachment_meta = NULL, \
                 deleted_at = COALESCE(deleted_at, ?) \
             WHERE id = ?",
            rusqlite::params![at, id],
        )?;
        execute(
            tx,
            "DELETE FROM message_attachments WHERE message_id = ?",
            [id],
        )?;
        message_in(tx, id)?.ok_or_else(|| rows::message_not_found(id))
    })
}

pub(super) fn attachment_used_in(db: &Pool, conversation_id: i64, path: &str) -> StoreResult<bool> {
    db.read(|conn| {
        one(
            conn,
            "SELECT EXISTS (SELECT 1 FROM message_attachments \
             WHERE conversation_id = ? AND path = ?) AS used",
            rusqlite::params![conversation_id, path],
            |row| row.flag("used"),
        )
    })
}

pub(super) fn mark_read(
    db: &Pool,
    conversation_id: i64,
    user: &UserId,
    seq: i64,
) -> StoreResult<Option<i64>> {
    db.write(|tx| {
        optional(
            tx,
            concat!(
                "UPDATE members SET last_read_seq = ",
                watermark_target!(),
                " WHERE conversation_id = ?2 AND user_id = ?3 AND last_read_seq < ",
                watermark_target!(),
                " RETURNING last_read_seq"
            ),
            rusqlite::params![seq, conversation_id, user.as_str()],
            |row| row.int("last_read_seq"),
        )
    })
}

pub(super) fn mark_delivered(
    db: &Pool,
    conversation_id: i64,
    users: &[UserId],
    seq: i64,
) -> StoreResult<(Vec<UserId>, i64)> {
    if users.is_empty() {
        return Ok((vec![], seq));
    }
    let json = ids_json(users.iter())?;
    let moved = db.write(|tx| {
        all(
            tx,
            concat!(
                "UPDATE members SET last_delivered_seq = ",
                watermark_target!(),
                " WHERE conversation_id = ?2 AND last_delivered_seq < ",
                watermark_target!(),
                " AND user_id IN (SELECT value FROM json_each(?3)) \
                 RETURNING user_id, last_delivered_seq"
            ),
            rusqlite::params![seq, conversation_id, json],
            rows::delivered,
        )
    })?;
    Ok(rows::moved(moved, seq))
}

fn message_in(conn: &Connection, id: i64) -> StoreResult<Option<Message>> {
    optional(
        conn,
        concat!(select_message!(), "WHERE m.id = ?"),
        [id],
        rows::message,
    )
}

/// Stores one message in `tx`: the client-id check, the next sequence
/// number, the row, its attachments and the conversation's
/// `last_seq`/`updated_at`; `None` (nothing written) if its conversation
/// does not exist.
pub(super) fn insert(tx: &Connection, m: NewMessage) -> StoreResult<Option<Inserted>> {
    let (urls, attachment_meta) = rows::attachment_columns(&m.attachments)?;
    let attachments = serde_json::to_string(&urls)
        .map_err(|e| StoreError::Backend(format!("encoding attachments: {e}")))?;

    if let Some(client_id) = &m.client_id {
        let existing = optional(
            tx,
            concat!(
                select_message!(),
                "WHERE m.conversation_id = ? AND m.sender_id = ? AND m.client_id = ?"
            ),
            rusqlite::params![m.conversation_id, m.sender_id.as_str(), client_id],
            rows::message,
        )?;
        if let Some(message) = existing {
            return Ok(Some(Inserted::Duplicate(message)));
        }
    }

    let Some((seq, conversation)) = optional(
        tx,
        "UPDATE conversations \
         SET last_seq = last_seq + 1, updated_at = MAX(updated_at, ?) \
         WHERE id = ? \
         RETURNING last_seq, uuid, external_id",
        rusqlite::params![m.created_at, m.conversation_id],
        |row| {
            Ok((
                row.int("last_seq")?,
                (row.uuid("uuid")?, row.opt_text("external_id")?),
            ))
        },
    )?
    else {
        return Ok(None);
    };
    let uuid = Uuid::now_v7();

    let id = one(
        tx,
        "INSERT INTO messages \
           (uuid, conversation_id, seq, sender_id, kind, declared_kind, text, attachments, \
            attachment_meta, \
            client_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         RETURNING id",
        rusqlite::params![
            uuid.to_string(),
            m.conversation_id,
            seq,
            m.sender_id.as_str(),
            m.kind.as_str(),
            m.declared_kind.map(MessageKind::as_str),
            m.text.as_deref(),
            attachments,
            attachment_meta,
            m.client_id.as_deref(),
            m.created_at
        ],
        |row| row.int("id"),
    )?;
    if !m.attachments.is_empty() {
        execute(
            tx,
            "INSERT INTO message_attachments (conversation_id, path, message_id) \
             SELECT DISTINCT ?1, value, ?2 FROM json_each(?3) WHERE true \
             ON CONFLICT DO NOTHING",
            rusqlite::params![m.conversation_id, id, attachments],
        )?;
    }
    Ok(Some(Inserted::New(rows::new_message(
        m,
        id,
        uuid,
        conversation,
        seq,
    ))))
}
