//! The embedded SQLite store, on rusqlite, run synchronously in the calling
//! task.
//!
//! Every method does its SQLite work right where it is called, on the
//! calling task's thread, and returns without ever awaiting: there is no
//! worker thread and no channel, so a statement or a returned row costs no
//! thread hand-off (the driver used before sent each of them over a channel
//! to a per-connection thread, two context switches apiece, which dominated
//! confab's CPU while SQLite's own work was about 1 % of it). A statement
//! takes microseconds; the async methods of [`Store`] are async only because
//! the trait is, like better-sqlite3 under Node.
//!
//! SQLite has one writer at a time, so every write goes through one writer
//! connection behind a mutex, in a `BEGIN IMMEDIATE` transaction: writers
//! queue on the mutex instead of failing with `SQLITE_BUSY`. With WAL and
//! `synchronous=NORMAL` a commit does not fsync, so each call is its own
//! short transaction — except new messages, which are written by group
//! commit (`group_commit.rs`): one task stores every insert waiting at that
//! moment in one transaction. Under load this writes each page a group
//! touches (the conversation's row, the index leaves) once per group
//! instead of once per message; alone, a message is its own group. Reads of
//! a file database go through several read-only connections (`query_only`),
//! each behind its own mutex, which WAL lets run beside the writer; an
//! in-memory database lives in one connection, shared by reads and writes
//! (`pool.rs`). No lock is held across an `.await` (there is none).
//! Statements are prepared once per connection and cached (`statements.rs`).
//!
//! Ids of users named in a conversation (its creator and members) are
//! provisioned as placeholders in the same transaction if they are not known
//! yet, so the foreign keys from members and conversations to users hold.
//!
//! The [`Store`] methods are here; each runs the statements of its area:
//! `users.rs`, `conversations.rs`, `departments.rs`, `messages.rs` (with the
//! watermarks), `friendships.rs`, `devices.rs` and `uploads.rs`. The schema
//! comes from `migrate.rs`; a `sqlite:` URL is read by `url.rs`.

mod accounts;
mod backup;
mod changes;
mod conversations;
mod departments;
mod devices;
mod error;
mod friendships;
mod group_commit;
mod import;
mod messages;
mod migrate;
mod pool;
mod statements;
#[cfg(test)]
mod tests;
mod uploads;
mod url;
mod users;

use std::sync::Arc;

use async_trait::async_trait;

use crate::core::import::{ImportItem, ImportOutcome};
use tokio::sync::mpsc;

use self::group_commit::PendingInsert;
use self::pool::Pool;
use self::statements::one;
use crate::core::ids::RowRef;
use crate::core::{
    Agent, AgentRole, ChangeCursor, ChangePage, Conversation, ConversationRef, ConversationSummary,
    Department, Device, Friendship, Member, Message, MessageRef, Millis, NewMessage, Page, Profile,
    Role, Upload, User, UserId,
};
use crate::store::{Credentials, Inserted, Store, StoreResult};

/// The SQLite store. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    db: Arc<Pool>,
    /// The group commit of new messages.
    inserts: mpsc::UnboundedSender<PendingInsert>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("readers", &self.db.readers())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens `sqlite://path/to/file.db` (creating the file and its parent
    /// directories if missing) or `sqlite::memory:`, and runs the migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let db = Arc::new(Pool::open(url)?);
        let inserts = group_commit::start(db.clone());
        Ok(SqliteStore { db, inserts })
    }

    /// Copies the database into a new file at `dest` with SQLite's online
    /// backup, in one step on a read connection: the copy is the database
    /// as of one moment, taken while the server may be writing (WAL lets
    /// the writer go on).
    pub fn backup_to(&self, dest: &std::path::Path) -> StoreResult<()> {
        self.db.read(|conn| backup::to_file(conn, dest))
    }

    /// Closes every connection, waiting for those in use; the store answers
    /// `Unavailable` from then on.
    pub async fn close(&self) {
        self.db.close();
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db.read(|conn| one(conn, "SELECT 1", [], |_| Ok(())))
    }

    // --- users ---

    async fn upsert_user(&self, id: &UserId, profile: &Profile, now: Millis) -> StoreResult<User> {
        users::upsert_user(&self.db, id, profile, now)
    }

    async fn ensure_users(&self, ids: &[UserId], now: Millis) -> StoreResult<()> {
        users::ensure_users(&self.db, ids, now)
    }

    async fn create_password_user(
        &self,
        id: &UserId,
        username: &str,
        profile: &Profile,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<User> {
        users::create_password_user(&self.db, id, username, profile, password_hash, now)
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        users::credentials(&self.db, username)
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        users::user_by_login(&self.db, login)
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        users::user(&self.db, id)
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        users::users(&self.db, ids)
    }

    async fn set_last_seen(&self, id: &UserId, at: Millis) -> StoreResult<()> {
        users::set_last_seen(&self.db, id, at)
    }

    async fn list_users(&self, after: Option<&UserId>, limit: u32) -> StoreResult<Vec<User>> {
        accounts::list_users(&self.db, after, limit)
    }

    async fn search_users(
        &self,
        prefix: &str,
        after: Option<&UserId>,
        limit: u32,
    ) -> StoreResult<Vec<User>> {
        accounts::search_users(&self.db, prefix, after, limit)
    }

    async fn set_disabled(&self, id: &UserId, disabled: bool) -> StoreResult<bool> {
        accounts::set_disabled(&self.db, id, disabled)
    }

    async fn revoke_tokens(&self, id: Option<&UserId>, after: Millis) -> StoreResult<u64> {
        accounts::revoke_tokens(&self.db, id, after)
    }

    async fn delete_user(&self, id: &UserId, at: Millis) -> StoreResult<bool> {
        accounts::delete_user(&self.db, id, at)
    }

    async fn messages_by(&self, sender: &UserId) -> StoreResult<Vec<Message>> {
        accounts::messages_by(&self.db, sender)
    }

    async fn contacts(&self, id: &UserId) -> StoreResult<Vec<UserId>> {
        users::contacts(&self.db, id)
    }

    // --- conversations ---

    async fn direct_conversation(
        &self,
        creator: &UserId,
        other: &UserId,
        now: Millis,
    ) -> StoreResult<(Conversation, bool)> {
        conversations::direct_conversation(&self.db, creator, other, now)
    }

    async fn create_group(
        &self,
        creator: &UserId,
        title: Option<&str>,
        members: &[UserId],
        now: Millis,
    ) -> StoreResult<Conversation> {
        conversations::create_group(&self.db, creator, title, members, now)
    }

    async fn create_support(
        &self,
        visitor: &UserId,
        department_id: i64,
        title: Option<&str>,
        now: Millis,
    ) -> StoreResult<Conversation> {
        conversations::create_support(&self.db, visitor, department_id, title, now)
    }

    async fn conversation(&self, r: ConversationRef) -> StoreResult<Option<Conversation>> {
        conversations::conversation(&self.db, r)
    }

    async fn members(&self, conversation_id: i64) -> StoreResult<Vec<Member>> {
        conversations::members(&self.db, conversation_id)
    }

    async fn member(&self, conversation_id: i64, user: &UserId) -> StoreResult<Option<Member>> {
        conversations::member(&self.db, conversation_id, user)
    }

    async fn add_member(
        &self,
        conversation_id: i64,
        user: &UserId,
        role: Role,
        now: Millis,
    ) -> StoreResult<bool> {
        conversations::add_member(&self.db, conversation_id, user, role, now)
    }

    async fn set_muted(
        &self,
        conversation_id: i64,
        user: &UserId,
        muted: bool,
    ) -> StoreResult<bool> {
        conversations::set_muted(&self.db, conversation_id, user, muted)
    }

    async fn set_role(&self, conversation_id: i64, user: &UserId, role: Role) -> StoreResult<bool> {
        conversations::set_role(&self.db, conversation_id, user, role)
    }

    async fn set_title(&self, conversation_id: i64, title: &str) -> StoreResult<bool> {
        conversations::set_title(&self.db, conversation_id, title)
    }

    async fn remove_member(&self, conversation_id: i64, user: &UserId) -> StoreResult<bool> {
        conversations::remove_member(&self.db, conversation_id, user)
    }

    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<i64>> {
        conversations::conversation_ids_of(&self.db, user)
    }

    async fn conversations_of(&self, user: &UserId) -> StoreResult<Vec<ConversationSummary>> {
        conversations::conversations_of(&self.db, user)
    }

    async fn unread_count(&self, conversation_id: i64, user: &UserId) -> StoreResult<i64> {
        conversations::unread_count(&self.db, conversation_id, user)
    }

    async fn direct_conversation_between(
        &self,
        a: &UserId,
        b: &UserId,
    ) -> StoreResult<Option<Conversation>> {
        conversations::direct_conversation_between(&self.db, a, b)
    }

    // --- departments ---

    async fn create_department(
        &self,
        creator: &UserId,
        name: &str,
        now: Millis,
    ) -> StoreResult<Department> {
        departments::create_department(&self.db, creator, name, now)
    }

    async fn department(&self, r: RowRef) -> StoreResult<Option<Department>> {
        departments::department(&self.db, r)
    }

    async fn departments_of(&self, user: &UserId) -> StoreResult<Vec<Department>> {
        departments::departments_of(&self.db, user)
    }

    async fn agents(&self, department_id: i64) -> StoreResult<Vec<Agent>> {
        departments::agents(&self.db, department_id)
    }

    async fn agent(&self, department_id: i64, user: &UserId) -> StoreResult<Option<Agent>> {
        departments::agent(&self.db, department_id, user)
    }

    async fn put_agent(
        &self,
        department_id: i64,
        user: &UserId,
        role: AgentRole,
        now: Millis,
    ) -> StoreResult<bool> {
        departments::put_agent(&self.db, department_id, user, role, now)
    }

    async fn remove_agent(&self, department_id: i64, user: &UserId) -> StoreResult<bool> {
        departments::remove_agent(&self.db, department_id, user)
    }

    async fn support_conversations(&self, department_id: i64) -> StoreResult<Vec<Conversation>> {
        departments::support_conversations(&self.db, department_id)
    }

    async fn insert_message(&self, m: NewMessage) -> StoreResult<Inserted> {
        group_commit::insert(&self.inserts, m).await
    }

    // --- messages ---

    async fn message(&self, r: MessageRef) -> StoreResult<Option<Message>> {
        messages::message(&self.db, r)
    }

    async fn messages(&self, conversation_id: i64, page: Page) -> StoreResult<Vec<Message>> {
        messages::messages(&self.db, conversation_id, page)
    }

    async fn live_messages(
        &self,
        conversation_id: i64,
        before_seq: Option<i64>,
        skip: u32,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, i64)> {
        messages::live_messages(&self.db, conversation_id, before_seq, skip, limit)
    }

    async fn edit_message(&self, id: i64, text: &str, at: Millis) -> StoreResult<Message> {
        messages::edit_message(&self.db, id, text, at)
    }

    async fn delete_message(&self, id: i64, at: Millis) -> StoreResult<Message> {
        messages::delete_message(&self.db, id, at)
    }

    async fn attachment_used_in(&self, conversation_id: i64, path: &str) -> StoreResult<bool> {
        messages::attachment_used_in(&self.db, conversation_id, path)
    }

    // --- watermarks ---

    async fn mark_read(
        &self,
        conversation_id: i64,
        user: &UserId,
        seq: i64,
    ) -> StoreResult<Option<i64>> {
        messages::mark_read(&self.db, conversation_id, user, seq)
    }

    async fn mark_delivered(
        &self,
        conversation_id: i64,
        users: &[UserId],
        seq: i64,
    ) -> StoreResult<(Vec<UserId>, i64)> {
        messages::mark_delivered(&self.db, conversation_id, users, seq)
    }

    // --- the change feed ---

    async fn changes(
        &self,
        user: &UserId,
        after: ChangeCursor,
        limit: u32,
    ) -> StoreResult<ChangePage> {
        changes::changes(&self.db, user, after, limit)
    }

    async fn change_head(&self) -> StoreResult<ChangeCursor> {
        changes::change_head(&self.db)
    }

    // --- friendships ---

    async fn friendship(&self, a: &UserId, b: &UserId) -> StoreResult<Option<Friendship>> {
        friendships::friendship(&self.db, a, b)
    }

    async fn put_friendship(&self, f: &Friendship) -> StoreResult<()> {
        friendships::put_friendship(&self.db, f)
    }

    async fn delete_friendship(&self, a: &UserId, b: &UserId) -> StoreResult<bool> {
        friendships::delete_friendship(&self.db, a, b)
    }

    async fn friendships_of(&self, user: &UserId) -> StoreResult<Vec<Friendship>> {
        friendships::friendships_of(&self.db, user)
    }

    // --- push devices ---

    async fn add_device(&self, d: &Device) -> StoreResult<()> {
        devices::add_device(&self.db, d)
    }

    async fn remove_device(&self, user: &UserId, token: &str) -> StoreResult<bool> {
        devices::remove_device(&self.db, user, token)
    }

    async fn remove_device_token(&self, token: &str) -> StoreResult<bool> {
        devices::remove_device_token(&self.db, token)
    }

    async fn devices_of(&self, users: &[UserId]) -> StoreResult<Vec<Device>> {
        devices::devices_of(&self.db, users)
    }

    // --- uploads ---

    async fn record_upload(&self, u: &Upload) -> StoreResult<()> {
        uploads::record_upload(&self.db, u)
    }

    async fn upload(&self, path: &str) -> StoreResult<Option<Upload>> {
        uploads::upload(&self.db, path)
    }
    async fn import(&self, items: &[ImportItem], now: Millis) -> StoreResult<Vec<ImportOutcome>> {
        import::import(&self.db, items, now)
    }

    async fn import_finish(&self) -> StoreResult<u64> {
        import::finish(&self.db)
    }
}
