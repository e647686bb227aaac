//! The PostgreSQL store.
//!
//! One pool of connections serves reads and writes; PostgreSQL runs writers
//! side by side, so the invariants that SQLite gets from its single writer
//! are held by the database here:
//!
//! - a message insert locks its conversation's row (`FOR NO KEY UPDATE`)
//!   before it looks for the client id and takes the next sequence number,
//!   so inserts into one conversation queue behind each other and a retry
//!   finds the first message (inserts into other conversations, and adding
//!   members, which only takes a key-share lock, go on beside it);
//! - a direct conversation is created with `ON CONFLICT (direct_key) DO
//!   NOTHING`, so concurrent calls wait for the first and then find its row;
//! - watermarks move with one conditional `UPDATE`, which PostgreSQL
//!   re-checks against the newest row version if another one got there first.
//!
//! Statements run at READ COMMITTED, so each sees what committed before it
//! started; `conversations_of` reads its three queries from one REPEATABLE
//! READ snapshot.
//!
//! As in the SQLite store, ids of users named in a conversation (its creator
//! and members) are provisioned as placeholders in the same transaction if
//! they are not known yet, in id order so that two such transactions cannot
//! deadlock on each other's new rows.
//!
//! The [`Store`] methods are here; each runs the statements of its area:
//! `users.rs`, `conversations.rs`, `departments.rs`, `messages.rs` (with the
//! watermarks), `friendships.rs`, `devices.rs` and `uploads.rs`, through the
//! helpers of `statements.rs`; `error.rs` maps sqlx's errors. The schema is
//! `migrations/postgres/`, applied by sqlx's migrator when the store opens.

mod accounts;
mod changes;
mod conversations;
mod departments;
mod devices;
mod error;
mod friendships;
mod import;
mod messages;
mod statements;
mod uploads;
mod users;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;

use crate::core::import::{ImportItem, ImportOutcome};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use self::error::DbResult;
use self::statements::execute;
use crate::core::error::StoreError;
use crate::core::ids::RowRef;
use crate::core::{
    Agent, AgentRole, ChangeCursor, ChangePage, Conversation, ConversationRef, ConversationSummary,
    Department, Device, Friendship, Member, Message, MessageRef, Millis, NewMessage, Page, Profile,
    Role, Upload, User, UserId,
};
use crate::store::{Credentials, Inserted, Store, StoreResult};

/// How long a caller waits for a pooled connection before the store counts
/// as unavailable: a chat client should hear of an outage in seconds.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 10;

/// The PostgreSQL store. Cheap to share behind an `Arc`; the pool is
/// internally reference counted.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Opens `postgres://user:password@host:port/database` (or
    /// `postgresql://...`), with any of the parameters sqlx understands in
    /// the query string, such as `sslmode` or
    /// `options=-c%20search_path%3Dschema`, and runs the migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL {url:?}: {e}")))?;
        Self::open_with(options, MAX_CONNECTIONS).await
    }

    /// Opens a pool of at most `max_connections` with `options`, and runs the
    /// migrations (into the first schema of the connection's `search_path`).
    pub async fn open_with(options: PgConnectOptions, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .db()?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("running migrations: {e}")))?;
        Ok(PostgresStore { pool })
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        execute(&self.pool, sqlx::query("SELECT 1")).await?;
        Ok(())
    }

    // --- users ---

    async fn upsert_user(&self, id: &UserId, profile: &Profile, now: Millis) -> StoreResult<User> {
        users::upsert_user(&self.pool, id, profile, now).await
    }

    async fn ensure_users(&self, ids: &[UserId], now: Millis) -> StoreResult<()> {
        users::ensure_users(&self.pool, ids, now).await
    }

    async fn create_password_user(
        &self,
        id: &UserId,
        username: &str,
        profile: &Profile,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<User> {
        users::create_password_user(&self.pool, id, username, profile, password_hash, now).await
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        users::credentials(&self.pool, username).await
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        users::user_by_login(&self.pool, login).await
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        users::user(&self.pool, id).await
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        users::users(&self.pool, ids).await
    }

    async fn set_last_seen(&self, id: &UserId, at: Millis) -> StoreResult<()> {
        users::set_last_seen(&self.pool, id, at).await
    }

    async fn list_users(&self, after: Option<&UserId>, limit: u32) -> StoreResult<Vec<User>> {
        accounts::list_users(&self.pool, after, limit).await
    }

    async fn search_users(
        &self,
        prefix: &str,
        after: Option<&UserId>,
        limit: u32,
    ) -> StoreResult<Vec<User>> {
        accounts::search_users(&self.pool, prefix, after, limit).await
    }

    async fn set_disabled(&self, id: &UserId, disabled: bool) -> StoreResult<bool> {
        accounts::set_disabled(&self.pool, id, disabled).await
    }

    async fn revoke_tokens(&self, id: Option<&UserId>, after: Millis) -> StoreResult<u64> {
        accounts::revoke_tokens(&self.pool, id, after).await
    }

    async fn delete_user(&self, id: &UserId, at: Millis) -> StoreResult<bool> {
        accounts::delete_user(&self.pool, id, at).await
    }

    async fn messages_by(&self, sender: &UserId) -> StoreResult<Vec<Message>> {
        accounts::messages_by(&self.pool, sender).await
    }

    async fn contacts(&self, id: &UserId) -> StoreResult<Vec<UserId>> {
        users::contacts(&self.pool, id).await
    }

    // --- conversations ---

    async fn direct_conversation(
        &self,
        creator: &UserId,
        other: &UserId,
        now: Millis,
    ) -> StoreResult<(Conversation, bool)> {
        conversations::direct_conversation(&self.pool, creator, other, now).await
    }

    async fn create_group(
        &self,
        creator: &UserId,
        title: Option<&str>,
        members: &[UserId],
        now: Millis,
    ) -> StoreResult<Conversation> {
        conversations::create_group(&self.pool, creator, title, members, now).await
    }

    async fn create_support(
        &self,
        visitor: &UserId,
        department_id: i64,
        title: Option<&str>,
        now: Millis,
    ) -> StoreResult<Conversation> {
        conversations::create_support(&self.pool, visitor, department_id, title, now).await
    }

    async fn conversation(&self, r: ConversationRef) -> StoreResult<Option<Conversation>> {
        conversations::conversation(&self.pool, r).await
    }

    async fn members(&self, conversation_id: i64) -> StoreResult<Vec<Member>> {
        conversations::members(&self.pool, conversation_id).await
    }

    async fn member(&self, conversation_id: i64, user: &UserId) -> StoreResult<Option<Member>> {
        conversations::member(&self.pool, conversation_id, user).await
    }

    async fn add_member(
        &self,
        conversation_id: i64,
        user: &UserId,
        role: Role,
        now: Millis,
    ) -> StoreResult<bool> {
        conversations::add_member(&self.pool, conversation_id, user, role, now).await
    }

    async fn set_muted(
        &self,
        conversation_id: i64,
        user: &UserId,
        muted: bool,
    ) -> StoreResult<bool> {
        conversations::set_muted(&self.pool, conversation_id, user, muted).await
    }

    async fn set_role(&self, conversation_id: i64, user: &UserId, role: Role) -> StoreResult<bool> {
        conversations::set_role(&self.pool, conversation_id, user, role).await
    }

    async fn set_title(&self, conversation_id: i64, title: &str) -> StoreResult<bool> {
        conversations::set_title(&self.pool, conversation_id, title).await
    }

    async fn remove_member(&self, conversation_id: i64, user: &UserId) -> StoreResult<bool> {
        conversations::remove_member(&self.pool, conversation_id, user).await
    }

    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<i64>> {
        conversations::conversation_ids_of(&self.pool, user).await
    }

    async fn conversations_of(&self, user: &UserId) -> StoreResult<Vec<ConversationSummary>> {
        conversations::conversations_of(&self.pool, user).await
    }

    async fn unread_count(&self, conversation_id: i64, user: &UserId) -> StoreResult<i64> {
        conversations::unread_count(&self.pool, conversation_id, user).await
    }

    async fn direct_conversation_between(
        &self,
        a: &UserId,
        b: &UserId,
    ) -> StoreResult<Option<Conversation>> {
        conversations::direct_conversation_between(&self.pool, a, b).await
    }

    // --- departments ---

    async fn create_department(
        &self,
        creator: &UserId,
        name: &str,
        now: Millis,
    ) -> StoreResult<Department> {
        departments::create_department(&self.pool, creator, name, now).await
    }

    async fn department(&self, r: RowRef) -> StoreResult<Option<Department>> {
        departments::department(&self.pool, r).await
    }

    async fn departments_of(&self, user: &UserId) -> StoreResult<Vec<Department>> {
        departments::departments_of(&self.pool, user).await
    }

    async fn agents(&self, department_id: i64) -> StoreResult<Vec<Agent>> {
        departments::agents(&self.pool, department_id).await
    }

    async fn agent(&self, department_id: i64, user: &UserId) -> StoreResult<Option<Agent>> {
        departments::agent(&self.pool, department_id, user).await
    }

    async fn put_agent(
        &self,
        department_id: i64,
        user: &UserId,
        role: AgentRole,
        now: Millis,
    ) -> StoreResult<bool> {
        departments::put_agent(&self.pool, department_id, user, role, now).await
    }

    async fn remove_agent(&self, department_id: i64, user: &UserId) -> StoreResult<bool> {
        departments::remove_agent(&self.pool, department_id, user).await
    }

    async fn support_conversations(&self, department_id: i64) -> StoreResult<Vec<Conversation>> {
        departments::support_conversations(&self.pool, department_id).await
    }

    // --- messages ---

    async fn insert_message(&self, m: NewMessage) -> StoreResult<Inserted> {
        let started = std::time::Instant::now();
        let inserted = messages::insert_message(&self.pool, m).await;
        super::measure::inserted(started, &inserted);
        inserted
    }

    async fn message(&self, r: MessageRef) -> StoreResult<Option<Message>> {
        messages::message(&self.pool, r).await
    }

    async fn messages(&self, conversation_id: i64, page: Page) -> StoreResult<Vec<Message>> {
        messages::messages(&self.pool, conversation_id, page).await
    }

    async fn live_messages(
        &self,
        conversation_id: i64,
        before_seq: Option<i64>,
        skip: u32,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, i64)> {
        messages::live_messages(&self.pool, conversation_id, before_seq, skip, limit).await
    }

    async fn edit_message(&self, id: i64, text: &str, at: Millis) -> StoreResult<Message> {
        messages::edit_message(&self.pool, id, text, at).await
    }

    async fn delete_message(&self, id: i64, at: Millis) -> StoreResult<Message> {
        messages::delete_message(&self.pool, id, at).await
    }

    async fn attachment_used_in(&self, conversation_id: i64, path: &str) -> StoreResult<bool> {
        messages::attachment_used_in(&self.pool, conversation_id, path).await
    }

    // --- watermarks ---

    async fn mark_read(
        &self,
        conversation_id: i64,
        user: &UserId,
        seq: i64,
    ) -> StoreResult<Option<i64>> {
        messages::mark_read(&self.pool, conversation_id, user, seq).await
    }

    async fn mark_delivered(
        &self,
        conversation_id: i64,
        users: &[UserId],
        seq: i64,
    ) -> StoreResult<(Vec<UserId>, i64)> {
        messages::mark_delivered(&self.pool, conversation_id, users, seq).await
    }

    // --- the change feed ---

    async fn changes(
        &self,
        user: &UserId,
        after: ChangeCursor,
        limit: u32,
    ) -> StoreResult<ChangePage> {
        changes::changes(&self.pool, user, after, limit).await
    }

    async fn change_head(&self) -> StoreResult<ChangeCursor> {
        changes::change_head(&self.pool).await
    }

    // --- friendships ---

    async fn friendship(&self, a: &UserId, b: &UserId) -> StoreResult<Option<Friendship>> {
        friendships::friendship(&self.pool, a, b).await
    }

    async fn put_friendship(&self, f: &Friendship) -> StoreResult<()> {
        friendships::put_friendship(&self.pool, f).await
    }

    async fn delete_friendship(&self, a: &UserId, b: &UserId) -> StoreResult<bool> {
        friendships::delete_friendship(&self.pool, a, b).await
    }

    async fn friendships_of(&self, user: &UserId) -> StoreResult<Vec<Friendship>> {
        friendships::friendships_of(&self.pool, user).await
    }

    // --- push devices ---

    async fn add_device(&self, d: &Device) -> StoreResult<()> {
        devices::add_device(&self.pool, d).await
    }

    async fn remove_device(&self, user: &UserId, token: &str) -> StoreResult<bool> {
        devices::remove_device(&self.pool, user, token).await
    }

    async fn remove_device_token(&self, token: &str) -> StoreResult<bool> {
        devices::remove_device_token(&self.pool, token).await
    }

    async fn devices_of(&self, users: &[UserId]) -> StoreResult<Vec<Device>> {
        devices::devices_of(&self.pool, users).await
    }

    // --- uploads ---

    async fn record_upload(&self, u: &Upload) -> StoreResult<()> {
        uploads::record_upload(&self.pool, u).await
    }

    async fn upload(&self, path: &str) -> StoreResult<Option<Upload>> {
        uploads::upload(&self.pool, path).await
    }
    async fn import(&self, items: &[ImportItem], now: Millis) -> StoreResult<Vec<ImportOutcome>> {
        import::import(&self.pool, items, now).await
    }

    async fn import_finish(&self) -> StoreResult<u64> {
        import::finish(&self.pool).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_path_in_the_url_reaches_the_connection() {
        let options = PgConnectOptions::from_str(
            "postgres://u@localhost/db?options=-c%20search_path%3Dconfab_t_1",
        )
        .expect("valid URL");
        assert_eq!(options.get_options(), Some("-c search_path=confab_t_1"));
    }
}
