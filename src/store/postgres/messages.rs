//! Messages (the insert of a new one, history, edits and deletes) and the
//! read and delivery watermarks.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use sqlx::postgres::PgPool;
use sqlx::query;
use uuid::Uuid;

use super::error::DbResult;
use super::statements::{all, execute, id_array, one, optional};
use crate::core::error::StoreError;
use crate::core::ids::RowRef;
use crate::core::{Message, MessageKind, MessageRef, Millis, NewMessage, Page, UserId};
use crate::store::rows::{self, select_message};
use crate::store::{Inserted, StoreResult};

/// The watermark capped at the conversation's last sequence number: `$1`
/// is the wanted sequence number, `$2` the conversation.
macro_rules! watermark_target {
    () => {
        "LEAST($1, (SELECT last_seq FROM conversations WHERE id = $2))"
    };
}

pub(super) async fn insert_message(pool: &PgPool, m: NewMessage) -> StoreResult<Inserted> {
    let mut tx = super::changes::begin(pool).await?;

    // The conversation's row lock queues this transaction behind every
    // other insert into the conversation, until it commits: the client
    // id check below then sees their messages, and `last_seq + 1` is
    // taken by one of them at a time.
    let conversation = optional(
        &mut *tx,
        query("SELECT uuid, external_id FROM conversations WHERE id = $1 FOR NO KEY UPDATE")
            .bind(m.conversation_id),
        |row| Ok((row.uuid("uuid")?, row.opt_text("external_id")?)),
    )
    .await?
    .ok_or_else(|| rows::conversation_not_found(m.conversation_id))?;

    if let Some(client_id) = &m.client_id
        && let Some(first) =
            message_by_client_id(&mut tx, m.conversation_id, &m.sender_id, client_id).await?
    {
        tx.commit().await.db()?;
        return Ok(Inserted::Duplicate(first));
    }

    let seq = one(
        &mut *tx,
        query(
            "UPDATE conversations \
             SET last_seq = last_seq + 1, updated_at = GREATEST(updated_at, $1) \
             WHERE id = $2 \
             RETURNING last_seq",
        )
        .bind(m.created_at)
        .bind(m.conversation_id),
        |row| row.int("last_seq"),
    )
    .await?;
    let uuid = Uuid::now_v7();

    let (urls, attachment_meta) = rows::attachment_columns(&m.attachments)?;
    let id = one(
        &mut *tx,
        query(
            "INSERT INTO messages \
               (uuid, conversation_id, seq, sender_id, kind, declared_kind, text, attachments, \
                attachment_meta, client_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             RETURNING id",
        )
        .bind(uuid.to_string())
        .bind(m.conversation_id)
        .bind(seq)
        .bind(m.sender_id.as_str())
        .bind(m.kind.as_str())
        .bind(m.declared_kind.map(MessageKind::as_str))
        .bind(m.text.as_deref())
        .bind(&urls)
        .bind(attachment_meta.as_deref())
        .bind(m.client_id.as_deref())
        .bind(m.created_at),
        |row| row.int("id"),
    )
    .await?;
    if !m.attachments.is_empty() {
        execute(
            &mut *tx,
            query(
                "INSERT INTO message_attachments (conversation_id, path, message_id) \
                 SELECT DISTINCT $1::bigint, path, $2::bigint \
                 FROM unnest($3::text[]) AS a (path) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(m.conversation_id)
            .bind(id)
            .bind(&urls),
        )
        .await?;
    }
    tx.commit().await.db()?;
    Ok(Inserted::New(rows::new_message(
        m,
        id,
        uuid,
        conversation,
        seq,
    )))
}

pub(super) async fn message(pool: &PgPool, r: MessageRef) -> StoreResult<Option<Message>> {
    let q = match r {
        RowRef::Id(id) => query(concat!(select_message!(), "WHERE m.id = $1")).bind(id),
        RowRef::Uuid(uuid) => {
            query(concat!(select_message!(), "WHERE m.uuid = $1")).bind(uuid.to_string())
        }
        RowRef::External(e) => query(concat!(select_message!(), "WHERE m.external_id = $1"))
            .bind(e.as_str().to_owned()),
    };
    optional(pool, q, rows::message).await
}

pub(super) async fn messages(
    pool: &PgPool,
    conversation_id: i64,
    page: Page,
) -> StoreResult<Vec<Message>> {
    let limit = i64::from(page.limit);
    if limit == 0 {
        return Ok(Vec::new());
    }
    match (page.before_seq, page.after_seq) {
        (None, Some(after)) => {
            all(
                pool,
                query(concat!(
                    select_message!(),
                    "WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3"
                ))
                .bind(conversation_id)
                .bind(after)
                .bind(limit),
                rows::message,
            )
            .await
        }
        (before, after) => {
            let mut messages = all(
                pool,
                query(concat!(
                    select_message!(),
                    "WHERE m.conversation_id = $1 AND m.seq < $2 AND m.seq > $3 \
                     ORDER BY m.seq DESC LIMIT $4"
                ))
                .bind(conversation_id)
                .bind(before.unwrap_or(i64::MAX))
                .bind(after.unwrap_or(0))
                .bind(limit),
                rows::message,
            )
            .await?;
            messages.reverse();
            Ok(messages)
        }
    }
}

pub(super) async fn live_messages(
    pool: &PgPool,
    conversation_id: i64,
    before_seq: Option<i64>,
    skip: u32,
    limit: u32,
) -> StoreResult<(Vec<Message>, i64)> {
    let before = before_seq.unwrap_or(i64::MAX);
    let total = one(
        pool,
        query(
            "SELECT COUNT(*) AS total FROM messages \
             WHERE conversation_id = $1 AND seq < $2 AND deleted_at IS NULL",
        )
        .bind(conversation_id)
        .bind(before),
        |row| row.int("total"),
    )
    .await?;
    if limit == 0 {
        return Ok((Vec::new(), total));
    }
    let mut messages = all(
        pool,
        query(concat!(
            select_message!(),
            "WHERE m.conversation_id = $1 AND m.seq < $2 AND m.deleted_at IS NULL \
             ORDER BY m.seq DESC LIMIT $3 OFFSET $4"
        ))
        .bind(conversation_id)
        .bind(before)
        .bind(i64::from(limit))
        .bind(i64::from(skip)),
        rows::message,
    )
    .await?;
    messages.reverse();
    Ok((messages, total))
}

pub(super) async fn edit_message(
    pool: &PgPool,
    id: i64,
    text: &str,
    at: Millis,
) -> StoreResult<Message> {
    let mut tx = super::changes::begin(pool).await?;
    let changed = execute(
        &mut *tx,
        query(
            "UPDATE messages SET text = $1, edited_at = $2 \
             WHERE id = $3 AND deleted_at IS NULL",
        )
        .bind(text)
        .bind(at)
        .bind(id),
    )
    .await?;
    let message = message_in(&mut tx, id)
        .await?
        .ok_or_else(|| rows::message_not_found(id))?;
    if changed == 0 {
        // The row exists, so it is deleted.
        return Err(StoreError::Conflict("message is deleted"));
    }
    tx.commit().await.db()?;
    Ok(message)
}

pub(super) async fn delete_message(pool: &PgPool, id: i64, at: Millis) -> StoreResult<Message> {
    let mut tx = super::changes::begin(pool).await?;
    execute(
        &mut *tx,
        query(
            "UPDATE messages \
             SET text = NULL, attachments = '{}', attachment_meta = NULL, \
                 deleted_at = COALESCE(deleted_at, $1) \
             WHERE id = $2",
        )
        .bind(at)
        .bind(id),
    )
    .await?;
    execute(
        &mut *tx,
        query("DELETE FROM message_attachments WHERE message_id = $1").bind(id),
    )
    .await?;
    let message = message_in(&mut tx, id)
        .await?
        .ok_or_else(|| rows::message_not_found(id))?;
    tx.commit().await.db()?;
    Ok(message)
}

pub(super) async fn attachment_used_in(
    pool: &PgPool,
    conversation_id: i64,
    path: &str,
) -> StoreResult<bool> {
    one(
        pool,
        query(
            "SELECT EXISTS (SELECT 1 FROM message_attachments \
             WHERE conversation_id = $1 AND path = $2) AS used",
        )
        .bind(conversation_id)
        .bind(path),
        |row| row.flag("used"),
    )
    .await
}

pub(super) async fn mark_read(
    pool: &PgPool,
    conversation_id: i64,
    user: &UserId,
    seq: i64,
) -> StoreResult<Option<i64>> {
    let mut tx = super::changes::begin(pool).await?;
    let moved = optional(
        &mut *tx,
        query(concat!(
            "UPDATE members SET last_read_seq = ",
            watermark_target!(),
            " WHERE conversation_id = $2 AND user_id = $3 AND last_read_seq < ",
            watermark_target!(),
            " RETURNING last_read_seq"
        ))
        .bind(seq)
        .bind(conversation_id)
        .bind(user.as_str()),
        |row| row.int("last_read_seq"),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(moved)
}

pub(super) async fn mark_delivered(
    pool: &PgPool,
    conversation_id: i64,
    users: &[UserId],
    seq: i64,
) -> StoreResult<(Vec<UserId>, i64)> {
    if users.is_empty() {
        return Ok((vec![], seq));
    }
    let mut tx = super::changes::begin(pool).await?;
    let moved = all(
        &mut *tx,
        query(concat!(
            "UPDATE members SET last_delivered_seq = ",
            watermark_target!(),
            " WHERE conversation_id = $2 AND last_delivered_seq < ",
            watermark_target!(),
            " AND user_id = ANY($3) \
             RETURNING user_id, last_delivered_seq"
        ))
        .bind(seq)
        .bind(conversation_id)
        .bind(id_array(users)),
        rows::delivered,
    )
    .await?;
    tx.commit().await.db()?;
    Ok(rows::moved(moved, seq))
}

async fn message_in(conn: &mut sqlx::PgConnection, id: i64) -> StoreResult<Option<Message>> {
    optional(
        conn,
        query(concat!(select_message!(), "WHERE m.id = $1")).bind(id),
        rows::message,
    )
    .await
}

/// The message of `conversation_id` that `sender` sent with `client_id`.
async fn message_by_client_id(
    conn: &mut sqlx::PgConnection,
    conversation_id: i64,
    sender: &UserId,
    client_id: &str,
) -> StoreResult<Option<Message>> {
    optional(
        conn,
        query(concat!(
            select_message!(),
            "WHERE m.conversation_id = $1 AND m.sender_id = $2 AND m.client_id = $3"
        ))
        .bind(conversation_id)
        .bind(sender.as_str())
        .bind(client_id),
        rows::message,
    )
    .await
}
