//! The store port: persistence behind one trait, implemented by the SQLite
//! and PostgreSQL backends of `crate::store` and held to the same
//! behaviour by `tests/it/store_contract/`.

use async_trait::async_trait;
use std::sync::Arc;

use crate::core::error::StoreError;
use crate::core::import::{ImportItem, ImportOutcome};
use crate::core::{
    Agent, AgentRole, ChangeCursor, ChangePage, Conversation, ConversationRef, ConversationSummary,
    Department, Device, Friendship, Member, Message, MessageRef, Millis, NewMessage, Page, Profile,
    Role, RowRef, Upload, User, UserId,
};

pub type StoreResult<T> = Result<T, StoreError>;

/// A user registered with a password, as login needs it.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// What `insert_message` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// A new message, with its sequence number.
    New(Message),
    /// The client id was seen before in this conversation from this sender:
    /// the first message, unchanged.
    Duplicate(Message),
}

impl Inserted {
    pub fn message(&self) -> &Message {
        match self {
            Inserted::New(m) | Inserted::Duplicate(m) => m,
        }
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    // --- users ---

    /// Creates the user, or fills in / refreshes its profile from a verified
    /// token (fields that are `None` are left as they are). A placeholder
    /// becomes a full user.
    async fn upsert_user(&self, id: &UserId, profile: &Profile, now: Millis) -> StoreResult<User>;
    /// Creates placeholders for ids not seen yet; existing users are untouched.
    async fn ensure_users(&self, ids: &[UserId], now: Millis) -> StoreResult<()>;
    /// Registers a password user. `StoreError::Conflict` if the id or the
    /// username (case-insensitive) is taken.
    async fn create_password_user(
        &self,
        id: &UserId,
        username: &str,
        profile: &Profile,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<User>;
    /// Looks a password user up by username, case-insensitively.
    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>>;
    /// The user whose username (case-insensitively) or else email is
    /// `login`; a username match wins, then the oldest user.
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>>;
    async fn user(&self, id: &UserId) -> StoreResult<Option<User>>;
    /// The users that exist among `ids`, in no particular order.
    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>>;
    async fn set_last_seen(&self, id: &UserId, at: Millis) -> StoreResult<()>;
    /// Up to `limit` users (placeholders included) with an id greater than
    /// `after`, by id.
    async fn list_users(&self, after: Option<&UserId>, limit: u32) -> StoreResult<Vec<User>>;
    /// Up to `limit` users (placeholders included) whose id, username or
    /// display name starts with `prefix` (ASCII letters compared without
    /// case; `%`, `_` and `\` are plain characters), with an id greater
    /// than `after`, by id.
    async fn search_users(
        &self,
        prefix: &str,
        after: Option<&UserId>,
        limit: u32,
    ) -> StoreResult<Vec<User>>;
    /// Disables or enables a user; false if there is no such user (or it
    /// was deleted).
    async fn set_disabled(&self, id: &UserId, disabled: bool) -> StoreResult<bool>;
    /// Refuses the tokens issued before `after` of `id`, or of every user
    /// when `id` is `None` (users created later included: they are born
    /// with the latest such time); how many users it applies to now. A
    /// later time never moves back.
    async fn revoke_tokens(&self, id: Option<&UserId>, after: Millis) -> StoreResult<u64>;
    /// Deletes an account: its devices, friendships, memberships and
    /// department seats go; the row stays as the sender of its messages,
    /// emptied of personal data (username, names, avatar, email,
    /// password), disabled, with `deleted_at` set. False if there is no
    /// such user or it was deleted already.
    async fn delete_user(&self, id: &UserId, at: Millis) -> StoreResult<bool>;
    /// Every message `sender` sent, oldest first.
    async fn messages_by(&self, sender: &UserId) -> StoreResult<Vec<Message>>;
    /// Every user sharing at least one conversation with `id` (not `id` itself).
    async fn contacts(&self, id: &UserId) -> StoreResult<Vec<UserId>>;

    // --- conversations ---

    /// The direct conversation of two distinct users, created (with both as
    /// members, `creator` as owner) if it does not exist. Never duplicated,
    /// also under concurrent calls. Returns whether it was created.
    async fn direct_conversation(
        &self,
        creator: &UserId,
        other: &UserId,
        now: Millis,
    ) -> StoreResult<(Conversation, bool)>;
    /// A group with `creator` as owner and `members` (deduplicated, creator
    /// excluded) as members.
    async fn create_group(
        &self,
        creator: &UserId,
        title: Option<&str>,
        members: &[UserId],
        now: Millis,
    ) -> StoreResult<Conversation>;
    /// A support conversation: a group with `visitor` as owner and only
    /// member, recorded as belonging to `department_id`.
    async fn create_support(
        &self,
        visitor: &UserId,
        department_id: i64,
        title: Option<&str>,
        now: Millis,
    ) -> StoreResult<Conversation>;
    async fn conversation(&self, r: ConversationRef) -> StoreResult<Option<Conversation>>;
    async fn members(&self, conversation_id: i64) -> StoreResult<Vec<Member>>;
    async fn member(&self, conversation_id: i64, user: &UserId) -> StoreResult<Option<Member>>;
    /// Adds a member (no-op returning false if already one).
    async fn add_member(
        &self,
        conversation_id: i64,
        user: &UserId,
        role: Role,
        now: Millis,
    ) -> StoreResult<bool>;
    /// Mutes or unmutes a conversation for a member; false if nothing changed
    /// (already so, or not a member).
    async fn set_muted(
        &self,
        conversation_id: i64,
        user: &UserId,
        muted: bool,
    ) -> StoreResult<bool>;
    /// Sets a member's role; false if nothing changed (already so, or not a
    /// member).
    async fn set_role(&self, conversation_id: i64, user: &UserId, role: Role) -> StoreResult<bool>;
    /// Sets a conversation's title; false if nothing changed.
    async fn set_title(&self, conversation_id: i64, title: &str) -> StoreResult<bool>;
    /// Removes a member; false if it was not one.
    async fn remove_member(&self, conversation_id: i64, user: &UserId) -> StoreResult<bool>;
    /// The conversations of `user`, most recently active first, each with its
    /// members, last (not deleted) message and the user's unread count.
    async fn conversations_of(&self, user: &UserId) -> StoreResult<Vec<ConversationSummary>>;
    /// The ids of the conversations `user` is a member of.
    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<i64>>;
    /// Messages after the member's read watermark, not sent by the member and not deleted.
    async fn unread_count(&self, conversation_id: i64, user: &UserId) -> StoreResult<i64>;

    /// The direct conversation of two users if it exists (either order);
    /// never creates one.
    async fn direct_conversation_between(
        &self,
        a: &UserId,
        b: &UserId,
    ) -> StoreResult<Option<Conversation>>;

    // --- departments ---

    /// A department with `creator` as its admin agent.
    async fn create_department(
        &self,
        creator: &UserId,
        name: &str,
        now: Millis,
    ) -> StoreResult<Department>;
    async fn department(&self, r: RowRef) -> StoreResult<Option<Department>>;
    /// The departments `user` is an agent of, oldest first.
    async fn departments_of(&self, user: &UserId) -> StoreResult<Vec<Department>>;
    /// The agents of a department, admins first, then by when they were added.
    async fn agents(&self, department_id: i64) -> StoreResult<Vec<Agent>>;
    async fn agent(&self, department_id: i64, user: &UserId) -> StoreResult<Option<Agent>>;
    /// Adds an agent, or changes its role; an unknown user is provisioned
    /// as a placeholder. True if the user was not an agent before.
    async fn put_agent(
        &self,
        department_id: i64,
        user: &UserId,
        role: AgentRole,
        now: Millis,
    ) -> StoreResult<bool>;
    /// Removes an agent; false if it was not one.
    async fn remove_agent(&self, department_id: i64, user: &UserId) -> StoreResult<bool>;
    /// The support conversations of a department, most recently active first.
    async fn support_conversations(&self, department_id: i64) -> StoreResult<Vec<Conversation>>;

    // --- messages ---

    /// In one transaction: the client-id check, the next sequence number, the
    /// row, and the conversation's `last_seq`/`updated_at`.
    async fn insert_message(&self, m: NewMessage) -> StoreResult<Inserted>;
    async fn message(&self, r: MessageRef) -> StoreResult<Option<Message>>;
    /// A page of history, oldest first. Deleted messages are included (with
    /// `deleted_at` set and no text) so sequence numbers stay gap-free.
    async fn messages(&self, conversation_id: i64, page: Page) -> StoreResult<Vec<Message>>;
    /// A page of the messages that are not deleted, oldest first: newest
    /// first (below `before_seq` when given), `skip` of them skipped, then
    /// `limit`; and how many not-deleted messages there are below
    /// `before_seq` (all of them without it).
    async fn live_messages(
        &self,
        conversation_id: i64,
        before_seq: Option<i64>,
        skip: u32,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, i64)>;
    async fn edit_message(&self, id: i64, text: &str, at: Millis) -> StoreResult<Message>;
    /// Soft delete: the text and attachments are erased, the row stays.
    async fn delete_message(&self, id: i64, at: Millis) -> StoreResult<Message>;
    /// Whether a live (not deleted) message of the conversation has `path`
    /// among its attachments, exactly as stored.
    async fn attachment_used_in(&self, conversation_id: i64, path: &str) -> StoreResult<bool>;

    // --- watermarks ---

    /// Moves the member's read watermark forward to `seq` (never back, never
    /// past the conversation's `last_seq`); returns the new watermark if it moved.
    async fn mark_read(
        &self,
        conversation_id: i64,
        user: &UserId,
        seq: i64,
    ) -> StoreResult<Option<i64>>;
    /// The same for the delivery watermarks of `users`, in one write: the
    /// users whose watermark moved, and where to (the same for all: `seq`
    /// capped at `last_seq`).
    async fn mark_delivered(
        &self,
        conversation_id: i64,
        users: &[UserId],
        seq: i64,
    ) -> StoreResult<(Vec<UserId>, i64)>;

    // --- the change feed ---

    /// The changes `user` may see after `after`, oldest first, at most
    /// `limit` of them: those of the conversations `user` was a member of
    /// when they were made (from its `member.added` to its
    /// `member.removed`, both included), and the `conversation.created` of
    /// each conversation `user` was ever a member of. A cursor is never
    /// passed by a change that commits later with a smaller cursor.
    async fn changes(
        &self,
        user: &UserId,
        after: ChangeCursor,
        limit: u32,
    ) -> StoreResult<ChangePage>;
    /// The cursor of the newest change (0 when there is none): where a
    /// reader with no cursor starts.
    async fn change_head(&self) -> StoreResult<ChangeCursor>;

    // --- friendships ---

    /// The friendship of two users, whichever of them asked.
    async fn friendship(&self, a: &UserId, b: &UserId) -> StoreResult<Option<Friendship>>;
    /// Creates or replaces the one row of the unordered pair
    /// `{f.requester, f.addressee}`; requester and addressee may swap (a new
    /// request after a rejection); every field is replaced. Unknown users
    /// are provisioned as placeholders.
    async fn put_friendship(&self, f: &Friendship) -> StoreResult<()>;
    /// Deletes the pair's row (either order); false if there was none.
    async fn delete_friendship(&self, a: &UserId, b: &UserId) -> StoreResult<bool>;
    /// Every friendship `user` is part of, whatever its status, most recently
    /// updated first.
    async fn friendships_of(&self, user: &UserId) -> StoreResult<Vec<Friendship>>;

    // --- push devices ---

    /// Registers a push token for `d.user_id`. A token belongs to one user:
    /// registering it again (for anyone) replaces the previous row.
    async fn add_device(&self, d: &Device) -> StoreResult<()>;
    /// Removes one of `user`'s tokens; false if `user` had no such token.
    async fn remove_device(&self, user: &UserId, token: &str) -> StoreResult<bool>;
    /// Removes a token whoever has it (the push service reported it dead).
    async fn remove_device_token(&self, token: &str) -> StoreResult<bool>;
    /// The devices of all of `users`, in no particular order.
    async fn devices_of(&self, users: &[UserId]) -> StoreResult<Vec<Device>>;

    // --- uploads ---

    /// Records an uploaded file. `StoreError::Conflict` if the path is taken.
    async fn record_upload(&self, u: &Upload) -> StoreResult<()>;
    async fn upload(&self, path: &str) -> StoreResult<Option<Upload>>;

    // --- history import ---

    /// Applies a batch of import items in one transaction, in order, and
    /// says what became of each: created, skipped (its row was there: an
    /// import run twice changes nothing), or refused with a reason (which
    /// does not stop the others). Writes the store directly: no events, no
    /// pushes. Users named but not imported become placeholders.
    async fn import(&self, items: &[ImportItem], now: Millis) -> StoreResult<Vec<ImportOutcome>>;
    /// Ends an import (and finishes one that was interrupted): the
    /// conversations that got a message older than their newest get their
    /// sequence numbers put back in time order, watermarks following the
    /// messages they point at. How many conversations.
    async fn import_finish(&self) -> StoreResult<u64>;
}

pub type DynStore = Arc<dyn Store>;
