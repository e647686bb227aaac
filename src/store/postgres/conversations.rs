//! Conversations and their members: direct conversations, groups and
//! support conversations, and the list of a user's conversations.
//!
//! A function named like a [`Store`](crate::store::Store) method is that
//! method, run on the pool.

use sqlx::postgres::PgPool;
use sqlx::query;
use uuid::Uuid;

use super::error::DbResult;
use super::statements::{all, execute, id_array, one, optional};
use super::users::ensure_users_in;
use crate::core::ids::RowRef;
use crate::core::{
    Conversation, ConversationRef, ConversationSummary, Member, Millis, Role, UserId,
};
use crate::store::StoreResult;
use crate::store::rows::{self, conversation_cols, member_cols, member_order, message_cols};

pub(super) async fn direct_conversation(
    pool: &PgPool,
    creator: &UserId,
    other: &UserId,
    now: Millis,
) -> StoreResult<(Conversation, bool)> {
    rows::two_users("a direct conversation", creator, other)?;
    let key = rows::direct_key(creator, other);
    let mut tx = super::changes::begin(pool).await?;
    ensure_users_in(&mut tx, &id_array([creator, other]), now).await?;
    // A concurrent creator's row makes this wait for its transaction and
    // then do nothing; the SELECT below, a new statement, sees the row.
    let created = execute(
        &mut *tx,
        query(
            "INSERT INTO conversations \
               (uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key) \
             VALUES ($1, 'direct', NULL, $2, $3, 0, $3, $4) \
             ON CONFLICT (direct_key) DO NOTHING",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(creator.as_str())
        .bind(now)
        .bind(&key),
    )
    .await?
        == 1;
    let conversation = one(
        &mut *tx,
        query(concat!(
            "SELECT ",
            conversation_cols!(),
            " FROM conversations c WHERE c.direct_key = $1"
        ))
        .bind(&key),
        rows::conversation,
    )
    .await?;
    if created {
        execute(
            &mut *tx,
            query(
                "INSERT INTO members (conversation_id, user_id, role, joined_at) \
                 VALUES ($1, $2, 'owner', $4), ($1, $3, 'member', $4)",
            )
            .bind(conversation.id)
            .bind(creator.as_str())
            .bind(other.as_str())
            .bind(now),
        )
        .await?;
    }
    tx.commit().await.db()?;
    Ok((conversation, created))
}

pub(super) async fn create_group(
    pool: &PgPool,
    creator: &UserId,
    title: Option<&str>,
    members: &[UserId],
    now: Millis,
) -> StoreResult<Conversation> {
    insert_group(pool, creator, title, members, None, now).await
}

pub(super) async fn create_support(
    pool: &PgPool,
    visitor: &UserId,
    department_id: i64,
    title: Option<&str>,
    now: Millis,
) -> StoreResult<Conversation> {
    insert_group(pool, visitor, title, &[], Some(department_id), now).await
}

pub(super) async fn conversation(
    pool: &PgPool,
    r: ConversationRef,
) -> StoreResult<Option<Conversation>> {
    let q = match r {
        RowRef::Id(id) => query(concat!(
            "SELECT ",
            conversation_cols!(),
            " FROM conversations c WHERE c.id = $1"
        ))
        .bind(id),
        RowRef::Uuid(uuid) => query(concat!(
            "SELECT ",
            conversation_cols!(),
            " FROM conversations c WHERE c.uuid = $1"
        ))
        .bind(uuid.to_string()),
        RowRef::External(e) => query(concat!(
            "SELECT ",
            conversation_cols!(),
            " FROM conversations c WHERE c.external_id = $1"
        ))
        .bind(e.as_str().to_owned()),
    };
    optional(pool, q, rows::conversation).await
}

pub(super) async fn members(pool: &PgPool, conversation_id: i64) -> StoreResult<Vec<Member>> {
    all(
        pool,
        query(concat!(
            "SELECT ",
            member_cols!(),
            " FROM members mb WHERE mb.conversation_id = $1 ORDER BY ",
            member_order!()
        ))
        .bind(conversation_id),
        rows::member,
    )
    .await
}

pub(super) async fn member(
    pool: &PgPool,
    conversation_id: i64,
    user: &UserId,
) -> StoreResult<Option<Member>> {
    optional(
        pool,
        query(concat!(
            "SELECT ",
            member_cols!(),
            " FROM members mb WHERE mb.conversation_id = $1 AND mb.user_id = $2"
        ))
        .bind(conversation_id)
        .bind(user.as_str()),
        rows::member,
    )
    .await
}

pub(super) async fn add_member(
    pool: &PgPool,
    conversation_id: i64,
    user: &UserId,
    role: Role,
    now: Millis,
) -> StoreResult<bool> {
    let mut tx = super::changes::begin(pool).await?;
    ensure_users_in(&mut tx, &id_array([user]), now).await?;
    let added = execute(
        &mut *tx,
        query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (conversation_id, user_id) DO NOTHING",
        )
        .bind(conversation_id)
        .bind(user.as_str())
        .bind(role.as_str())
        .bind(now),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(added == 1)
}

pub(super) async fn set_muted(
    pool: &PgPool,
    conversation_id: i64,
    user: &UserId,
    muted: bool,
) -> StoreResult<bool> {
    let changed = execute(
        pool,
        query(
            "UPDATE members SET muted = $1 \
             WHERE conversation_id = $2 AND user_id = $3 AND muted <> $1",
        )
        .bind(muted)
        .bind(conversation_id)
        .bind(user.as_str()),
    )
    .await?;
    Ok(changed == 1)
}

pub(super) async fn set_role(
    pool: &PgPool,
    conversation_id: i64,
    user: &UserId,
    role: Role,
) -> StoreResult<bool> {
    let mut tx = super::changes::begin(pool).await?;
    let changed = execute(
        &mut *tx,
        query(
            "UPDATE members SET role = $1 \
             WHERE conversation_id = $2 AND user_id = $3 AND role <> $1",
        )
        .bind(role.as_str())
        .bind(conversation_id)
        .bind(user.as_str()),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(changed == 1)
}

pub(super) async fn set_title(
    pool: &PgPool,
    conversation_id: i64,
    title: &str,
) -> StoreResult<bool> {
    let mut tx = super::changes::begin(pool).await?;
    let changed = execute(
        &mut *tx,
        query(
            "UPDATE conversations SET title = $1 \
             WHERE id = $2 AND title IS DISTINCT FROM $1",
        )
        .bind(title)
        .bind(conversation_id),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(changed == 1)
}

pub(super) async fn remove_member(
    pool: &PgPool,
    conversation_id: i64,
    user: &UserId,
) -> StoreResult<bool> {
    let mut tx = super::changes::begin(pool).await?;
    let removed = execute(
        &mut *tx,
        query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
            .bind(conversation_id)
            .bind(user.as_str()),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(removed == 1)
}

pub(super) async fn conversation_ids_of(pool: &PgPool, user: &UserId) -> StoreResult<Vec<i64>> {
    all(
        pool,
        query("SELECT conversation_id FROM members WHERE user_id = $1 ORDER BY conversation_id")
            .bind(user.as_str()),
        |row| row.int("conversation_id"),
    )
    .await
}

pub(super) async fn conversations_of(
    pool: &PgPool,
    user: &UserId,
) -> StoreResult<Vec<ConversationSummary>> {
    // Three queries in one snapshot: the conversations with the unread
    // counts, all their members, and their last live messages.
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await
        .db()?;
    let summaries = all(
        &mut *tx,
        query(concat!(
            "SELECT ",
            conversation_cols!(),
            ", (SELECT COUNT(*) FROM messages m \
                WHERE m.conversation_id = c.id AND m.seq > me.last_read_seq \
                  AND m.sender_id <> me.user_id AND m.deleted_at IS NULL) AS unread \
             FROM members me JOIN conversations c ON c.id = me.conversation_id \
             WHERE me.user_id = $1 \
             ORDER BY c.updated_at DESC, c.id DESC"
        ))
        .bind(user.as_str()),
        rows::summary,
    )
    .await?;
    if summaries.is_empty() {
        tx.commit().await.db()?;
        return Ok(summaries);
    }
    let members = all(
        &mut *tx,
        query(concat!(
            "SELECT ",
            member_cols!(),
            " FROM members me JOIN members mb ON mb.conversation_id = me.conversation_id \
             WHERE me.user_id = $1 ORDER BY mb.conversation_id, ",
            member_order!()
        ))
        .bind(user.as_str()),
        rows::member,
    )
    .await?;
    // One backward step of `messages_live_idx` per conversation.
    let last_messages = all(
        &mut *tx,
        query(concat!(
            "SELECT ",
            message_cols!(),
            " FROM members me \
             JOIN conversations c ON c.id = me.conversation_id \
             CROSS JOIN LATERAL ( \
               SELECT * FROM messages x \
               WHERE x.conversation_id = me.conversation_id AND x.deleted_at IS NULL \
               ORDER BY x.seq DESC LIMIT 1) m \
             WHERE me.user_id = $1"
        ))
        .bind(user.as_str()),
        rows::message,
    )
    .await?;
    tx.commit().await.db()?;
    Ok(rows::summaries(summaries, members, last_messages))
}

pub(super) async fn unread_count(
    pool: &PgPool,
    conversation_id: i64,
    user: &UserId,
) -> StoreResult<i64> {
    one(
        pool,
        query(
            "SELECT COUNT(*) AS unread FROM members me JOIN messages m \
               ON m.conversation_id = me.conversation_id AND m.seq > me.last_read_seq \
             WHERE me.conversation_id = $1 AND me.user_id = $2 \
               AND m.sender_id <> $2 AND m.deleted_at IS NULL",
        )
        .bind(conversation_id)
        .bind(user.as_str()),
        |row| row.int("unread"),
    )
    .await
}

pub(super) async fn direct_conversation_between(
    pool: &PgPool,
    a: &UserId,
    b: &UserId,
) -> StoreResult<Option<Conversation>> {
    if a == b {
        return Ok(None);
    }
    optional(
        pool,
        query(concat!(
            "SELECT ",
            conversation_cols!(),
            " FROM conversations c WHERE c.direct_key = $1"
        ))
        .bind(rows::direct_key(a, b)),
        rows::conversation,
    )
    .await
}

/// A group with `creator` as owner, `members` as members, and its
/// department if it is a support conversation.
async fn insert_group(
    pool: &PgPool,
    creator: &UserId,
    title: Option<&str>,
    members: &[UserId],
    department: Option<i64>,
    now: Millis,
) -> StoreResult<Conversation> {
    let mut tx = super::changes::begin(pool).await?;
    ensure_users_in(
        &mut tx,
        &id_array(std::iter::once(creator).chain(members)),
        now,
    )
    .await?;
    let uuid = Uuid::now_v7();
    let id = one(
        &mut *tx,
        query(
            "INSERT INTO conversations \
               (uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key, \
                department_id) \
             VALUES ($1, 'group', $2, $3, $4, 0, $4, NULL, $5) \
             RETURNING id",
        )
        .bind(uuid.to_string())
        .bind(title)
        .bind(creator.as_str())
        .bind(now)
        .bind(department),
        |row| row.int("id"),
    )
    .await?;
    execute(
        &mut *tx,
        query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES ($1, $2, 'owner', $3)",
        )
        .bind(id)
        .bind(creator.as_str())
        .bind(now),
    )
    .await?;
    execute(
        &mut *tx,
        query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             SELECT DISTINCT $1::bigint, id, 'member', $2::bigint \
             FROM unnest($3::text[]) AS t (id) WHERE id <> $4 \
             ON CONFLICT (conversation_id, user_id) DO NOTHING",
        )
        .bind(id)
        .bind(now)
        .bind(id_array(members))
        .bind(creator.as_str()),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(rows::new_group(id, uuid, title, creator, department, now))
}
