//! Conversations and their members: direct conversations, groups and
//! support conversations, and the list of a user's conversations.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use uuid::Uuid;

use super::error::DbResult;
use super::pool::Pool;
use super::statements::{all, execute, ids_json, one, optional};
use super::users::ensure_users_in;
use crate::core::ids::RowRef;
use crate::core::{
    Conversation, ConversationRef, ConversationSummary, Member, Millis, Role, UserId,
};
use crate::store::StoreResult;
use crate::store::rows::{self, conversation_cols, member_cols, member_order, select_message};

pub(super) fn direct_conversation(
    db: &Pool,
    creator: &UserId,
    other: &UserId,
    now: Millis,
) -> StoreResult<(Conversation, bool)> {
    rows::two_users("a direct conversation", creator, other)?;
    let key = rows::direct_key(creator, other);
    let pair = ids_json([creator, other])?;
    db.write(|tx| {
        ensure_users_in(tx, &pair, now)?;
        let created = execute(
            tx,
            "INSERT INTO conversations \
               (uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key) \
             VALUES (?, 'direct', NULL, ?, ?, 0, ?, ?) \
             ON CONFLICT (direct_key) DO NOTHING",
            rusqlite::params![Uuid::now_v7().to_string(), creator.as_str(), now, now, key],
        )? == 1;
        let conversation = one(
            tx,
            concat!(
                "SELECT ",
                conversation_cols!(),
                " FROM conversations c WHERE c.direct_key = ?"
            ),
            [&key],
            rows::conversation,
        )?;
        if created {
            execute(
                tx,
                "INSERT INTO members (conversation_id, user_id, role, joined_at) \
                 VALUES (?1, ?2, 'owner', ?4), (?1, ?3, 'member', ?4)",
                rusqlite::params![conversation.id, creator.as_str(), other.as_str(), now],
            )?;
        }
        Ok((conversation, created))
    })
}

pub(super) fn create_group(
    db: &Pool,
    creator: &UserId,
    title: Option<&str>,
    members: &[UserId],
    now: Millis,
) -> StoreResult<Conversation> {
    insert_group(db, creator, title, members, None, now)
}

pub(super) fn create_support(
    db: &Pool,
    visitor: &UserId,
    department_id: i64,
    title: Option<&str>,
    now: Millis,
) -> StoreResult<Conversation> {
    insert_group(db, visitor, title, &[], Some(department_id), now)
}

pub(super) fn conversation(db: &Pool, r: ConversationRef) -> StoreResult<Option<Conversation>> {
    db.read(|conn| match r {
        RowRef::Id(id) => optional(
            conn,
            concat!(
                "SELECT ",
                conversation_cols!(),
                " FROM conversations c WHERE c.id = ?"
            ),
            [id],
            rows::conversation,
        ),
        RowRef::Uuid(uuid) => optional(
            conn,
            concat!(
                "SELECT ",
                conversation_cols!(),
                " FROM conversations c WHERE c.uuid = ?"
            ),
            [uuid.to_string()],
            rows::conversation,
        ),
        RowRef::External(e) => optional(
            conn,
            concat!(
                "SELECT ",
                conversation_cols!(),
                " FROM conversations c WHERE c.external_id = ?"
            ),
            [e.as_str()],
            rows::conversation,
        ),
    })
}

pub(super) fn members(db: &Pool, conversation_id: i64) -> StoreResult<Vec<Member>> {
    db.read(|conn| {
        all(
            conn,
            concat!(
                "SELECT ",
                member_cols!(),
                " FROM members mb WHERE mb.conversation_id = ? ORDER BY ",
                member_order!()
            ),
            [conversation_id],
            rows::member,
        )
    })
}

pub(super) fn member(
    db: &Pool,
    conversation_id: i64,
    user: &UserId,
) -> StoreResult<Option<Member>> {
    db.read(|conn| {
        optional(
            conn,
            concat!(
                "SELECT ",
                member_cols!(),
                " FROM members mb WHERE mb.conversation_id = ? AND mb.user_id = ?"
            ),
            rusqlite::params![conversation_id, user.as_str()],
            rows::member,
        )
    })
}

pub(super) fn add_member(
    db: &Pool,
    conversation_id: i64,
    user: &UserId,
    role: Role,
    now: Millis,
) -> StoreResult<bool> {
    let json = ids_json([user])?;
    db.write(|tx| {
        ensure_users_in(tx, &json, now)?;
        let added = execute(
            tx,
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES (?, ?, ?, ?) \
             ON CONFLICT (conversation_id, user_id) DO NOTHING",
            rusqlite::params![conversation_id, user.as_str(), role.as_str(), now],
        )?;
        Ok(added == 1)
    })
}

pub(super) fn set_muted(
    db: &Pool,
    conversation_id: i64,
    user: &UserId,
    muted: bool,
) -> StoreResult<bool> {
    let muted = i64::from(muted);
    let changed = db.write(|tx| {
        execute(
            tx,
            "UPDATE members SET muted = ? \
             WHERE conversation_id = ? AND user_id = ? AND muted <> ?",
            rusqlite::params![muted, conversation_id, user.as_str(), muted],
        )
    })?;
    Ok(changed == 1)
}

pub(super) fn set_role(
    db: &Pool,
    conversation_id: i64,
    user: &UserId,
    role: Role,
) -> StoreResult<bool> {
    let changed = db.write(|tx| {
        execute(
            tx,
            "UPDATE members SET role = ?1 \
             WHERE conversation_id = ?2 AND user_id = ?3 AND role <> ?1",
            rusqlite::params![role.as_str(), conversation_id, user.as_str()],
        )
    })?;
    Ok(changed == 1)
}

pub(super) fn set_title(db: &Pool, conversation_id: i64, title: &str) -> StoreResult<bool> {
    let changed = db.write(|tx| {
        execute(
            tx,
            "UPDATE conversations SET title = ?1 \
             WHERE id = ?2 AND title IS NOT ?1",
            rusqlite::params![title, conversation_id],
        )
    })?;
    Ok(changed == 1)
}

pub(super) fn remove_member(db: &Pool, conversation_id: i64, user: &UserId) -> StoreResult<bool> {
    let removed = db.write(|tx| {
        execute(
            tx,
            "DELETE FROM members WHERE conversation_id = ? AND user_id = ?",
            rusqlite::params![conversation_id, user.as_str()],
        )
    })?;
    Ok(removed == 1)
}

pub(super) fn conversation_ids_of(db: &Pool, user: &UserId) -> StoreResult<Vec<i64>> {
    db.read(|conn| {
        all(
            conn,
            "SELECT conversation_id FROM members WHERE user_id = ? ORDER BY conversation_id",
            [user.as_str()],
            |row| row.int("conversation_id"),
        )
    })
}

pub(super) fn conversations_of(db: &Pool, user: &UserId) -> StoreResult<Vec<ConversationSummary>> {
    // Three queries in one read transaction (one snapshot): the
    // conversations with the unread counts, all their members, and
    // their last live messages.
    db.read(|conn| {
        let tx = conn.transaction().db()?;
        let summaries = all(
            &tx,
            concat!(
                "SELECT ",
                conversation_cols!(),
                ", (SELECT COUNT(*) FROM messages m \
                    WHERE m.conversation_id = c.id AND m.seq > me.last_read_seq \
                      AND m.sender_id <> me.user_id AND m.deleted_at IS NULL) AS unread \
                 FROM members me JOIN conversations c ON c.id = me.conversation_id \
                 WHERE me.user_id = ? \
                 ORDER BY c.updated_at DESC, c.id DESC"
            ),
            [user.as_str()],
            rows::summary,
        )?;
        if summaries.is_empty() {
            tx.commit().db()?;
            return Ok(summaries);
        }

        let members = all(
            &tx,
            concat!(
                "SELECT ",
                member_cols!(),
                " FROM members me JOIN members mb ON mb.conversation_id = me.conversation_id \
                 WHERE me.user_id = ? ORDER BY mb.conversation_id, ",
                member_order!()
            ),
            [user.as_str()],
            rows::member,
        )?;
        let last_messages = all(
            &tx,
            concat!(
                select_message!(),
                "JOIN members me ON me.conversation_id = m.conversation_id \
                 WHERE me.user_id = ? AND m.seq = ( \
                   SELECT MAX(x.seq) FROM messages x \
                   WHERE x.conversation_id = m.conversation_id AND x.deleted_at IS NULL)"
            ),
            [user.as_str()],
            rows::message,
        )?;
        tx.commit().db()?;
        Ok(rows::summaries(summaries, members, last_messages))
    })
}

pub(super) fn unread_count(db: &Pool, conversation_id: i64, user: &UserId) -> StoreResult<i64> {
    db.read(|conn| {
        one(
            conn,
            "SELECT COUNT(*) AS unread FROM members me JOIN messages m \
               ON m.conversation_id = me.conversation_id AND m.seq > me.last_read_seq \
             WHERE me.conversation_id = ?1 AND me.user_id = ?2 \
               AND m.sender_id <> ?2 AND m.deleted_at IS NULL",
            rusqlite::params![conversation_id, user.as_str()],
            |row| row.int("unread"),
        )
    })
}

pub(super) fn direct_conversation_between(
    db: &Pool,
    a: &UserId,
    b: &UserId,
) -> StoreResult<Option<Conversation>> {
    if a == b {
        return Ok(None);
    }
    let key = rows::direct_key(a, b);
    db.read(|conn| {
        optional(
            conn,
            concat!(
                "SELECT ",
                conversation_cols!(),
                " FROM conversations c WHERE c.direct_key = ?"
            ),
            [key],
            rows::conversation,
        )
    })
}

/// A group with `creator` as owner, `members` as members, and its
/// department if it is a support conversation.
fn insert_group(
    db: &Pool,
    creator: &UserId,
    title: Option<&str>,
    members: &[UserId],
    department: Option<i64>,
    now: Millis,
) -> StoreResult<Conversation> {
    let members_json = ids_json(members)?;
    let everyone = ids_json(std::iter::once(creator).chain(members))?;
    db.write(|tx| {
        ensure_users_in(tx, &everyone, now)?;
        let uuid = Uuid::now_v7();
        let id = one(
            tx,
            "INSERT INTO conversations \
               (uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key, \
                department_id) \
             VALUES (?, 'group', ?, ?, ?, 0, ?, NULL, ?) \
             RETURNING id",
            rusqlite::params![
                uuid.to_string(),
                title,
                creator.as_str(),
                now,
                now,
                department
            ],
            |row| row.int("id"),
        )?;
        let conversation = rows::new_group(id, uuid, title, creator, department, now);
        execute(
            tx,
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES (?, ?, 'owner', ?)",
            rusqlite::params![conversation.id, creator.as_str(), now],
        )?;
        execute(
            tx,
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             SELECT ?1, value, 'member', ?2 FROM json_each(?3) WHERE value <> ?4 \
             ON CONFLICT (conversation_id, user_id) DO NOTHING",
            rusqlite::params![conversation.id, now, members_json, creator.as_str()],
        )?;
        Ok(conversation)
    })
}
