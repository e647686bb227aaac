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

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{PgExecutor, Postgres, Row as _, query};
use uuid::Uuid;

use super::rows::{
    self, Row, agent_cols, conversation_cols, department_cols, device_cols, friendship_cols,
    member_cols, member_order, message_cols, select_message, upload_cols, user_cols,
};
use super::{Credentials, Inserted, Store, StoreResult};
use crate::core::error::StoreError;
use crate::core::ids::RowRef;
use crate::core::{
    Agent, AgentRole, Conversation, ConversationRef, ConversationSummary, Department, Device,
    Friendship, Member, Message, MessageRef, Millis, NewMessage, Page, Profile, Role, Upload, User,
    UserId,
};

/// How long a caller waits for a pooled connection before the store counts
/// as unavailable: a chat client should hear of an outage in seconds.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 10;

/// The watermark capped at the conversation's last sequence number: `$1`
/// is the wanted sequence number, `$2` the conversation.
macro_rules! watermark_target {
    () => {
        "LEAST($1, (SELECT last_seq FROM conversations WHERE id = $2))"
    };
}

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

    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await.db()
    }
}

// --- errors ---

/// Maps a sqlx error onto the store's error kinds.
fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                return StoreError::Conflict(conflict_subject(db.constraint()));
            }
            match db.code() {
                Some(code) if is_unavailable(&code) => StoreError::Unavailable(db.to_string()),
                _ => StoreError::Backend(db.to_string()),
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        other => StoreError::Backend(other.to_string()),
    }
}

/// SQLSTATEs that mean "cannot reach the data now": connection exceptions
/// (08), insufficient resources (53), shutdowns and start-up (57P01..57P03),
/// a database dropped or closed to connections (57P04, 3D000, and 55000,
/// which is what a new connection to a database with
/// `ALLOW_CONNECTIONS false` gets), and lock contention (serialization
/// failure, deadlock, lock not available).
fn is_unavailable(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "57P04" | "3D000" | "55000" | "40001" | "40P01" | "55P03"
        )
}

/// What a unique violation was about, from the name of the constraint or
/// index that PostgreSQL reports.
fn conflict_subject(constraint: Option<&str>) -> &'static str {
    match constraint.unwrap_or_default() {
        "users_username_idx" => "username is taken",
        "users_pkey" => "user id is taken",
        "conversations_direct_key_key" => "direct conversation already exists",
        "messages_client_id_idx" => "client id already used",
        "uploads_pkey" => "upload path already recorded",
        "members_pkey" => "already a member",
        _ => "row already exists",
    }
}

trait DbResult<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> DbResult<T> for Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(map_err)
    }
}

// --- statements ---

/// A statement with its parameters bound.
type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Every row of `query`, each through `map`.
async fn all<'c, T>(
    conn: impl PgExecutor<'c>,
    query: Query<'_>,
    mut map: impl FnMut(&dyn Row) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    query
        .fetch_all(conn)
        .await
        .db()?
        .iter()
        .map(|row| map(row))
        .collect()
}

/// The first row of `query`, if any, through `map`.
async fn optional<'c, T>(
    conn: impl PgExecutor<'c>,
    query: Query<'_>,
    map: impl FnOnce(&dyn Row) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    match query.fetch_optional(conn).await.db()? {
        Some(row) => map(&row).map(Some),
        None => Ok(None),
    }
}

/// The first row of `query`, which must return one.
async fn one<'c, T>(
    conn: impl PgExecutor<'c>,
    query: Query<'_>,
    map: impl FnOnce(&dyn Row) -> StoreResult<T>,
) -> StoreResult<T> {
    let row = query.fetch_one(conn).await.db()?;
    map(&row)
}

/// Runs a statement that returns no rows: the rows it changed.
async fn execute<'c>(conn: impl PgExecutor<'c>, query: Query<'_>) -> StoreResult<u64> {
    Ok(query.execute(conn).await.db()?.rows_affected())
}

impl Row for PgRow {
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.try_get(col).db()
    }

    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.try_get(col).db()
    }

    fn opt_str(&self, col: &str) -> StoreResult<Option<&str>> {
        self.try_get(col).db()
    }

    fn flag(&self, col: &str) -> StoreResult<bool> {
        self.try_get(col).db()
    }

    /// A `text[]`.
    fn strings(&self, col: &str) -> StoreResult<Vec<String>> {
        self.try_get(col).db()
    }
}

/// The ids as a `text[]` parameter, for `unnest($n::text[])` and
/// `= ANY($n)`.
fn id_array<'a>(ids: impl IntoIterator<Item = &'a UserId>) -> Vec<&'a str> {
    ids.into_iter().map(UserId::as_str).collect()
}

/// Creates placeholders for the ids not known yet, inside a transaction.
/// New rows are inserted in id order, so that concurrent transactions
/// provisioning the same ids wait for each other instead of deadlocking.
async fn ensure_users_in(
    conn: &mut sqlx::PgConnection,
    ids: &[&str],
    now: Millis,
) -> StoreResult<()> {
    execute(
        conn,
        query(
            "INSERT INTO users (id, placeholder, created_at) \
             SELECT DISTINCT id, TRUE, $1 FROM unnest($2::text[]) AS t (id) ORDER BY id \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(now)
        .bind(ids),
    )
    .await?;
    Ok(())
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

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        execute(&self.pool, query("SELECT 1")).await?;
        Ok(())
    }

    // --- users ---

    async fn upsert_user(&self, id: &UserId, profile: &Profile, now: Millis) -> StoreResult<User> {
        one(
            &self.pool,
            query(concat!(
                "INSERT INTO users (id, display_name, avatar_url, email, placeholder, created_at) \
                 VALUES ($1, $2, $3, $4, FALSE, $5) \
                 ON CONFLICT (id) DO UPDATE SET \
                   display_name = COALESCE(excluded.display_name, users.display_name), \
                   avatar_url = COALESCE(excluded.avatar_url, users.avatar_url), \
                   email = COALESCE(excluded.email, users.email), \
                   placeholder = FALSE \
                 RETURNING ",
                user_cols!()
            ))
            .bind(id.as_str())
            .bind(profile.display_name.as_deref())
            .bind(profile.avatar_url.as_deref())
            .bind(profile.email.as_deref())
            .bind(now),
            rows::user,
        )
        .await
    }

    async fn ensure_users(&self, ids: &[UserId], now: Millis) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.pool.acquire().await.db()?;
        ensure_users_in(&mut conn, &id_array(ids), now).await
    }

    async fn create_password_user(
        &self,
        id: &UserId,
        username: &str,
        profile: &Profile,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<User> {
        one(
            &self.pool,
            query(concat!(
                "INSERT INTO users \
                   (id, username, display_name, avatar_url, email, password_hash, placeholder, \
                    created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7) \
                 RETURNING ",
                user_cols!()
            ))
            .bind(id.as_str())
            .bind(username)
            .bind(profile.display_name.as_deref())
            .bind(profile.avatar_url.as_deref())
            .bind(profile.email.as_deref())
            .bind(password_hash)
            .bind(now),
            rows::user,
        )
        .await
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        // `lower` of a "C" string folds ASCII letters only, like SQLite's
        // NOCASE; the expression is the one of `users_username_idx`.
        optional(
            &self.pool,
            query(concat!(
                "SELECT ",
                user_cols!(),
                ", password_hash FROM users \
                 WHERE lower(username) = lower($1 COLLATE \"C\") AND password_hash IS NOT NULL"
            ))
            .bind(username),
            rows::credentials,
        )
        .await
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        optional(
            &self.pool,
            query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM users WHERE id = $1"
            ))
            .bind(id.as_str()),
            rows::user,
        )
        .await
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        all(
            &self.pool,
            query(concat!(
                "SELECT ",
                user_cols!(),
                " FROM users WHERE id = ANY($1::text[])"
            ))
            .bind(id_array(ids)),
            rows::user,
        )
        .await
    }

    async fn set_last_seen(&self, id: &UserId, at: Millis) -> StoreResult<()> {
        execute(
            &self.pool,
            query(
                "UPDATE users SET last_seen_at = GREATEST(COALESCE(last_seen_at, $1), $1) \
                 WHERE id = $2",
            )
            .bind(at)
            .bind(id.as_str()),
        )
        .await?;
        Ok(())
    }

    async fn contacts(&self, id: &UserId) -> StoreResult<Vec<UserId>> {
        all(
            &self.pool,
            query(
                "SELECT DISTINCT other.user_id FROM members mine \
                 JOIN members other ON other.conversation_id = mine.conversation_id \
                 WHERE mine.user_id = $1 AND other.user_id <> $1 \
                 ORDER BY other.user_id",
            )
            .bind(id.as_str()),
            |row| row.user_id("user_id"),
        )
        .await
    }

    // --- conversations ---

    async fn direct_conversation(
        &self,
        creator: &UserId,
        other: &UserId,
        now: Millis,
    ) -> StoreResult<(Conversation, bool)> {
        rows::two_for_a_direct_conversation(creator, other)?;
        let key = rows::direct_key(creator, other);
        let mut tx = self.begin().await?;
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

    async fn create_group(
        &self,
        creator: &UserId,
        title: Option<&str>,
        members: &[UserId],
        now: Millis,
    ) -> StoreResult<Conversation> {
        self.insert_group(creator, title, members, None, now).await
    }

    async fn create_support(
        &self,
        visitor: &UserId,
        department_id: i64,
        title: Option<&str>,
        now: Millis,
    ) -> StoreResult<Conversation> {
        self.insert_group(visitor, title, &[], Some(department_id), now)
            .await
    }

    async fn conversation(&self, r: ConversationRef) -> StoreResult<Option<Conversation>> {
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
        };
        optional(&self.pool, q, rows::conversation).await
    }

    async fn members(&self, conversation_id: i64) -> StoreResult<Vec<Member>> {
        all(
            &self.pool,
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

    async fn member(&self, conversation_id: i64, user: &UserId) -> StoreResult<Option<Member>> {
        optional(
            &self.pool,
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

    async fn add_member(
        &self,
        conversation_id: i64,
        user: &UserId,
        role: Role,
        now: Millis,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
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

    async fn set_muted(
        &self,
        conversation_id: i64,
        user: &UserId,
        muted: bool,
    ) -> StoreResult<bool> {
        let changed = execute(
            &self.pool,
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

    async fn remove_member(&self, conversation_id: i64, user: &UserId) -> StoreResult<bool> {
        let removed = execute(
            &self.pool,
            query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
                .bind(conversation_id)
                .bind(user.as_str()),
        )
        .await?;
        Ok(removed == 1)
    }

    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<i64>> {
        all(
            &self.pool,
            query(
                "SELECT conversation_id FROM members WHERE user_id = $1 ORDER BY conversation_id",
            )
            .bind(user.as_str()),
            |row| row.int("conversation_id"),
        )
        .await
    }

    async fn conversations_of(&self, user: &UserId) -> StoreResult<Vec<ConversationSummary>> {
        // Three queries in one snapshot: the conversations with the unread
        // counts, all their members, and their last live messages.
        let mut tx = self
            .pool
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

    async fn unread_count(&self, conversation_id: i64, user: &UserId) -> StoreResult<i64> {
        one(
            &self.pool,
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

    async fn direct_conversation_between(
        &self,
        a: &UserId,
        b: &UserId,
    ) -> StoreResult<Option<Conversation>> {
        if a == b {
            return Ok(None);
        }
        optional(
            &self.pool,
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

    // --- departments ---

    async fn create_department(
        &self,
        creator: &UserId,
        name: &str,
        now: Millis,
    ) -> StoreResult<Department> {
        let mut tx = self.begin().await?;
        ensure_users_in(&mut tx, &id_array([creator]), now).await?;
        let uuid = Uuid::now_v7();
        let id = one(
            &mut *tx,
            query(
                "INSERT INTO departments (uuid, name, created_by, created_at) \
                 VALUES ($1, $2, $3, $4) \
                 RETURNING id",
            )
            .bind(uuid.to_string())
            .bind(name)
            .bind(creator.as_str())
            .bind(now),
            |row| row.int("id"),
        )
        .await?;
        execute(
            &mut *tx,
            query(
                "INSERT INTO department_agents (department_id, user_id, role, added_at) \
                 VALUES ($1, $2, 'admin', $3)",
            )
            .bind(id)
            .bind(creator.as_str())
            .bind(now),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(rows::new_department(id, uuid, name, creator, now))
    }

    async fn department(&self, r: RowRef) -> StoreResult<Option<Department>> {
        let q = match r {
            RowRef::Id(id) => query(concat!(
                "SELECT ",
                department_cols!(),
                " FROM departments d WHERE d.id = $1"
            ))
            .bind(id),
            RowRef::Uuid(uuid) => query(concat!(
                "SELECT ",
                department_cols!(),
                " FROM departments d WHERE d.uuid = $1"
            ))
            .bind(uuid.to_string()),
        };
        optional(&self.pool, q, rows::department).await
    }

    async fn departments_of(&self, user: &UserId) -> StoreResult<Vec<Department>> {
        all(
            &self.pool,
            query(concat!(
                "SELECT ",
                department_cols!(),
                " FROM department_agents a JOIN departments d ON d.id = a.department_id \
                 WHERE a.user_id = $1 ORDER BY d.id"
            ))
            .bind(user.as_str()),
            rows::department,
        )
        .await
    }

    async fn agents(&self, department_id: i64) -> StoreResult<Vec<Agent>> {
        all(
            &self.pool,
            query(concat!(
                "SELECT ",
                agent_cols!(),
                " FROM department_agents \
                 WHERE department_id = $1 ORDER BY role = 'admin' DESC, added_at, user_id"
            ))
            .bind(department_id),
            rows::agent,
        )
        .await
    }

    async fn agent(&self, department_id: i64, user: &UserId) -> StoreResult<Option<Agent>> {
        optional(
            &self.pool,
            query(concat!(
                "SELECT ",
                agent_cols!(),
                " FROM department_agents WHERE department_id = $1 AND user_id = $2"
            ))
            .bind(department_id)
            .bind(user.as_str()),
            rows::agent,
        )
        .await
    }

    async fn put_agent(
        &self,
        department_id: i64,
        user: &UserId,
        role: AgentRole,
        now: Millis,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        ensure_users_in(&mut tx, &id_array([user]), now).await?;
        // Insert, or else change the role of the row that is there: which of
        // the two happened is the answer.
        let added = execute(
            &mut *tx,
            query(
                "INSERT INTO department_agents (department_id, user_id, role, added_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (department_id, user_id) DO NOTHING",
            )
            .bind(department_id)
            .bind(user.as_str())
            .bind(role.as_str())
            .bind(now),
        )
        .await?
            == 1;
        if !added {
            execute(
                &mut *tx,
                query(
                    "UPDATE department_agents SET role = $3 \
                     WHERE department_id = $1 AND user_id = $2",
                )
                .bind(department_id)
                .bind(user.as_str())
                .bind(role.as_str()),
            )
            .await?;
        }
        tx.commit().await.db()?;
        Ok(added)
    }

    async fn remove_agent(&self, department_id: i64, user: &UserId) -> StoreResult<bool> {
        let removed = execute(
            &self.pool,
            query("DELETE FROM department_agents WHERE department_id = $1 AND user_id = $2")
                .bind(department_id)
                .bind(user.as_str()),
        )
        .await?;
        Ok(removed == 1)
    }

    async fn support_conversations(&self, department_id: i64) -> StoreResult<Vec<Conversation>> {
        all(
            &self.pool,
            query(concat!(
                "SELECT ",
                conversation_cols!(),
                " FROM conversations c WHERE c.department_id = $1 \
                 ORDER BY c.updated_at DESC, c.id DESC"
            ))
            .bind(department_id),
            rows::conversation,
        )
        .await
    }

    // --- messages ---

    async fn insert_message(&self, m: NewMessage) -> StoreResult<Inserted> {
        let mut tx = self.begin().await?;

        // The conversation's row lock queues this transaction behind every
        // other insert into the conversation, until it commits: the client
        // id check below then sees their messages, and `last_seq + 1` is
        // taken by one of them at a time.
        let conversation_uuid = optional(
            &mut *tx,
            query("SELECT uuid FROM conversations WHERE id = $1 FOR NO KEY UPDATE")
                .bind(m.conversation_id),
            |row| row.uuid("uuid"),
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

        let id = one(
            &mut *tx,
            query(
                "INSERT INTO messages \
                   (uuid, conversation_id, seq, sender_id, kind, text, attachments, client_id, \
                    created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 RETURNING id",
            )
            .bind(uuid.to_string())
            .bind(m.conversation_id)
            .bind(seq)
            .bind(m.sender_id.as_str())
            .bind(m.kind.as_str())
            .bind(m.text.as_deref())
            .bind(&m.attachments)
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
                .bind(&m.attachments),
            )
            .await?;
        }
        tx.commit().await.db()?;
        Ok(Inserted::New(rows::new_message(
            m,
            id,
            uuid,
            conversation_uuid,
            seq,
        )))
    }

    async fn message(&self, r: MessageRef) -> StoreResult<Option<Message>> {
        let q = match r {
            RowRef::Id(id) => query(concat!(select_message!(), "WHERE m.id = $1")).bind(id),
            RowRef::Uuid(uuid) => {
                query(concat!(select_message!(), "WHERE m.uuid = $1")).bind(uuid.to_string())
            }
        };
        optional(&self.pool, q, rows::message).await
    }

    async fn messages(&self, conversation_id: i64, page: Page) -> StoreResult<Vec<Message>> {
        let limit = i64::from(page.limit);
        if limit == 0 {
            return Ok(Vec::new());
        }
        match (page.before_seq, page.after_seq) {
            (None, Some(after)) => {
                all(
                    &self.pool,
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
                    &self.pool,
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

    async fn edit_message(&self, id: i64, text: &str, at: Millis) -> StoreResult<Message> {
        let mut tx = self.begin().await?;
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

    async fn delete_message(&self, id: i64, at: Millis) -> StoreResult<Message> {
        let mut tx = self.begin().await?;
        execute(
            &mut *tx,
            query(
                "UPDATE messages \
                 SET text = NULL, attachments = '{}', deleted_at = COALESCE(deleted_at, $1) \
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

    async fn attachment_used_in(&self, conversation_id: i64, path: &str) -> StoreResult<bool> {
        one(
            &self.pool,
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

    // --- watermarks ---

    async fn mark_read(
        &self,
        conversation_id: i64,
        user: &UserId,
        seq: i64,
    ) -> StoreResult<Option<i64>> {
        optional(
            &self.pool,
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
        .await
    }

    async fn mark_delivered(
        &self,
        conversation_id: i64,
        users: &[UserId],
        seq: i64,
    ) -> StoreResult<(Vec<UserId>, i64)> {
        if users.is_empty() {
            return Ok((vec![], seq));
        }
        let moved = all(
            &self.pool,
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
        Ok(rows::moved(moved, seq))
    }

    // --- friendships ---

    async fn friendship(&self, a: &UserId, b: &UserId) -> StoreResult<Option<Friendship>> {
        let (lo, hi) = rows::ordered(a, b);
        optional(
            &self.pool,
            query(concat!(
                "SELECT ",
                friendship_cols!(),
                " FROM friendships WHERE user_lo = $1 AND user_hi = $2"
            ))
            .bind(lo.as_str())
            .bind(hi.as_str()),
            rows::friendship,
        )
        .await
    }

    async fn put_friendship(&self, f: &Friendship) -> StoreResult<()> {
        rows::two_for_a_friendship(f)?;
        let (lo, hi) = rows::ordered(&f.requester, &f.addressee);
        let mut tx = self.begin().await?;
        ensure_users_in(&mut tx, &id_array([lo, hi]), f.created_at).await?;
        execute(
            &mut *tx,
            query(
                "INSERT INTO friendships \
                   (user_lo, user_hi, requester, addressee, status, blocked_by, created_at, \
                    updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (user_lo, user_hi) DO UPDATE SET \
                   requester = excluded.requester, \
                   addressee = excluded.addressee, \
                   status = excluded.status, \
                   blocked_by = excluded.blocked_by, \
                   created_at = excluded.created_at, \
                   updated_at = excluded.updated_at",
            )
            .bind(lo.as_str())
            .bind(hi.as_str())
            .bind(f.requester.as_str())
            .bind(f.addressee.as_str())
            .bind(f.status.as_code())
            .bind(f.blocked_by.as_ref().map(UserId::as_str))
            .bind(f.created_at)
            .bind(f.updated_at),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn delete_friendship(&self, a: &UserId, b: &UserId) -> StoreResult<bool> {
        let (lo, hi) = rows::ordered(a, b);
        let deleted = execute(
            &self.pool,
            query("DELETE FROM friendships WHERE user_lo = $1 AND user_hi = $2")
                .bind(lo.as_str())
                .bind(hi.as_str()),
        )
        .await?;
        Ok(deleted == 1)
    }

    async fn friendships_of(&self, user: &UserId) -> StoreResult<Vec<Friendship>> {
        all(
            &self.pool,
            query(concat!(
                "SELECT ",
                friendship_cols!(),
                " FROM friendships WHERE user_lo = $1 \
                 UNION ALL SELECT ",
                friendship_cols!(),
                " FROM friendships WHERE user_hi = $1 \
                 ORDER BY updated_at DESC, requester, addressee"
            ))
            .bind(user.as_str()),
            rows::friendship,
        )
        .await
    }

    // --- push devices ---

    async fn add_device(&self, d: &Device) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        ensure_users_in(&mut tx, &id_array([&d.user_id]), d.created_at).await?;
        execute(
            &mut *tx,
            query(
                "INSERT INTO devices (token, user_id, platform, created_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (token) DO UPDATE SET \
                   user_id = excluded.user_id, \
                   platform = excluded.platform, \
                   created_at = excluded.created_at",
            )
            .bind(&d.token)
            .bind(d.user_id.as_str())
            .bind(d.platform.as_str())
            .bind(d.created_at),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn remove_device(&self, user: &UserId, token: &str) -> StoreResult<bool> {
        let removed = execute(
            &self.pool,
            query("DELETE FROM devices WHERE token = $1 AND user_id = $2")
                .bind(token)
                .bind(user.as_str()),
        )
        .await?;
        Ok(removed == 1)
    }

    async fn remove_device_token(&self, token: &str) -> StoreResult<bool> {
        let removed = execute(
            &self.pool,
            query("DELETE FROM devices WHERE token = $1").bind(token),
        )
        .await?;
        Ok(removed == 1)
    }

    async fn devices_of(&self, users: &[UserId]) -> StoreResult<Vec<Device>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        all(
            &self.pool,
            query(concat!(
                "SELECT ",
                device_cols!(),
                " FROM devices WHERE user_id = ANY($1::text[]) \
                 ORDER BY user_id, created_at, token"
            ))
            .bind(id_array(users)),
            rows::device,
        )
        .await
    }

    // --- uploads ---

    async fn record_upload(&self, u: &Upload) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        ensure_users_in(&mut tx, &id_array([&u.owner]), u.created_at).await?;
        execute(
            &mut *tx,
            query(
                "INSERT INTO uploads (path, owner, kind, content_type, size, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&u.path)
            .bind(u.owner.as_str())
            .bind(u.kind.as_str())
            .bind(&u.content_type)
            .bind(u.size)
            .bind(u.created_at),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn upload(&self, path: &str) -> StoreResult<Option<Upload>> {
        optional(
            &self.pool,
            query(concat!(
                "SELECT ",
                upload_cols!(),
                " FROM uploads WHERE path = $1"
            ))
            .bind(path),
            rows::upload,
        )
        .await
    }
}

impl PostgresStore {
    /// A group with `creator` as owner, `members` as members, and its
    /// department if it is a support conversation.
    async fn insert_group(
        &self,
        creator: &UserId,
        title: Option<&str>,
        members: &[UserId],
        department: Option<i64>,
        now: Millis,
    ) -> StoreResult<Conversation> {
        let mut tx = self.begin().await?;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_what_is_taken() {
        assert_eq!(
            conflict_subject(Some("users_username_idx")),
            "username is taken"
        );
        assert_eq!(conflict_subject(Some("users_pkey")), "user id is taken");
        assert_eq!(
            conflict_subject(Some("messages_client_id_idx")),
            "client id already used"
        );
        assert_eq!(conflict_subject(None), "row already exists");
    }

    #[test]
    fn connection_and_contention_errors_are_unavailable() {
        for code in ["08006", "53300", "57P01", "40001", "40P01", "55P03"] {
            assert!(is_unavailable(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02"] {
            assert!(!is_unavailable(code), "{code}");
        }
    }

    #[test]
    fn a_search_path_in_the_url_reaches_the_connection() {
        let options = PgConnectOptions::from_str(
            "postgres://u@localhost/db?options=-c%20search_path%3Dconfab_t_1",
        )
        .expect("valid URL");
        assert_eq!(options.get_options(), Some("-c search_path=confab_t_1"));
    }
}
