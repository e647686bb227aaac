//! What the two stores share: the column lists of the tables; the mappers
//! from a row to a model value, written once over [`Row`], which rusqlite's
//! and sqlx's rows implement in their store; the values that an insert
//! made; the assembly of conversation summaries and of moved delivery
//! watermarks; the parsers of stored kinds and statuses; the keys of pairs
//! of users; and the errors both stores raise for a bad call.
//!
//! The SQL around the column lists stays in each store: the dialects differ
//! in placeholders (`?` and `$1`), in how a list of ids is passed
//! (`json_each` and `unnest`) and in how booleans and attachments are
//! stored, which [`Row`] hides from the mappers.

use std::collections::HashMap;

use uuid::Uuid;

use crate::core::error::StoreError;
use crate::core::{
    Agent, AgentRole, Attachment, AttachmentMeta, Change, ChangeKind, ChangePage, Conversation,
    ConversationKind, ConversationSummary, Department, Device, DevicePlatform, Friendship,
    FriendshipStatus, Member, Message, MessageKind, Millis, NewMessage, Role, Upload, User, UserId,
};
use crate::store::{Credentials, StoreResult};

/// The columns of a `User`, from `users`.
macro_rules! user_cols {
    () => {
        "id, username, display_name, avatar_url, email, placeholder, created_at, last_seen_at, \
         disabled, tokens_valid_after, deleted_at"
    };
}

/// The columns of a `Conversation`, from `conversations c`.
macro_rules! conversation_cols {
    () => {
        "c.id, c.uuid, c.kind, c.title, c.created_by, c.created_at, c.last_seq, c.updated_at, \
         c.department_id, c.external_id"
    };
}

/// The columns of a `Member`, from `members mb`.
macro_rules! member_cols {
    () => {
        "mb.conversation_id, mb.user_id, mb.role, mb.joined_at, mb.last_read_seq, \
         mb.last_delivered_seq, mb.muted"
    };
}

/// The order in which members are listed: by joining time, owners and
/// admins first among those who joined together.
macro_rules! member_order {
    () => {
        "mb.joined_at, CASE mb.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, mb.user_id"
    };
}

/// The columns of a `Message`, from `messages m` and its `conversations c`.
macro_rules! message_cols {
    () => {
        "m.id, m.uuid, m.conversation_id, c.uuid AS conversation_uuid, m.seq, m.sender_id, \
         m.kind, m.declared_kind, m.text, m.attachments, m.attachment_meta, m.client_id, \
         m.created_at, \
         m.edited_at, m.deleted_at, m.external_id, c.external_id AS conversation_external_id"
    };
}

/// `SELECT` of a `Message`, from `messages m` joined to `conversations c`.
macro_rules! select_message {
    () => {
        concat!(
            "SELECT ",
            $crate::store::rows::message_cols!(),
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        )
    };
}

/// The columns of a `Change`, from `changes ch`, its `conversations c`
/// and the message it names, if any (`LEFT JOIN messages m`).
macro_rules! change_cols {
    () => {
        concat!(
            "ch.id AS change_id, ch.kind AS change_kind, ch.message_id AS change_message_id, \
             ch.user_id AS change_user_id, ch.seq AS change_seq, ch.role AS change_role, \
             ch.at AS change_at, ch.conversation_id AS change_conversation_id, ",
            $crate::store::rows::message_cols!()
        )
    };
}

/// The columns of a `Department`, from `departments d`.
macro_rules! department_cols {
    () => {
        "d.id, d.uuid, d.name, d.created_by, d.created_at"
    };
}

/// The columns of an `Agent`, from `department_agents`.
macro_rules! agent_cols {
    () => {
        "department_id, user_id, role, added_at"
    };
}

/// The columns of a `Friendship`, from `friendships`.
macro_rules! friendship_cols {
    () => {
        "requester, addressee, status, blocked_by, created_at, updated_at"
    };
}

/// The columns of a `Device`, from `devices`.
macro_rules! device_cols {
    () => {
        "token, user_id, platform, created_at, push_format"
    };
}

/// The columns of an `Upload`, from `uploads`.
macro_rules! upload_cols {
    () => {
        "path, owner, kind, content_type, size, created_at"
    };
}

pub(crate) use {
    agent_cols, change_cols, conversation_cols, department_cols, device_cols, friendship_cols,
    member_cols, member_order, message_cols, select_message, upload_cols, user_cols,
};

/// The columns of a result row, by name, as the model types want them.
pub(crate) trait Row {
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    /// A text column, borrowed from the row.
    fn opt_str(&self, col: &str) -> StoreResult<Option<&str>>;
    /// A boolean column.
    fn flag(&self, col: &str) -> StoreResult<bool>;
    /// A list of strings (the attachments of a message).
    fn strings(&self, col: &str) -> StoreResult<Vec<String>>;

    fn str(&self, col: &str) -> StoreResult<&str> {
        self.opt_str(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {col} is NULL")))
    }

    fn text(&self, col: &str) -> StoreResult<String> {
        self.str(col).map(str::to_owned)
    }

    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        Ok(self.opt_str(col)?.map(str::to_owned))
    }

    fn uuid(&self, col: &str) -> StoreResult<Uuid> {
        parse_uuid(self.str(col)?)
    }

    fn user_id(&self, col: &str) -> StoreResult<UserId> {
        self.text(col).map(UserId::from_trusted)
    }
}

pub(crate) fn user(row: &dyn Row) -> StoreResult<User> {
    Ok(User {
        id: row.user_id("id")?,
        username: row.opt_text("username")?,
        display_name: row.opt_text("display_name")?,
        avatar_url: row.opt_text("avatar_url")?,
        email: row.opt_text("email")?,
        placeholder: row.flag("placeholder")?,
        created_at: row.int("created_at")?,
        last_seen_at: row.opt_int("last_seen_at")?,
        disabled: row.flag("disabled")?,
        tokens_valid_after: row.opt_int("tokens_valid_after")?,
        deleted_at: row.opt_int("deleted_at")?,
    })
}

/// A user with its `password_hash`.
pub(crate) fn credentials(row: &dyn Row) -> StoreResult<Credentials> {
    Ok(Credentials {
        user: user(row)?,
        password_hash: row.text("password_hash")?,
    })
}

pub(crate) fn conversation(row: &dyn Row) -> StoreResult<Conversation> {
    Ok(Conversation {
        id: row.int("id")?,
        uuid: row.uuid("uuid")?,
        kind: conversation_kind(row.str("kind")?)?,
        title: row.opt_text("title")?,
        created_by: row.user_id("created_by")?,
        created_at: row.int("created_at")?,
        last_seq: row.int("last_seq")?,
        updated_at: row.int("updated_at")?,
        department_id: row.opt_int("department_id")?,
        external_id: row.opt_text("external_id")?,
    })
}

/// The group that an insert of these values made, as `id`.
pub(crate) fn new_group(
    id: i64,
    uuid: Uuid,
    title: Option<&str>,
    creator: &UserId,
    department_id: Option<i64>,
    now: Millis,
) -> Conversation {
    Conversation {
        id,
        uuid,
        kind: ConversationKind::Group,
        title: title.map(str::to_owned),
        created_by: creator.clone(),
        created_at: now,
        last_seq: 0,
        updated_at: now,
        department_id,
        external_id: None,
    }
}

/// A conversation with its `unread` count; members and last message are
/// filled in by [`summaries`].
pub(crate) fn summary(row: &dyn Row) -> StoreResult<ConversationSummary> {
    Ok(ConversationSummary {
        conversation: conversation(row)?,
        members: Vec::new(),
        last_message: None,
        unread_count: row.int("unread")?,
    })
}

/// Gives each summary its members and last message.
pub(crate) fn summaries(
    mut summaries: Vec<ConversationSummary>,
    members: Vec<Member>,
    last_messages: Vec<Message>,
) -> Vec<ConversationSummary> {
    let mut by_conversation: HashMap<i64, Vec<Member>> = HashMap::new();
    for member in members {
        by_conversation
            .entry(member.conversation_id)
            .or_default()
            .push(member);
    }
    let mut last: HashMap<i64, Message> = last_messages
        .into_iter()
        .map(|m| (m.conversation_id, m))
        .collect();
    for s in &mut summaries {
        let id = s.conversation.id;
        s.members = by_conversation.remove(&id).unwrap_or_default();
        s.last_message = last.remove(&id);
    }
    summaries
}

pub(crate) fn member(row: &dyn Row) -> StoreResult<Member> {
    let role = row.str("role")?;
    Ok(Member {
        conversation_id: row.int("conversation_id")?,
        user_id: row.user_id("user_id")?,
        role: Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        joined_at: row.int("joined_at")?,
        last_read_seq: row.int("last_read_seq")?,
        last_delivered_seq: row.int("last_delivered_seq")?,
        muted: row.flag("muted")?,
    })
}

pub(crate) fn message(row: &dyn Row) -> StoreResult<Message> {
    Ok(Message {
        id: row.int("id")?,
        uuid: row.uuid("uuid")?,
        conversation_id: row.int("conversation_id")?,
        conversation_uuid: row.uuid("conversation_uuid")?,
        seq: row.int("seq")?,
        sender_id: row.user_id("sender_id")?,
        kind: message_kind(row.str("kind")?)?,
        declared_kind: row
            .opt_text("declared_kind")?
            .as_deref()
            .map(message_kind)
            .transpose()?,
        text: row.opt_text("text")?,
        attachments: attachments(row.strings("attachments")?, row.opt_str("attachment_meta")?)?,
        client_id: row.opt_text("client_id")?,
        created_at: row.int("created_at")?,
        edited_at: row.opt_int("edited_at")?,
        deleted_at: row.opt_int("deleted_at")?,
        external_id: row.opt_text("external_id")?,
        conversation_external_id: row.opt_text("conversation_external_id")?,
    })
}

/// A change, from [`change_cols`].
pub(crate) fn change(row: &dyn Row) -> StoreResult<Change> {
    let kind = row.str("change_kind")?;
    let user = || row.user_id("change_user_id");
    let seq = || row.int("change_seq");
    let kind = match kind {
        "message.created" => ChangeKind::MessageCreated(message(row)?),
        "message.edited" => ChangeKind::MessageEdited(message(row)?),
        "message.deleted" => ChangeKind::MessageDeleted(message(row)?),
        "read" => ChangeKind::Read {
            user: user()?,
            seq: seq()?,
        },
        "delivered" => ChangeKind::Delivered {
            user: user()?,
            seq: seq()?,
        },
        "member.added" => {
            let role = row.str("change_role")?;
            ChangeKind::MemberAdded {
                user: user()?,
                role: Role::parse(role)
                    .ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
            }
        }
        "member.removed" => ChangeKind::MemberRemoved { user: user()? },
        "conversation.created" => ChangeKind::ConversationCreated,
        "conversation.updated" => ChangeKind::ConversationUpdated,
        other => return Err(StoreError::Corrupt(format!("change kind {other:?}"))),
    };
    Ok(Change {
        cursor: row.int("change_id")?,
        conversation_id: row.int("change_conversation_id")?,
        conversation_uuid: row.uuid("conversation_uuid")?,
        at: row.int("change_at")?,
        kind,
    })
}

/// A page of changes from up to `limit + 1` rows.
pub(crate) fn change_page(mut changes: Vec<Change>, limit: u32) -> ChangePage {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = changes.len() > limit;
    changes.truncate(limit);
    ChangePage { changes, has_more }
}

/// A message's attachments from its two columns: `attachments`, the
/// URLs, and `attachment_meta`, NULL when no attachment has metadata (as
/// in rows stored before there was any), else a JSON array of one object
/// per URL, in order.
fn attachments(urls: Vec<String>, meta: Option<&str>) -> StoreResult<Vec<Attachment>> {
    let meta: Vec<AttachmentMeta> = match meta {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("attachment_meta {json:?}: {e}")))?,
        None => Vec::new(),
    };
    let mut meta = meta.into_iter();
    Ok(urls
        .into_iter()
        .map(|url| Attachment {
            url,
            meta: meta.next().unwrap_or_default(),
        })
        .collect())
}

/// What a message's attachments are stored as: the URLs, for the
/// `attachments` column, and the `attachment_meta` column (see
/// [`attachments`]).
pub(crate) fn attachment_columns(
    attachments: &[Attachment],
) -> StoreResult<(Vec<&str>, Option<String>)> {
    let urls = attachments.iter().map(|a| a.url.as_str()).collect();
    if attachments.iter().all(|a| a.meta.is_empty()) {
        return Ok((urls, None));
    }
    let meta: Vec<&AttachmentMeta> = attachments.iter().map(|a| &a.meta).collect();
    let json = serde_json::to_string(&meta)
        .map_err(|e| StoreError::Backend(format!("encoding attachment metadata: {e}")))?;
    Ok((urls, Some(json)))
}

/// The message that `m` became, stored as `id` and `uuid` with sequence
/// number `seq` in the conversation `conversation` (its uuid and
/// external id).
pub(crate) fn new_message(
    m: NewMessage,
    id: i64,
    uuid: Uuid,
    conversation: (Uuid, Option<String>),
    seq: i64,
) -> Message {
    let (conversation_uuid, conversation_external_id) = conversation;
    Message {
        id,
        uuid,
        conversation_id: m.conversation_id,
        conversation_uuid,
        seq,
        sender_id: m.sender_id,
        kind: m.kind,
        declared_kind: m.declared_kind,
        text: m.text,
        attachments: m.attachments,
        client_id: m.client_id,
        created_at: m.created_at,
        edited_at: None,
        deleted_at: None,
        external_id: None,
        conversation_external_id,
    }
}

/// A member whose delivery watermark moved: `user_id` and
/// `last_delivered_seq`.
pub(crate) fn delivered(row: &dyn Row) -> StoreResult<(UserId, i64)> {
    Ok((row.user_id("user_id")?, row.int("last_delivered_seq")?))
}

/// The answer of `mark_delivered` from the rows of [`delivered`]: the users
/// whose watermark moved and where to (`seq` if none moved).
pub(crate) fn moved(rows: Vec<(UserId, i64)>, seq: i64) -> (Vec<UserId>, i64) {
    let mut users = Vec::with_capacity(rows.len());
    let mut up_to = seq;
    for (user, at) in rows {
        users.push(user);
        up_to = at;
    }
    (users, up_to)
}

pub(crate) fn department(row: &dyn Row) -> StoreResult<Department> {
    Ok(Department {
        id: row.int("id")?,
        uuid: row.uuid("uuid")?,
        name: row.text("name")?,
        created_by: row.user_id("created_by")?,
        created_at: row.int("created_at")?,
    })
}

/// The department that an insert of these values made, as `id`.
pub(crate) fn new_department(
    id: i64,
    uuid: Uuid,
    name: &str,
    creator: &UserId,
    now: Millis,
) -> Department {
    Department {
        id,
        uuid,
        name: name.to_owned(),
        created_by: creator.clone(),
        created_at: now,
    }
}

pub(crate) fn agent(row: &dyn Row) -> StoreResult<Agent> {
    let role = row.str("role")?;
    Ok(Agent {
        department_id: row.int("department_id")?,
        user_id: row.user_id("user_id")?,
        role: AgentRole::parse(role)
            .ok_or_else(|| StoreError::Corrupt(format!("agent role {role:?}")))?,
        added_at: row.int("added_at")?,
    })
}

pub(crate) fn friendship(row: &dyn Row) -> StoreResult<Friendship> {
    Ok(Friendship {
        requester: row.user_id("requester")?,
        addressee: row.user_id("addressee")?,
        status: friendship_status(row.int("status")?)?,
        blocked_by: row.opt_text("blocked_by")?.map(UserId::from_trusted),
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn device(row: &dyn Row) -> StoreResult<Device> {
    let platform = row.str("platform")?;
    Ok(Device {
        user_id: row.user_id("user_id")?,
        token: row.text("token")?,
        platform: DevicePlatform::parse(platform)
            .ok_or_else(|| StoreError::Corrupt(format!("device platform {platform:?}")))?,
        created_at: row.int("created_at")?,
        push_format: row.opt_text("push_format")?,
    })
}

pub(crate) fn upload(row: &dyn Row) -> StoreResult<Upload> {
    Ok(Upload {
        path: row.text("path")?,
        owner: row.user_id("owner")?,
        kind: message_kind(row.str("kind")?)?,
        content_type: row.text("content_type")?,
        size: row.int("size")?,
        created_at: row.int("created_at")?,
    })
}

// --- stored values ---

pub(crate) fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s:?}: {e}")))
}

/// Kind of a conversation as stored.
fn conversation_kind(s: &str) -> StoreResult<ConversationKind> {
    match s {
        "direct" => Ok(ConversationKind::Direct),
        "group" => Ok(ConversationKind::Group),
        other => Err(StoreError::Corrupt(format!("conversation kind {other:?}"))),
    }
}

/// Kind of a message as stored.
fn message_kind(s: &str) -> StoreResult<MessageKind> {
    MessageKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("message kind {s:?}")))
}

/// Status of a friendship as stored.
fn friendship_status(code: i64) -> StoreResult<FriendshipStatus> {
    FriendshipStatus::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("friendship status {code}")))
}

// --- pairs of users ---

/// The two ids of a pair, smaller first (the key of `friendships`). Byte
/// order, which is SQLite's BINARY collation and the order of the "C"
/// collation of PostgreSQL's id columns.
pub(crate) fn ordered<'a>(a: &'a UserId, b: &'a UserId) -> (&'a UserId, &'a UserId) {
    if a.as_str() <= b.as_str() {
        (a, b)
    } else {
        (b, a)
    }
}

/// The key that makes a direct conversation unique: both ids, smaller first.
pub(crate) fn direct_key(a: &UserId, b: &UserId) -> String {
    let (lo, hi) = ordered(a, b);
    format!("{lo}\n{hi}")
}

/// Refuses a pair that is one user twice: `what` (a direct conversation, a
/// friendship) needs two.
pub(crate) fn two_users(what: &str, a: &UserId, b: &UserId) -> StoreResult<()> {
    if a == b {
        return Err(StoreError::Backend(format!(
            "{what} needs two distinct users, got {a} twice"
        )));
    }
    Ok(())
}

pub(crate) fn message_not_found(id: i64) -> StoreError {
    StoreError::Backend(format!("message {id} does not exist"))
}

pub(crate) fn conversation_not_found(id: i64) -> StoreError {
    StoreError::Backend(format!("conversation {id} does not exist"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_keys_do_not_depend_on_the_order_of_the_pair() {
        let a = UserId::from_trusted("alice".into());
        let b = UserId::from_trusted("bob".into());
        assert_eq!(direct_key(&a, &b), "alice\nbob");
        assert_eq!(direct_key(&b, &a), "alice\nbob");
    }

    #[test]
    fn pairs_are_ordered_by_bytes() {
        let upper = UserId::from_trusted("Zed".into());
        let lower = UserId::from_trusted("adam".into());
        assert_eq!(ordered(&lower, &upper), (&upper, &lower));
    }

    #[test]
    fn stored_kinds_and_statuses_parse_or_are_corrupt() {
        assert_eq!(
            conversation_kind("direct").ok(),
            Some(ConversationKind::Direct)
        );
        assert_eq!(
            conversation_kind("group").ok(),
            Some(ConversationKind::Group)
        );
        assert!(matches!(
            conversation_kind("channel"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            message_kind("sticker"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(friendship_status(9), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn summaries_get_their_members_and_last_messages() {
        let alice = UserId::from_trusted("alice".into());
        let conversation = |id| Conversation {
            id,
            uuid: Uuid::now_v7(),
            kind: ConversationKind::Group,
            title: None,
            created_by: alice.clone(),
            created_at: 1,
            last_seq: 0,
            updated_at: 1,
            department_id: None,
            external_id: None,
        };
        let summary = |id| ConversationSummary {
            conversation: conversation(id),
            members: Vec::new(),
            last_message: None,
            unread_count: 0,
        };
        let member = Member {
            conversation_id: 2,
            user_id: alice.clone(),
            role: Role::Owner,
            joined_at: 1,
            last_read_seq: 0,
            last_delivered_seq: 0,
            muted: false,
        };
        let filled = summaries(vec![summary(1), summary(2)], vec![member.clone()], vec![]);
        assert!(filled[0].members.is_empty());
        assert_eq!(filled[1].members, vec![member]);
        assert!(filled.iter().all(|s| s.last_message.is_none()));
    }
}
