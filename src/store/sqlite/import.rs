//! History import: a batch of items in one transaction, each checked
//! against what is stored (so that no constraint fails half-way and one bad
//! item never rolls the others back), with the statements cached; and the
//! pass that puts back in time order the conversations that got a message
//! older than their newest.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;
use uuid::Uuid;

use super::pool::Pool;
use super::statements::{all, execute, optional};
use crate::core::error::StoreError;
use crate::core::import::{
    ImportConversation, ImportItem, ImportMember, ImportMessage, ImportOutcome, ImportUser,
    ImportWatermark, WatermarkKind,
};
use crate::core::{ConversationKind, Millis, RowRef, UserId};
use crate::store::StoreResult;
use crate::store::rows;

/// The prefix of the `settings` rows that name a conversation to put back
/// in time order (`import_reorder:<id>`).
const REORDER: &str = "import_reorder:";

/// A conversation as the batch has it so far.
struct Conv {
    id: i64,
    last_seq: i64,
    newest_at: Millis,
    changed: bool,
    out_of_order: bool,
}

#[derive(Default)]
struct Batch {
    convs: HashMap<RowRef, Option<Conv>>,
    users: HashSet<UserId>,
}

pub(super) fn import(
    db: &Pool,
    items: &[ImportItem],
    now: Millis,
) -> StoreResult<Vec<ImportOutcome>> {
    db.write(|tx| {
        let mut batch = Batch::default();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(match item {
                ImportItem::User(u) => user(tx, &mut batch, u)?,
                ImportItem::Conversation(c) => conversation(tx, &mut batch, c)?,
                ImportItem::Member {
                    conversation,
                    member: m,
                } => member(tx, &mut batch, *conversation, m, now)?,
                ImportItem::Message(m) => message(tx, &mut batch, m, now)?,
                ImportItem::Watermark(w) => watermark(tx, &mut batch, w)?,
            });
        }
        for conv in batch.convs.values().flatten().filter(|c| c.changed) {
            execute(
                tx,
                "UPDATE conversations SET last_seq = ?, updated_at = MAX(updated_at, ?) \
                 WHERE id = ?",
                rusqlite::params![conv.last_seq, conv.newest_at, conv.id],
            )?;
            if conv.out_of_order {
                execute(
                    tx,
                    "INSERT INTO settings (name, value) VALUES (?, 1) ON CONFLICT DO NOTHING",
                    [format!("{REORDER}{}", conv.id)],
                )?;
            }
        }
        Ok(out)
    })
}

fn user(tx: &Connection, batch: &mut Batch, u: &ImportUser) -> StoreResult<ImportOutcome> {
    let changed = execute(
        tx,
        "INSERT INTO users (id, display_name, avatar_url, email, placeholder, created_at, \
           disabled, tokens_valid_after) \
         VALUES (?, ?, ?, ?, 0, ?, ?, \
           (SELECT value FROM settings WHERE name = 'tokens_valid_after')) \
         ON CONFLICT (id) DO UPDATE SET \
           display_name = excluded.display_name, avatar_url = excluded.avatar_url, \
           email = excluded.email, disabled = excluded.disabled, placeholder = 0 \
         WHERE users.placeholder = 1",
        rusqlite::params![
            u.id.as_str(),
            u.profile.display_name,
            u.profile.avatar_url,
            u.profile.email,
            u.created_at,
            u.disabled
        ],
    )?;
    batch.users.insert(u.id.clone());
    Ok(outcome(changed > 0))
}

fn outcome(created: bool) -> ImportOutcome {
    if created {
        ImportOutcome::Created
    } else {
        ImportOutcome::Skipped
    }
}

/// Makes `id` a user (a placeholder) if it is not one yet.
fn ensure_user(tx: &Connection, batch: &mut Batch, id: &UserId, now: Millis) -> StoreResult<()> {
    if batch.users.contains(id) {
        return Ok(());
    }
    execute(
        tx,
        "INSERT INTO users (id, placeholder, created_at, tokens_valid_after) \
         VALUES (?, 1, ?, (SELECT value FROM settings WHERE name = 'tokens_valid_after')) \
         ON CONFLICT (id) DO NOTHING",
        rusqlite::params![id.as_str(), now],
    )?;
    batch.users.insert(id.clone());
    Ok(())
}

/// The conversation `r` names, from the batch or the store.
fn conv<'a>(tx: &Connection, batch: &'a mut Batch, r: RowRef) -> StoreResult<Option<&'a mut Conv>> {
    if let std::collections::hash_map::Entry::Vacant(slot) = batch.convs.entry(r) {
        let (col, key) = conversation_key(r);
        let sql = format!(
            "SELECT c.id, c.last_seq, \
               COALESCE((SELECT MAX(m.created_at) FROM messages m \
                         WHERE m.conversation_id = c.id AND m.seq = c.last_seq), 0) AS newest_at \
             FROM conversations c WHERE c.{col} = ?"
        );
        let found = optional(tx, &sql, [key], |row| {
            Ok(Conv {
                id: row.int("id")?,
                last_seq: row.int("last_seq")?,
                newest_at: row.int("newest_at")?,
                changed: false,
                out_of_order: false,
            })
        })?;
        slot.insert(found);
    }
    Ok(batch.convs.get_mut(&r).and_then(Option::as_mut))
}

/// The column of `conversations` or `messages` that a foreign id is kept
/// in, and its value.
fn conversation_key(r: RowRef) -> (&'static str, rusqlite::types::Value) {
    use rusqlite::types::Value;
    match r {
        RowRef::Id(id) => ("id", Value::Integer(id)),
        RowRef::Uuid(u) => ("uuid", Value::Text(u.to_string())),
        RowRef::External(e) => ("external_id", Value::Text(e.as_str().to_owned())),
    }
}

fn unknown_conversation(r: RowRef) -> ImportOutcome {
    ImportOutcome::Refused(format!("no conversation {r} (it must come before)"))
}

fn conversation(
    tx: &Connection,
    batch: &mut Batch,
    c: &ImportConversation,
) -> StoreResult<ImportOutcome> {
    if conv(tx, batch, c.id)?.is_some() {
        return Ok(ImportOutcome::Skipped);
    }
    let direct_key = match (c.kind, c.members.as_slice()) {
        (ConversationKind::Direct, [a, b]) => Some(rows::direct_key(&a.user_id, &b.user_id)),
        (ConversationKind::Direct, _) => {
            return Ok(ImportOutcome::Refused(
                "a direct conversation has exactly two members".into(),
            ));
        }
        (ConversationKind::Group, _) => None,
    };
    if let Some(key) = &direct_key
        && let Some(other) = optional(
            tx,
            "SELECT id FROM conversations WHERE direct_key = ?",
            [key],
            |row| row.int("id"),
        )?
    {
        return Ok(ImportOutcome::Refused(format!(
            "the direct conversation of these two users exists already (id {other})"
        )));
    }
    ensure_user(tx, batch, &c.created_by, c.created_at)?;
    for m in &c.members {
        ensure_user(tx, batch, &m.user_id, c.created_at)?;
    }
    let (id, uuid, external) = match c.id {
        RowRef::Id(id) => (Some(id), Uuid::now_v7(), None),
        RowRef::Uuid(u) => (None, u, None),
        RowRef::External(e) => (None, Uuid::now_v7(), Some(e.as_str().to_owned())),
    };
    let id = optional(
        tx,
        "INSERT INTO conversations \
           (id, uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key, \
            external_id) \
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?) \
         ON CONFLICT DO NOTHING RETURNING id",
        rusqlite::params![
            id,
            uuid.to_string(),
            c.kind.as_str(),
            c.title,
            c.created_by.as_str(),
            c.created_at,
            c.created_at,
            direct_key,
            external
        ],
        |row| row.int("id"),
    )?;
    let Some(id) = id else {
        return Ok(ImportOutcome::Refused(
            "its id or uuid is taken by another conversation".into(),
        ));
    };
    for m in &c.members {
        insert_member(tx, id, m)?;
    }
    batch.convs.insert(
        c.id,
        Some(Conv {
            id,
            last_seq: 0,
            newest_at: 0,
            changed: false,
            out_of_order: false,
        }),
    );
    Ok(ImportOutcome::Created)
}

fn insert_member(tx: &Connection, conversation_id: i64, m: &ImportMember) -> StoreResult<bool> {
    Ok(execute(
        tx,
        "INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT DO NOTHING",
        rusqlite::params![
            conversation_id,
            m.user_id.as_str(),
            m.role.as_str(),
            m.joined_at
        ],
    )? > 0)
}

fn member(
    tx: &Connection,
    batch: &mut Batch,
    r: RowRef,
    m: &ImportMember,
    now: Millis,
) -> StoreResult<ImportOutcome> {
    let Some(id) = conv(tx, batch, r)?.map(|c| c.id) else {
        return Ok(unknown_conversation(r));
    };
    ensure_user(tx, batch, &m.user_id, now)?;
    Ok(outcome(insert_member(tx, id, m)?))
}

fn message(
    tx: &Connection,
    batch: &mut Batch,
    m: &ImportMessage,
    now: Millis,
) -> StoreResult<ImportOutcome> {
    let (col, key) = conversation_key(m.id);
    let exists = optional(
        tx,
        &format!("SELECT 1 AS x FROM messages WHERE {col} = ?"),
        [key],
        |_| Ok(()),
    )?;
    if exists.is_some() {
        return Ok(ImportOutcome::Skipped);
    }
    if conv(tx, batch, m.conversation)?.is_none() {
        return Ok(unknown_conversation(m.conversation));
    }
    ensure_user(tx, batch, &m.sender, now)?;
    let Some(c) = conv(tx, batch, m.conversation)? else {
        return Ok(unknown_conversation(m.conversation));
    };
    let deleted = m.deleted_at.is_some();
    let (urls, meta) = if deleted {
        (Vec::new(), None)
    } else {
        rows::attachment_columns(&m.attachments)?
    };
    let attachments = serde_json::to_string(&urls)
        .map_err(|e| StoreError::Backend(format!("encoding attachments: {e}")))?;
    let (id, uuid, external) = match m.id {
        RowRef::Id(id) => (Some(id), Uuid::now_v7(), None),
        RowRef::Uuid(u) => (None, u, None),
        RowRef::External(e) => (None, Uuid::now_v7(), Some(e.as_str().to_owned())),
    };
    let seq = c.last_seq + 1;
    let id = optional(
        tx,
        "INSERT INTO messages \
           (id, uuid, conversation_id, seq, sender_id, kind, text, attachments, \
            attachment_meta, created_at, edited_at, deleted_at, external_id) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT DO NOTHING RETURNING id",
        rusqlite::params![
            id,
            uuid.to_string(),
            c.id,
            seq,
            m.sender.as_str(),
            m.kind.as_str(),
            if deleted { None } else { m.text.as_deref() },
            attachments,
            meta,
            m.created_at,
            m.edited_at,
            m.deleted_at,
            external
        ],
        |row| row.int("id"),
    )?;
    let Some(id) = id else {
        return Ok(ImportOutcome::Refused(
            "its uuid is taken by another message".into(),
        ));
    };
    if !urls.is_empty() {
        execute(
            tx,
            "INSERT INTO message_attachments (conversation_id, path, message_id) \
             SELECT DISTINCT ?1, value, ?2 FROM json_each(?3) WHERE true \
             ON CONFLICT DO NOTHING",
            rusqlite::params![c.id, id, attachments],
        )?;
    }
    if m.created_at < c.newest_at {
        c.out_of_order = true;
    }
    c.last_seq = seq;
    c.newest_at = c.newest_at.max(m.created_at);
    c.changed = true;
    Ok(ImportOutcome::Created)
}

fn watermark(
    tx: &Connection,
    batch: &mut Batch,
    w: &ImportWatermark,
) -> StoreResult<ImportOutcome> {
    let Some(conversation_id) = conv(tx, batch, w.conversation)?.map(|c| c.id) else {
        return Ok(unknown_conversation(w.conversation));
    };
    let (col, key) = conversation_key(w.up_to);
    let seq = optional(
        tx,
        &format!("SELECT seq FROM messages WHERE {col} = ? AND conversation_id = ?"),
        rusqlite::params![key, conversation_id],
        |row| row.int("seq"),
    )?;
    let Some(seq) = seq else {
        return Ok(ImportOutcome::Refused(format!(
            "no message {} in conversation {}",
            w.up_to, w.conversation
        )));
    };
    let col = match w.kind {
        WatermarkKind::Read => "last_read_seq",
        WatermarkKind::Delivered => "last_delivered_seq",
    };
    let moved = execute(
        tx,
        &format!(
            "UPDATE members SET {col} = ?1 \
             WHERE conversation_id = ?2 AND user_id = ?3 AND {col} < ?1"
        ),
        rusqlite::params![seq, conversation_id, w.user_id.as_str()],
    )?;
    if moved > 0 {
        return Ok(ImportOutcome::Created);
    }
    let member = optional(
        tx,
        "SELECT 1 AS x FROM members WHERE conversation_id = ? AND user_id = ?",
        rusqlite::params![conversation_id, w.user_id.as_str()],
        |_| Ok(()),
    )?;
    Ok(match member {
        Some(()) => ImportOutcome::Skipped,
        None => ImportOutcome::Refused(format!(
            "{} is not a member of conversation {}",
            w.user_id, w.conversation
        )),
    })
}

/// Puts the conversations marked by [`import`] back in time order: their
/// messages get sequence numbers by (time, previous sequence number), and
/// each watermark follows the message it pointed at. How many.
pub(super) fn finish(db: &Pool) -> StoreResult<u64> {
    db.write(|tx| {
        let marked = all(
            tx,
            "SELECT name FROM settings WHERE name LIKE 'import_reorder:%'",
            [],
            |row| row.text("name"),
        )?;
        for name in &marked {
            if let Some(id) = name.strip_prefix(REORDER).and_then(|s| s.parse().ok()) {
                reorder(tx, id)?;
            }
            execute(tx, "DELETE FROM settings WHERE name = ?", [name])?;
        }
        Ok(marked.len() as u64)
    })
}

fn reorder(tx: &Connection, conversation_id: i64) -> StoreResult<()> {
    let messages = all(
        tx,
        "SELECT id, seq FROM messages WHERE conversation_id = ? ORDER BY created_at, seq",
        [conversation_id],
        |row| Ok((row.int("id")?, row.int("seq")?)),
    )?;
    let new_seq: HashMap<i64, i64> = messages
        .iter()
        .zip(1..)
        .map(|((_, old), new)| (*old, new))
        .collect();
    let moved: Vec<(i64, i64)> = messages
        .iter()
        .zip(1..)
        .filter(|((_, old), new)| old != new)
        .map(|((id, _), new)| (*id, new))
        .collect();
    for (id, _) in &moved {
        execute(tx, "UPDATE messages SET seq = -seq WHERE id = ?", [id])?;
    }
    for (id, seq) in &moved {
        execute(
            tx,
            "UPDATE messages SET seq = ? WHERE id = ?",
            rusqlite::params![seq, id],
        )?;
    }
    let members = all(
        tx,
        "SELECT user_id, last_read_seq, last_delivered_seq FROM members \
         WHERE conversation_id = ?",
        [conversation_id],
        |row| {
            Ok((
                row.text("user_id")?,
                row.int("last_read_seq")?,
                row.int("last_delivered_seq")?,
            ))
        },
    )?;
    let follow = |seq: i64| new_seq.get(&seq).copied().unwrap_or(seq);
    for (user, read, delivered) in members {
        execute(
            tx,
            "UPDATE members SET last_read_seq = ?, last_delivered_seq = ? \
             WHERE conversation_id = ? AND user_id = ?",
            rusqlite::params![follow(read), follow(delivered), conversation_id, user],
        )?;
    }
    Ok(())
}
