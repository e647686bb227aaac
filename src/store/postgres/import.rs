//! History import on PostgreSQL: a batch of items in one transaction, as in
//! the SQLite store, each checked against what is stored so that no
//! constraint fails half-way. Runs of messages (what a history mostly is)
//! are written with one multi-row `INSERT … SELECT FROM unnest(…)` per run
//! after one lookup of the ids already there, so a batch costs a handful of
//! round trips rather than one per message. Explicit numeric ids move the
//! identity sequences past them at the end of the batch.

use std::collections::{HashMap, HashSet};

use sqlx::postgres::PgPool;
use sqlx::{PgConnection, query};
use uuid::Uuid;

use super::error::DbResult;
use super::statements::{Query, all, execute, optional};
use crate::core::error::StoreError;
use crate::core::import::{
    ImportConversation, ImportItem, ImportMember, ImportMessage, ImportOutcome, ImportUser,
    ImportWatermark, WatermarkKind,
};
use crate::core::{ConversationKind, Millis, RowRef, UserId};
use crate::store::StoreResult;
use crate::store::rows;

const REORDER: &str = "import_reorder:";

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
    explicit_conversation_ids: bool,
    explicit_message_ids: bool,
}

pub(super) async fn import(
    pool: &PgPool,
    items: &[ImportItem],
    now: Millis,
) -> StoreResult<Vec<ImportOutcome>> {
    let mut tx = pool.begin().await.db()?;
    let mut batch = Batch::default();
    let mut out = Vec::with_capacity(items.len());
    let mut i = 0;
    while i < items.len() {
        if let ImportItem::Message(_) = &items[i] {
            let start = i;
            while i < items.len() && matches!(items[i], ImportItem::Message(_)) {
                i += 1;
            }
            let run: Vec<&ImportMessage> = items[start..i]
                .iter()
                .filter_map(|item| match item {
                    ImportItem::Message(m) => Some(m),
                    _ => None,
                })
                .collect();
            out.extend(messages(&mut tx, &mut batch, &run, now).await?);
            continue;
        }
        out.push(match &items[i] {
            ImportItem::User(u) => user(&mut tx, &mut batch, u).await?,
            ImportItem::Conversation(c) => conversation(&mut tx, &mut batch, c).await?,
            ImportItem::Member {
                conversation,
                member: m,
            } => member(&mut tx, &mut batch, *conversation, m, now).await?,
            ImportItem::Watermark(w) => watermark(&mut tx, &mut batch, w).await?,
            ImportItem::Message(_) => unreachable!("runs of messages are handled above"),
        });
        i += 1;
    }
    for conv in batch.convs.values().flatten().filter(|c| c.changed) {
        execute(
            &mut *tx,
            query(
                "UPDATE conversations SET last_seq = $1, updated_at = GREATEST(updated_at, $2) \
                 WHERE id = $3",
            )
            .bind(conv.last_seq)
            .bind(conv.newest_at)
            .bind(conv.id),
        )
        .await?;
        if conv.out_of_order {
            execute(
                &mut *tx,
                query("INSERT INTO settings (name, value) VALUES ($1, 1) ON CONFLICT DO NOTHING")
                    .bind(format!("{REORDER}{}", conv.id)),
            )
            .await?;
        }
    }
    for (table, explicit) in [
        ("conversations", batch.explicit_conversation_ids),
        ("messages", batch.explicit_message_ids),
    ] {
        if explicit {
            let sql = match table {
                "conversations" => {
                    "SELECT setval(pg_get_serial_sequence('conversations', 'id'), \
                       GREATEST((SELECT MAX(id) FROM conversations), 1))"
                }
                _ => {
                    "SELECT setval(pg_get_serial_sequence('messages', 'id'), \
                       GREATEST((SELECT MAX(id) FROM messages), 1))"
                }
            };
            query(sql).execute(&mut *tx).await.db()?;
        }
    }
    tx.commit().await.db()?;
    Ok(out)
}

fn outcome(created: bool) -> ImportOutcome {
    if created {
        ImportOutcome::Created
    } else {
        ImportOutcome::Skipped
    }
}

async fn user(
    tx: &mut PgConnection,
    batch: &mut Batch,
    u: &ImportUser,
) -> StoreResult<ImportOutcome> {
    let changed = execute(
        &mut *tx,
        query(
            "INSERT INTO users (id, display_name, avatar_url, email, placeholder, created_at, \
               disabled, tokens_valid_after) \
             VALUES ($1, $2, $3, $4, FALSE, $5, $6, \
               (SELECT value FROM settings WHERE name = 'tokens_valid_after')) \
             ON CONFLICT (id) DO UPDATE SET \
               display_name = excluded.display_name, avatar_url = excluded.avatar_url, \
               email = excluded.email, disabled = excluded.disabled, placeholder = FALSE \
             WHERE users.placeholder",
        )
        .bind(u.id.as_str())
        .bind(u.profile.display_name.as_deref())
        .bind(u.profile.avatar_url.as_deref())
        .bind(u.profile.email.as_deref())
        .bind(u.created_at)
        .bind(u.disabled),
    )
    .await?;
    batch.users.insert(u.id.clone());
    Ok(outcome(changed > 0))
}

async fn ensure_users(
    tx: &mut PgConnection,
    batch: &mut Batch,
    ids: &[&UserId],
    now: Millis,
) -> StoreResult<()> {
    let new: Vec<&str> = ids
        .iter()
        .filter(|id| !batch.users.contains(**id))
        .map(|id| id.as_str())
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    super::users::ensure_users_in(tx, &new, now).await?;
    batch.users.extend(ids.iter().map(|id| (*id).clone()));
    Ok(())
}

/// `q` with the value of a foreign id (see [`key`]) bound as its next
/// parameter.
fn bind_key<'q>(q: Query<'q>, int: Option<i64>, text: Option<String>) -> Query<'q> {
    match int {
        Some(n) => q.bind(n),
        None => q.bind(text.unwrap_or_default()),
    }
}

/// The column a foreign id is kept in, and its value as text or integer.
fn key(r: RowRef) -> (&'static str, Option<i64>, Option<String>) {
    match r {
        RowRef::Id(id) => ("id", Some(id), None),
        RowRef::Uuid(u) => ("uuid", None, Some(u.to_string())),
        RowRef::External(e) => ("external_id", None, Some(e.as_str().to_owned())),
    }
}

async fn conv<'a>(
    tx: &mut PgConnection,
    batch: &'a mut Batch,
    r: RowRef,
) -> StoreResult<Option<&'a mut Conv>> {
    if let std::collections::hash_map::Entry::Vacant(slot) = batch.convs.entry(r) {
        let (col, int, text) = key(r);
        macro_rules! by {
            ($col:literal) => {
                concat!(
                    "SELECT c.id, c.last_seq, \
                       COALESCE((SELECT MAX(m.created_at) FROM messages m \
                                 WHERE m.conversation_id = c.id AND m.seq = c.last_seq), 0) \
                       AS newest_at \
                     FROM conversations c WHERE c.",
                    $col,
                    " = $1"
                )
            };
        }
        let sql = match col {
            "id" => by!("id"),
            "uuid" => by!("uuid"),
            _ => by!("external_id"),
        };
        let q = bind_key(query(sql), int, text);
        let found = optional(&mut *tx, q, |row| {
            Ok(Conv {
                id: row.int("id")?,
                last_seq: row.int("last_seq")?,
                newest_at: row.int("newest_at")?,
                changed: false,
                out_of_order: false,
            })
        })
        .await?;
        slot.insert(found);
    }
    Ok(batch.convs.get_mut(&r).and_then(Option::as_mut))
}

fn unknown_conversation(r: RowRef) -> ImportOutcome {
    ImportOutcome::Refused(format!("no conversation {r} (it must come before)"))
}

async fn conversation(
    tx: &mut PgConnection,
    batch: &mut Batch,
    c: &ImportConversation,
) -> StoreResult<ImportOutcome> {
    if conv(tx, batch, c.id).await?.is_some() {
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
    if let Some(k) = &direct_key
        && let Some(other) = optional(
            &mut *tx,
            query("SELECT id FROM conversations WHERE direct_key = $1").bind(k),
            |row| row.int("id"),
        )
        .await?
    {
        return Ok(ImportOutcome::Refused(format!(
            "the direct conversation of these two users exists already (id {other})"
        )));
    }
    let mut everyone: Vec<&UserId> = vec![&c.created_by];
    everyone.extend(c.members.iter().map(|m| &m.user_id));
    ensure_users(tx, batch, &everyone, c.created_at).await?;
    let (id, uuid, external) = match c.id {
        RowRef::Id(id) => (Some(id), Uuid::now_v7(), None),
        RowRef::Uuid(u) => (None, u, None),
        RowRef::External(e) => (None, Uuid::now_v7(), Some(e.as_str().to_owned())),
    };
    let id = optional(
        &mut *tx,
        query(
            "INSERT INTO conversations \
               (id, uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key, \
                external_id) \
             VALUES (COALESCE($1, nextval(pg_get_serial_sequence('conversations', 'id'))), \
                     $2, $3, $4, $5, $6, 0, $6, $7, $8) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(id)
        .bind(uuid.to_string())
        .bind(c.kind.as_str())
        .bind(c.title.as_deref())
        .bind(c.created_by.as_str())
        .bind(c.created_at)
        .bind(direct_key)
        .bind(external),
        |row| row.int("id"),
    )
    .await?;
    let Some(new_id) = id else {
        return Ok(ImportOutcome::Refused(
            "its id or uuid is taken by another conversation".into(),
        ));
    };
    if matches!(c.id, RowRef::Id(_)) {
        batch.explicit_conversation_ids = true;
    }
    for m in &c.members {
        insert_member(tx, new_id, m).await?;
    }
    batch.convs.insert(
        c.id,
        Some(Conv {
            id: new_id,
            last_seq: 0,
            newest_at: 0,
            changed: false,
            out_of_order: false,
        }),
    );
    Ok(ImportOutcome::Created)
}

async fn insert_member(
    tx: &mut PgConnection,
    conversation_id: i64,
    m: &ImportMember,
) -> StoreResult<bool> {
    Ok(execute(
        &mut *tx,
        query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(conversation_id)
        .bind(m.user_id.as_str())
        .bind(m.role.as_str())
        .bind(m.joined_at),
    )
    .await?
        > 0)
}

async fn member(
    tx: &mut PgConnection,
    batch: &mut Batch,
    r: RowRef,
    m: &ImportMember,
    now: Millis,
) -> StoreResult<ImportOutcome> {
    let Some(id) = conv(tx, batch, r).await?.map(|c| c.id) else {
        return Ok(unknown_conversation(r));
    };
    ensure_users(tx, batch, &[&m.user_id], now).await?;
    Ok(outcome(insert_member(tx, id, m).await?))
}

/// A run of messages: the ids already stored in one query, then every new
/// one in one insert.
async fn messages(
    tx: &mut PgConnection,
    batch: &mut Batch,
    run: &[&ImportMessage],
    now: Millis,
) -> StoreResult<Vec<ImportOutcome>> {
    let mut ids = Vec::new();
    let mut uuids = Vec::new();
    let mut externals = Vec::new();
    for m in run {
        match m.id {
            RowRef::Id(id) => ids.push(id),
            RowRef::Uuid(u) => uuids.push(u.to_string()),
            RowRef::External(e) => externals.push(e.as_str().to_owned()),
        }
    }
    let stored = all(
        &mut *tx,
        query(
            "SELECT id, uuid, external_id FROM messages \
             WHERE id = ANY($1) OR uuid = ANY($2) OR external_id = ANY($3)",
        )
        .bind(&ids)
        .bind(&uuids)
        .bind(&externals),
        |row| {
            Ok((
                row.int("id")?,
                row.text("uuid")?,
                row.opt_text("external_id")?,
            ))
        },
    )
    .await?;
    let mut seen: HashSet<String> = HashSet::new();
    for (id, uuid, external) in stored {
        seen.insert(RowRef::Id(id).to_string());
        seen.insert(uuid);
        if let Some(e) = external {
            seen.insert(e);
        }
    }
    let senders: Vec<&UserId> = run.iter().map(|m| &m.sender).collect();
    ensure_users(tx, batch, &senders, now).await?;

    let mut out = Vec::with_capacity(run.len());
    let mut rows = Rows::default();
    for m in run {
        let foreign = m.id.to_string();
        if !seen.insert(foreign) {
            out.push(ImportOutcome::Skipped);
            continue;
        }
        let Some(c) = conv(tx, batch, m.conversation).await? else {
            out.push(unknown_conversation(m.conversation));
            continue;
        };
        let deleted = m.deleted_at.is_some();
        let (urls, meta) = if deleted {
            (Vec::new(), None)
        } else {
            rows::attachment_columns(&m.attachments)?
        };
        let (id, uuid, external) = match m.id {
            RowRef::Id(id) => (Some(id), Uuid::now_v7(), None),
            RowRef::Uuid(u) => (None, u, None),
            RowRef::External(e) => (None, Uuid::now_v7(), Some(e.as_str().to_owned())),
        };
        c.last_seq += 1;
        if m.created_at < c.newest_at {
            c.out_of_order = true;
        }
        c.newest_at = c.newest_at.max(m.created_at);
        c.changed = true;
        rows.id.push(id);
        rows.uuid.push(uuid.to_string());
        rows.conversation_id.push(c.id);
        rows.seq.push(c.last_seq);
        rows.sender.push(m.sender.as_str().to_owned());
        rows.kind.push(m.kind.as_str());
        rows.text.push(if deleted { None } else { m.text.clone() });
        rows.attachments.push(
            serde_json::to_string(&urls)
                .map_err(|e| StoreError::Backend(format!("encoding attachments: {e}")))?,
        );
        rows.meta.push(meta);
        rows.created_at.push(m.created_at);
        rows.edited_at.push(m.edited_at);
        rows.deleted_at.push(m.deleted_at);
        rows.external.push(external);
        out.push(ImportOutcome::Created);
    }
    if rows.id.is_empty() {
        return Ok(out);
    }
    if rows.id.iter().any(Option::is_some) {
        batch.explicit_message_ids = true;
    }
    let inserted = all(
        &mut *tx,
        query(
            "INSERT INTO messages \
               (id, uuid, conversation_id, seq, sender_id, kind, text, attachments, \
                attachment_meta, created_at, edited_at, deleted_at, external_id) \
             SELECT COALESCE(t.id, nextval(pg_get_serial_sequence('messages', 'id'))), \
               t.uuid, t.conversation_id, t.seq, t.sender_id, t.kind, t.text, \
               ARRAY(SELECT jsonb_array_elements_text(t.attachments::jsonb)), \
               t.meta, t.created_at, t.edited_at, t.deleted_at, t.external_id \
             FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], \
                         $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], \
                         $11::bigint[], $12::bigint[], $13::text[]) \
               AS t (id, uuid, conversation_id, seq, sender_id, kind, text, attachments, meta, \
                     created_at, edited_at, deleted_at, external_id) \
             ON CONFLICT DO NOTHING \
             RETURNING id, conversation_id, attachments",
        )
        .bind(&rows.id)
        .bind(&rows.uuid)
        .bind(&rows.conversation_id)
        .bind(&rows.seq)
        .bind(&rows.sender)
        .bind(&rows.kind)
        .bind(&rows.text)
        .bind(&rows.attachments)
        .bind(&rows.meta)
        .bind(&rows.created_at)
        .bind(&rows.edited_at)
        .bind(&rows.deleted_at)
        .bind(&rows.external),
        |row| {
            Ok((
                row.int("id")?,
                row.int("conversation_id")?,
                row.strings("attachments")?,
            ))
        },
    )
    .await?;
    if inserted.len() != rows.id.len() {
        // A uuid or id taken by a message that is not the same one: the
        // sequence numbers given out would have gaps.
        return Err(StoreError::Conflict(
            "an imported message's id or uuid is taken by another message",
        ));
    }
    for (id, conversation_id, urls) in inserted.iter().filter(|(_, _, u)| !u.is_empty()) {
        execute(
            &mut *tx,
            query(
                "INSERT INTO message_attachments (conversation_id, path, message_id) \
                 SELECT DISTINCT $1::bigint, path, $2::bigint FROM unnest($3::text[]) AS a (path) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(conversation_id)
            .bind(id)
            .bind(urls),
        )
        .await?;
    }
    Ok(out)
}

/// The columns of a run of new messages, for `unnest`.
#[derive(Default)]
struct Rows {
    id: Vec<Option<i64>>,
    uuid: Vec<String>,
    conversation_id: Vec<i64>,
    seq: Vec<i64>,
    sender: Vec<String>,
    kind: Vec<&'static str>,
    text: Vec<Option<String>>,
    attachments: Vec<String>,
    meta: Vec<Option<String>>,
    created_at: Vec<i64>,
    edited_at: Vec<Option<i64>>,
    deleted_at: Vec<Option<i64>>,
    external: Vec<Option<String>>,
}

async fn watermark(
    tx: &mut PgConnection,
    batch: &mut Batch,
    w: &ImportWatermark,
) -> StoreResult<ImportOutcome> {
    let Some(conversation_id) = conv(tx, batch, w.conversation).await?.map(|c| c.id) else {
        return Ok(unknown_conversation(w.conversation));
    };
    let (col, int, text) = key(w.up_to);
    let sql = match col {
        "id" => "SELECT seq FROM messages WHERE id = $1 AND conversation_id = $2",
        "uuid" => "SELECT seq FROM messages WHERE uuid = $1 AND conversation_id = $2",
        _ => "SELECT seq FROM messages WHERE external_id = $1 AND conversation_id = $2",
    };
    let seq = optional(
        &mut *tx,
        bind_key(query(sql), int, text).bind(conversation_id),
        |row| row.int("seq"),
    )
    .await?;
    let Some(seq) = seq else {
        return Ok(ImportOutcome::Refused(format!(
            "no message {} in conversation {}",
            w.up_to, w.conversation
        )));
    };
    let sql = match w.kind {
        WatermarkKind::Read => {
            "UPDATE members SET last_read_seq = $1 \
             WHERE conversation_id = $2 AND user_id = $3 AND last_read_seq < $1"
        }
        WatermarkKind::Delivered => {
            "UPDATE members SET last_delivered_seq = $1 \
             WHERE conversation_id = $2 AND user_id = $3 AND last_delivered_seq < $1"
        }
    };
    let moved = execute(
        &mut *tx,
        query(sql)
            .bind(seq)
            .bind(conversation_id)
            .bind(w.user_id.as_str()),
    )
    .await?;
    if moved > 0 {
        return Ok(ImportOutcome::Created);
    }
    let member = optional(
        &mut *tx,
        query("SELECT 1 AS x FROM members WHERE conversation_id = $1 AND user_id = $2")
            .bind(conversation_id)
            .bind(w.user_id.as_str()),
        |_| Ok(()),
    )
    .await?;
    Ok(match member {
        Some(()) => ImportOutcome::Skipped,
        None => ImportOutcome::Refused(format!(
            "{} is not a member of conversation {}",
            w.user_id, w.conversation
        )),
    })
}

/// Puts the conversations marked by [`import`] back in time order (see
/// the SQLite store's `finish`). How many.
pub(super) async fn finish(pool: &PgPool) -> StoreResult<u64> {
    let mut tx = pool.begin().await.db()?;
    let marked = all(
        &mut *tx,
        query("SELECT name FROM settings WHERE name LIKE 'import_reorder:%'"),
        |row| row.text("name"),
    )
    .await?;
    for name in &marked {
        if let Some(id) = name.strip_prefix(REORDER).and_then(|s| s.parse().ok()) {
            reorder(&mut tx, id).await?;
        }
        execute(
            &mut *tx,
            query("DELETE FROM settings WHERE name = $1").bind(name),
        )
        .await?;
    }
    tx.commit().await.db()?;
    Ok(marked.len() as u64)
}

async fn reorder(tx: &mut PgConnection, conversation_id: i64) -> StoreResult<()> {
    let messages = all(
        &mut *tx,
        query("SELECT id, seq FROM messages WHERE conversation_id = $1 ORDER BY created_at, seq")
            .bind(conversation_id),
        |row| Ok((row.int("id")?, row.int("seq")?)),
    )
    .await?;
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
    let ids: Vec<i64> = moved.iter().map(|(id, _)| *id).collect();
    let seqs: Vec<i64> = moved.iter().map(|(_, s)| *s).collect();
    execute(
        &mut *tx,
        query("UPDATE messages SET seq = -seq WHERE id = ANY($1)").bind(&ids),
    )
    .await?;
    execute(
        &mut *tx,
        query(
            "UPDATE messages m SET seq = t.seq FROM unnest($1::bigint[], $2::bigint[]) \
             AS t (id, seq) WHERE m.id = t.id",
        )
        .bind(&ids)
        .bind(&seqs),
    )
    .await?;
    let members = all(
        &mut *tx,
        query(
            "SELECT user_id, last_read_seq, last_delivered_seq FROM members \
             WHERE conversation_id = $1",
        )
        .bind(conversation_id),
        |row| {
            Ok((
                row.text("user_id")?,
                row.int("last_read_seq")?,
                row.int("last_delivered_seq")?,
            ))
        },
    )
    .await?;
    let follow = |seq: i64| new_seq.get(&seq).copied().unwrap_or(seq);
    for (user, read, delivered) in members {
        execute(
            &mut *tx,
            query(
                "UPDATE members SET last_read_seq = $1, last_delivered_seq = $2 \
                 WHERE conversation_id = $3 AND user_id = $4",
            )
            .bind(follow(read))
            .bind(follow(delivered))
            .bind(conversation_id)
            .bind(user),
        )
        .await?;
    }
    Ok(())
}
