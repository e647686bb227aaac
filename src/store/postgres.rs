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

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use uuid::Uuid;

use super::{
    Credentials, Inserted, Store, StoreResult, friendship_status_from_code, kind_from_str,
    message_kind_from_str,
};
use crate::core::error::StoreError;
use crate::core::ids::RowRef;
use crate::core::{
    Agent, AgentRole, Conversation, ConversationRef, ConversationSummary, Department, Device,
    DevicePlatform, Friendship, Member, Message, MessageRef, Millis, NewMessage, Page, Profile,
    Role, Upload, User, UserId,
};

/// How long a caller waits for a pooled connection before the store counts
/// as unavailable: a chat client should hear of an outage in seconds.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 10;

/// The columns of a `User`, from `users`.
macro_rules! user_cols {
    () => {
        "id, username, display_name, avatar_url, email, placeholder, created_at, last_seen_at"
    };
}

/// The columns of a `Conversation`, from `conversations c`.
macro_rules! conv_cols {
    () => {
        "c.id, c.uuid, c.kind, c.title, c.created_by, c.created_at, c.last_seq, c.updated_at, \
         c.department_id"
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
         m.kind, m.text, m.attachments, m.client_id, m.created_at, m.edited_at, m.deleted_at"
    };
}

/// `SELECT` of a `Message`, from `messages m` joined to `conversations c`.
macro_rules! select_message {
    () => {
        concat!(
            "SELECT ",
            message_cols!(),
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        )
    };
}

/// The columns of a `Friendship`, from `friendships`.
macro_rules! friendship_cols {
    () => {
        "requester, addressee, status, blocked_by, created_at, updated_at"
    };
}

/// The columns of a `Department`, from `departments d`.
macro_rules! department_cols {
    () => {
        "d.id, d.uuid, d.name, d.created_by, d.created_at"
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

// --- rows ---

fn get<'r, T>(row: &'r PgRow, col: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(col).db()
}

fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s:?}: {e}")))
}

fn user_from_row(row: &PgRow) -> StoreResult<User> {
    Ok(User {
        id: UserId::from_trusted(get(row, "id")?),
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        avatar_url: get(row, "avatar_url")?,
        email: get(row, "email")?,
        placeholder: get(row, "placeholder")?,
        created_at: get(row, "created_at")?,
        last_seen_at: get(row, "last_seen_at")?,
    })
}

fn conversation_from_row(row: &PgRow) -> StoreResult<Conversation> {
    Ok(Conversation {
        id: get(row, "id")?,
        uuid: parse_uuid(get(row, "uuid")?)?,
        kind: kind_from_str(get(row, "kind")?)?,
        title: get(row, "title")?,
        created_by: UserId::from_trusted(get(row, "created_by")?),
        created_at: get(row, "created_at")?,
        last_seq: get(row, "last_seq")?,
        updated_at: get(row, "updated_at")?,
        department_id: get(row, "department_id")?,
    })
}

fn department_from_row(row: &PgRow) -> StoreResult<Department> {
    Ok(Department {
        id: get(row, "id")?,
        uuid: parse_uuid(get(row, "uuid")?)?,
        name: get(row, "name")?,
        created_by: UserId::from_trusted(get(row, "created_by")?),
        created_at: get(row, "created_at")?,
    })
}

fn agent_from_row(row: &PgRow) -> StoreResult<Agent> {
    let role: &str = get(row, "role")?;
    Ok(Agent {
        department_id: get(row, "department_id")?,
        user_id: UserId::from_trusted(get(row, "user_id")?),
        role: AgentRole::parse(role)
            .ok_or_else(|| StoreError::Corrupt(format!("agent role {role:?}")))?,
        added_at: get(row, "added_at")?,
    })
}

fn member_from_row(row: &PgRow) -> StoreResult<Member> {
    let role: &str = get(row, "role")?;
    Ok(Member {
        conversation_id: get(row, "conversation_id")?,
        user_id: UserId::from_trusted(get(row, "user_id")?),
        role: Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        joined_at: get(row, "joined_at")?,
        last_read_seq: get(row, "last_read_seq")?,
        last_delivered_seq: get(row, "last_delivered_seq")?,
        muted: get(row, "muted")?,
    })
}

fn message_from_row(row: &PgRow) -> StoreResult<Message> {
    Ok(Message {
        id: get(row, "id")?,
        uuid: parse_uuid(get(row, "uuid")?)?,
        conversation_id: get(row, "conversation_id")?,
        conversation_uuid: parse_uuid(get(row, "conversation_uuid")?)?,
        seq: get(row, "seq")?,
        sender_id: UserId::from_trusted(get(row, "sender_id")?),
        kind: message_kind_from_str(get(row, "kind")?)?,
        text: get(row, "text")?,
        attachments: get(row, "attachments")?,
        client_id: get(row, "client_id")?,
        created_at: get(row, "created_at")?,
        edited_at: get(row, "edited_at")?,
        deleted_at: get(row, "deleted_at")?,
    })
}

fn friendship_from_row(row: &PgRow) -> StoreResult<Friendship> {
    Ok(Friendship {
        requester: UserId::from_trusted(get(row, "requester")?),
        addressee: UserId::from_trusted(get(row, "addressee")?),
        status: friendship_status_from_code(get(row, "status")?)?,
        blocked_by: get::<Option<String>>(row, "blocked_by")?.map(UserId::from_trusted),
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

fn device_from_row(row: &PgRow) -> StoreResult<Device> {
    let platform: &str = get(row, "platform")?;
    Ok(Device {
        user_id: UserId::from_trusted(get(row, "user_id")?),
        token: get(row, "token")?,
        platform: DevicePlatform::parse(platform)
            .ok_or_else(|| StoreError::Corrupt(format!("device platform {platform:?}")))?,
        created_at: get(row, "created_at")?,
    })
}

fn upload_from_row(row: &PgRow) -> StoreResult<Upload> {
    Ok(Upload {
        path: get(row, "path")?,
        owner: UserId::from_trusted(get(row, "owner")?),
        kind: message_kind_from_str(get(row, "kind")?)?,
        content_type: get(row, "content_type")?,
        size: get(row, "size")?,
        created_at: get(row, "created_at")?,
    })
}

/// The two ids of a pair, smaller first (the key of `friendships`). Byte
/// order, which is the order of the "C" collation of the id columns.
fn ordered<'a>(a: &'a UserId, b: &'a UserId) -> (&'a UserId, &'a UserId) {
    if a.as_str() <= b.as_str() {
        (a, b)
    } else {
        (b, a)
    }
}

/// The ids as a `text[]` parameter, for `unnest($n::text[])` and
/// `= ANY($n)`.
fn id_array<'a>(ids: impl IntoIterator<Item = &'a UserId>) -> Vec<&'a str> {
    ids.into_iter().map(UserId::as_str).collect()
}

/// The key that makes a direct conversation unique: both ids, smaller first.
fn direct_key(a: &UserId, b: &UserId) -> String {
    let (lo, hi) = ordered(a, b);
    format!("{lo}\n{hi}")
}

/// Creates placeholders for the ids not known yet, inside a transaction.
/// New rows are inserted in id order, so that concurrent transactions
/// provisioning the same ids wait for each other instead of deadlocking.
async fn ensure_users_in(
    conn: &mut sqlx::PgConnection,
    ids: &[&str],
    now: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, placeholder, created_at) \
         SELECT DISTINCT id, TRUE, $1 FROM unnest($2::text[]) AS t (id) ORDER BY id \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(now)
    .bind(ids)
    .execute(conn)
    .await
    .db()?;
    Ok(())
}

async fn message_in(conn: &mut sqlx::PgConnection, id: i64) -> StoreResult<Option<Message>> {
    sqlx::query(concat!(select_message!(), "WHERE m.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
        .db()?
        .as_ref()
        .map(message_from_row)
        .transpose()
}

/// The message of `conversation_id` that `sender` sent with `client_id`.
async fn message_by_client_id(
    conn: &mut sqlx::PgConnection,
    conversation_id: i64,
    sender: &UserId,
    client_id: &str,
) -> StoreResult<Option<Message>> {
    sqlx::query(concat!(
        select_message!(),
        "WHERE m.conversation_id = $1 AND m.sender_id = $2 AND m.client_id = $3"
    ))
    .bind(conversation_id)
    .bind(sender.as_str())
    .bind(client_id)
    .fetch_optional(conn)
    .await
    .db()?
    .as_ref()
    .map(message_from_row)
    .transpose()
}

fn message_not_found(id: i64) -> StoreError {
    StoreError::Backend(format!("message {id} does not exist"))
}

fn conversation_not_found(id: i64) -> StoreError {
    StoreError::Backend(format!("conversation {id} does not exist"))
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.db()?;
        Ok(())
    }

    // --- users ---

    async fn upsert_user(&self, id: &UserId, profile: &Profile, now: Millis) -> StoreResult<User> {
        let row = sqlx::query(concat!(
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
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .db()?;
        user_from_row(&row)
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
        let row = sqlx::query(concat!(
            "INSERT INTO users \
               (id, username, display_name, avatar_url, email, password_hash, placeholder, created_at) \
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
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .db()?;
        user_from_row(&row)
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        // `lower` of a "C" string folds ASCII letters only, like SQLite's
        // NOCASE; the expression is the one of `users_username_idx`.
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            ", password_hash FROM users \
             WHERE lower(username) = lower($1 COLLATE \"C\") AND password_hash IS NOT NULL"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(Credentials {
                user: user_from_row(&row)?,
                password_hash: get(&row, "password_hash")?,
            })),
        }
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = ANY($1::text[])"
        ))
        .bind(id_array(ids))
        .fetch_all(&self.pool)
        .await
        .db()?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn set_last_seen(&self, id: &UserId, at: Millis) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET last_seen_at = GREATEST(COALESCE(last_seen_at, $1), $1) \
             WHERE id = $2",
        )
        .bind(at)
        .bind(id.as_str())
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn contacts(&self, id: &UserId) -> StoreResult<Vec<UserId>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT other.user_id FROM members mine \
             JOIN members other ON other.conversation_id = mine.conversation_id \
             WHERE mine.user_id = $1 AND other.user_id <> $1 \
             ORDER BY other.user_id",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows.into_iter().map(UserId::from_trusted).collect())
    }

    // --- conversations ---

    async fn direct_conversation(
        &self,
        creator: &UserId,
        other: &UserId,
        now: Millis,
    ) -> StoreResult<(Conversation, bool)> {
        if creator == other {
            return Err(StoreError::Backend(format!(
                "a direct conversation needs two distinct users, got {creator} twice"
            )));
        }
        let key = direct_key(creator, other);
        let mut tx = self.begin().await?;
        ensure_users_in(&mut tx, &id_array([creator, other]), now).await?;
        // A concurrent creator's row makes this wait for its transaction and
        // then do nothing; the SELECT below, a new statement, sees the row.
        let created = sqlx::query(
            "INSERT INTO conversations \
               (uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key) \
             VALUES ($1, 'direct', NULL, $2, $3, 0, $3, $4) \
             ON CONFLICT (direct_key) DO NOTHING",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(creator.as_str())
        .bind(now)
        .bind(&key)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected()
            == 1;
        let row = sqlx::query(concat!(
            "SELECT ",
            conv_cols!(),
            " FROM conversations c WHERE c.direct_key = $1"
        ))
        .bind(&key)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        let conversation = conversation_from_row(&row)?;
        if created {
            sqlx::query(
                "INSERT INTO members (conversation_id, user_id, role, joined_at) \
                 VALUES ($1, $2, 'owner', $4), ($1, $3, 'member', $4)",
            )
            .bind(conversation.id)
            .bind(creator.as_str())
            .bind(other.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
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
            RowRef::Id(id) => sqlx::query(concat!(
                "SELECT ",
                conv_cols!(),
                " FROM conversations c WHERE c.id = $1"
            ))
            .bind(id),
            RowRef::Uuid(uuid) => sqlx::query(concat!(
                "SELECT ",
                conv_cols!(),
                " FROM conversations c WHERE c.uuid = $1"
            ))
            .bind(uuid.to_string()),
        };
        q.fetch_optional(&self.pool)
            .await
            .db()?
            .as_ref()
            .map(conversation_from_row)
            .transpose()
    }

    async fn members(&self, conversation_id: i64) -> StoreResult<Vec<Member>> {
        sqlx::query(concat!(
            "SELECT ",
            member_cols!(),
            " FROM members mb WHERE mb.conversation_id = $1 ORDER BY ",
            member_order!()
        ))
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await
        .db()?
        .iter()
        .map(member_from_row)
        .collect()
    }

    async fn member(&self, conversation_id: i64, user: &UserId) -> StoreResult<Option<Member>> {
        sqlx::query(concat!(
            "SELECT ",
            member_cols!(),
            " FROM members mb WHERE mb.conversation_id = $1 AND mb.user_id = $2"
        ))
        .bind(conversation_id)
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?
        .as_ref()
        .map(member_from_row)
        .transpose()
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
        let added = sqlx::query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (conversation_id, user_id) DO NOTHING",
        )
        .bind(conversation_id)
        .bind(user.as_str())
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected()
            == 1;
        tx.commit().await.db()?;
        Ok(added)
    }

    async fn set_muted(
        &self,
        conversation_id: i64,
        user: &UserId,
        muted: bool,
    ) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE members SET muted = $1 \
             WHERE conversation_id = $2 AND user_id = $3 AND muted <> $1",
        )
        .bind(muted)
        .bind(conversation_id)
        .bind(user.as_str())
        .execute(&self.pool)
        .await
        .db()?
        .rows_affected()
            == 1;
        Ok(changed)
    }

    async fn remove_member(&self, conversation_id: i64, user: &UserId) -> StoreResult<bool> {
        let removed =
            sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
                .bind(conversation_id)
                .bind(user.as_str())
                .execute(&self.pool)
                .await
                .db()?
                .rows_affected()
                == 1;
        Ok(removed)
    }

    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT conversation_id FROM members WHERE user_id = $1 ORDER BY conversation_id",
        )
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .db()
    }

    async fn conversations_of(&self, user: &UserId) -> StoreResult<Vec<ConversationSummary>> {
        // Three queries in one snapshot: the conversations with the unread
        // counts, all their members, and their last live messages.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .db()?;

        let rows = sqlx::query(concat!(
            "SELECT ",
            conv_cols!(),
            ", (SELECT COUNT(*) FROM messages m \
                WHERE m.conversation_id = c.id AND m.seq > me.last_read_seq \
                  AND m.sender_id <> me.user_id AND m.deleted_at IS NULL) AS unread \
             FROM members me JOIN conversations c ON c.id = me.conversation_id \
             WHERE me.user_id = $1 \
             ORDER BY c.updated_at DESC, c.id DESC"
        ))
        .bind(user.as_str())
        .fetch_all(&mut *tx)
        .await
        .db()?;
        let mut summaries = Vec::with_capacity(rows.len());
        for row in &rows {
            summaries.push(ConversationSummary {
                conversation: conversation_from_row(row)?,
                members: Vec::new(),
                last_message: None,
                unread_count: get(row, "unread")?,
            });
        }
        if summaries.is_empty() {
            tx.commit().await.db()?;
            return Ok(summaries);
        }

        let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
        for row in sqlx::query(concat!(
            "SELECT ",
            member_cols!(),
            " FROM members me JOIN members mb ON mb.conversation_id = me.conversation_id \
             WHERE me.user_id = $1 ORDER BY mb.conversation_id, ",
            member_order!()
        ))
        .bind(user.as_str())
        .fetch_all(&mut *tx)
        .await
        .db()?
        .iter()
        {
            let member = member_from_row(row)?;
            members
                .entry(member.conversation_id)
                .or_default()
                .push(member);
        }

        let mut last: HashMap<i64, Message> = HashMap::new();
        // One backward step of `messages_live_idx` per conversation.
        for row in sqlx::query(concat!(
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
        .bind(user.as_str())
        .fetch_all(&mut *tx)
        .await
        .db()?
        .iter()
        {
            let message = message_from_row(row)?;
            last.insert(message.conversation_id, message);
        }
        tx.commit().await.db()?;

        for s in &mut summaries {
            let id = s.conversation.id;
            s.members = members.remove(&id).unwrap_or_default();
            s.last_message = last.remove(&id);
        }
        Ok(summaries)
    }

    async fn unread_count(&self, conversation_id: i64, user: &UserId) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM members me JOIN messages m \
               ON m.conversation_id = me.conversation_id AND m.seq > me.last_read_seq \
             WHERE me.conversation_id = $1 AND me.user_id = $2 \
               AND m.sender_id <> $2 AND m.deleted_at IS NULL",
        )
        .bind(conversation_id)
        .bind(user.as_str())
        .fetch_one(&self.pool)
        .await
        .db()
    }

    async fn direct_conversation_between(
        &self,
        a: &UserId,
        b: &UserId,
    ) -> StoreResult<Option<Conversation>> {
        if a == b {
            return Ok(None);
        }
        sqlx::query(concat!(
            "SELECT ",
            conv_cols!(),
            " FROM conversations c WHERE c.direct_key = $1"
        ))
        .bind(direct_key(a, b))
        .fetch_optional(&self.pool)
        .await
        .db()?
        .as_ref()
        .map(conversation_from_row)
        .transpose()
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
        let row = sqlx::query(concat!(
            "INSERT INTO departments AS d (uuid, name, created_by, created_at) \
             VALUES ($1, $2, $3, $4) \
             RETURNING ",
            department_cols!()
        ))
        .bind(Uuid::now_v7().to_string())
        .bind(name)
        .bind(creator.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        let department = department_from_row(&row)?;
        sqlx::query(
            "INSERT INTO department_agents (department_id, user_id, role, added_at) \
             VALUES ($1, $2, 'admin', $3)",
        )
        .bind(department.id)
        .bind(creator.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(department)
    }

    async fn department(&self, r: RowRef) -> StoreResult<Option<Department>> {
        let q = match r {
            RowRef::Id(id) => sqlx::query(concat!(
                "SELECT ",
                department_cols!(),
                " FROM departments d WHERE d.id = $1"
            ))
            .bind(id),
            RowRef::Uuid(uuid) => sqlx::query(concat!(
                "SELECT ",
                department_cols!(),
                " FROM departments d WHERE d.uuid = $1"
            ))
            .bind(uuid.to_string()),
        };
        q.fetch_optional(&self.pool)
            .await
            .db()?
            .as_ref()
            .map(department_from_row)
            .transpose()
    }

    async fn departments_of(&self, user: &UserId) -> StoreResult<Vec<Department>> {
        sqlx::query(concat!(
            "SELECT ",
            department_cols!(),
            " FROM department_agents a JOIN departments d ON d.id = a.department_id \
             WHERE a.user_id = $1 ORDER BY d.id"
        ))
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?
        .iter()
        .map(department_from_row)
        .collect()
    }

    async fn agents(&self, department_id: i64) -> StoreResult<Vec<Agent>> {
        sqlx::query(
            "SELECT department_id, user_id, role, added_at FROM department_agents \
             WHERE department_id = $1 ORDER BY role = 'admin' DESC, added_at, user_id",
        )
        .bind(department_id)
        .fetch_all(&self.pool)
        .await
        .db()?
        .iter()
        .map(agent_from_row)
        .collect()
    }

    async fn agent(&self, department_id: i64, user: &UserId) -> StoreResult<Option<Agent>> {
        sqlx::query(
            "SELECT department_id, user_id, role, added_at FROM department_agents \
             WHERE department_id = $1 AND user_id = $2",
        )
        .bind(department_id)
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?
        .as_ref()
        .map(agent_from_row)
        .transpose()
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
        let added = sqlx::query(
            "INSERT INTO department_agents (department_id, user_id, role, added_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (department_id, user_id) DO NOTHING",
        )
        .bind(department_id)
        .bind(user.as_str())
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected()
            == 1;
        if !added {
            sqlx::query(
                "UPDATE department_agents SET role = $3 \
                 WHERE department_id = $1 AND user_id = $2",
            )
            .bind(department_id)
            .bind(user.as_str())
            .bind(role.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        }
        tx.commit().await.db()?;
        Ok(added)
    }

    async fn remove_agent(&self, department_id: i64, user: &UserId) -> StoreResult<bool> {
        let removed =
            sqlx::query("DELETE FROM department_agents WHERE department_id = $1 AND user_id = $2")
                .bind(department_id)
                .bind(user.as_str())
                .execute(&self.pool)
                .await
                .db()?
                .rows_affected()
                == 1;
        Ok(removed)
    }

    async fn support_conversations(&self, department_id: i64) -> StoreResult<Vec<Conversation>> {
        sqlx::query(concat!(
            "SELECT ",
            conv_cols!(),
            " FROM conversations c WHERE c.department_id = $1 \
             ORDER BY c.updated_at DESC, c.id DESC"
        ))
        .bind(department_id)
        .fetch_all(&self.pool)
        .await
        .db()?
        .iter()
        .map(conversation_from_row)
        .collect()
    }

    // --- messages ---

    async fn insert_message(&self, m: NewMessage) -> StoreResult<Inserted> {
        let mut tx = self.begin().await?;

        // The conversation's row lock queues this transaction behind every
        // other insert into the conversation, until it commits: the client
        // id check below then sees their messages, and `last_seq + 1` is
        // taken by one of them at a time.
        let conversation_uuid: String =
            sqlx::query_scalar("SELECT uuid FROM conversations WHERE id = $1 FOR NO KEY UPDATE")
                .bind(m.conversation_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .ok_or_else(|| conversation_not_found(m.conversation_id))?;
        let conversation_uuid = parse_uuid(&conversation_uuid)?;

        if let Some(client_id) = &m.client_id
            && let Some(first) =
                message_by_client_id(&mut tx, m.conversation_id, &m.sender_id, client_id).await?
        {
            tx.commit().await.db()?;
            return Ok(Inserted::Duplicate(first));
        }

        let seq: i64 = sqlx::query_scalar(
            "UPDATE conversations \
             SET last_seq = last_seq + 1, updated_at = GREATEST(updated_at, $1) \
             WHERE id = $2 \
             RETURNING last_seq",
        )
        .bind(m.created_at)
        .bind(m.conversation_id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        let uuid = Uuid::now_v7();

        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages \
               (uuid, conversation_id, seq, sender_id, kind, text, attachments, client_id, created_at) \
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
        .bind(m.created_at)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        if !m.attachments.is_empty() {
            sqlx::query(
                "INSERT INTO message_attachments (conversation_id, path, message_id) \
                 SELECT DISTINCT $1::bigint, path, $2::bigint FROM unnest($3::text[]) AS a (path) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(m.conversation_id)
            .bind(id)
            .bind(&m.attachments)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        tx.commit().await.db()?;

        Ok(Inserted::New(Message {
            id,
            uuid,
            conversation_id: m.conversation_id,
            conversation_uuid,
            seq,
            sender_id: m.sender_id,
            kind: m.kind,
            text: m.text,
            attachments: m.attachments,
            client_id: m.client_id,
            created_at: m.created_at,
            edited_at: None,
            deleted_at: None,
        }))
    }

    async fn message(&self, r: MessageRef) -> StoreResult<Option<Message>> {
        let q = match r {
            RowRef::Id(id) => sqlx::query(concat!(select_message!(), "WHERE m.id = $1")).bind(id),
            RowRef::Uuid(uuid) => {
                sqlx::query(concat!(select_message!(), "WHERE m.uuid = $1")).bind(uuid.to_string())
            }
        };
        q.fetch_optional(&self.pool)
            .await
            .db()?
            .as_ref()
            .map(message_from_row)
            .transpose()
    }

    async fn messages(&self, conversation_id: i64, page: Page) -> StoreResult<Vec<Message>> {
        let limit = i64::from(page.limit);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = match (page.before_seq, page.after_seq) {
            (None, Some(after)) => sqlx::query(concat!(
                select_message!(),
                "WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3"
            ))
            .bind(conversation_id)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .db()?,
            (before, after) => {
                let mut rows = sqlx::query(concat!(
                    select_message!(),
                    "WHERE m.conversation_id = $1 AND m.seq < $2 AND m.seq > $3 \
                     ORDER BY m.seq DESC LIMIT $4"
                ))
                .bind(conversation_id)
                .bind(before.unwrap_or(i64::MAX))
                .bind(after.unwrap_or(0))
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .db()?;
                rows.reverse();
                rows
            }
        };
        rows.iter().map(message_from_row).collect()
    }

    async fn edit_message(&self, id: i64, text: &str, at: Millis) -> StoreResult<Message> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE messages SET text = $1, edited_at = $2 WHERE id = $3 AND deleted_at IS NULL",
        )
        .bind(text)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        let message = message_in(&mut tx, id)
            .await?
            .ok_or_else(|| message_not_found(id))?;
        if changed == 0 {
            // The row exists, so it is deleted.
            return Err(StoreError::Conflict("message is deleted"));
        }
        tx.commit().await.db()?;
        Ok(message)
    }

    async fn delete_message(&self, id: i64, at: Millis) -> StoreResult<Message> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE messages \
             SET text = NULL, attachments = '{}', deleted_at = COALESCE(deleted_at, $1) \
             WHERE id = $2",
        )
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query("DELETE FROM message_attachments WHERE message_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?;
        let message = message_in(&mut tx, id)
            .await?
            .ok_or_else(|| message_not_found(id))?;
        tx.commit().await.db()?;
        Ok(message)
    }

    async fn attachment_used_in(&self, conversation_id: i64, path: &str) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM message_attachments \
             WHERE conversation_id = $1 AND path = $2)",
        )
        .bind(conversation_id)
        .bind(path)
        .fetch_one(&self.pool)
        .await
        .db()
    }

    // --- watermarks ---

    async fn mark_read(
        &self,
        conversation_id: i64,
        user: &UserId,
        seq: i64,
    ) -> StoreResult<Option<i64>> {
        self.advance_watermark("last_read_seq", conversation_id, user, seq)
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
        let ids: Vec<&str> = users.iter().map(UserId::as_str).collect();
        let target = "LEAST($1, (SELECT last_seq FROM conversations WHERE id = $2))";
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE members SET last_delivered_seq = {target} \
             WHERE conversation_id = $2 AND last_delivered_seq < {target} \
               AND user_id = ANY($3) \
             RETURNING user_id, last_delivered_seq"
        )))
        .bind(seq)
        .bind(conversation_id)
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut moved = Vec::with_capacity(rows.len());
        let mut up_to = seq;
        for row in &rows {
            moved.push(UserId::from_trusted(get(row, "user_id")?));
            up_to = get(row, "last_delivered_seq")?;
        }
        Ok((moved, up_to))
    }

    // --- friendships ---

    async fn friendship(&self, a: &UserId, b: &UserId) -> StoreResult<Option<Friendship>> {
        let (lo, hi) = ordered(a, b);
        sqlx::query(concat!(
            "SELECT ",
            friendship_cols!(),
            " FROM friendships WHERE user_lo = $1 AND user_hi = $2"
        ))
        .bind(lo.as_str())
        .bind(hi.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?
        .as_ref()
        .map(friendship_from_row)
        .transpose()
    }

    async fn put_friendship(&self, f: &Friendship) -> StoreResult<()> {
        if f.requester == f.addressee {
            return Err(StoreError::Backend(format!(
                "a friendship needs two distinct users, got {} twice",
                f.requester
            )));
        }
        let (lo, hi) = ordered(&f.requester, &f.addressee);
        let mut tx = self.begin().await?;
        ensure_users_in(&mut tx, &id_array([lo, hi]), f.created_at).await?;
        sqlx::query(
            "INSERT INTO friendships \
               (user_lo, user_hi, requester, addressee, status, blocked_by, created_at, updated_at) \
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
        .bind(f.updated_at)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn delete_friendship(&self, a: &UserId, b: &UserId) -> StoreResult<bool> {
        let (lo, hi) = ordered(a, b);
        let deleted = sqlx::query("DELETE FROM friendships WHERE user_lo = $1 AND user_hi = $2")
            .bind(lo.as_str())
            .bind(hi.as_str())
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected()
            == 1;
        Ok(deleted)
    }

    async fn friendships_of(&self, user: &UserId) -> StoreResult<Vec<Friendship>> {
        sqlx::query(concat!(
            "SELECT ",
            friendship_cols!(),
            " FROM friendships WHERE user_lo = $1 \
             UNION ALL SELECT ",
            friendship_cols!(),
            " FROM friendships WHERE user_hi = $1 \
             ORDER BY updated_at DESC, requester, addressee"
        ))
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?
        .iter()
        .map(friendship_from_row)
        .collect()
    }

    // --- push devices ---

    async fn add_device(&self, d: &Device) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        ensure_users_in(&mut tx, &id_array([&d.user_id]), d.created_at).await?;
        sqlx::query(
            "INSERT INTO devices (token, user_id, platform, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (token) DO UPDATE SET \
               user_id = excluded.user_id, \
               platform = excluded.platform, \
               created_at = excluded.created_at",
        )
        .bind(&d.token)
        .bind(d.user_id.as_str())
        .bind(d.platform.as_str())
        .bind(d.created_at)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn remove_device(&self, user: &UserId, token: &str) -> StoreResult<bool> {
        let removed = sqlx::query("DELETE FROM devices WHERE token = $1 AND user_id = $2")
            .bind(token)
            .bind(user.as_str())
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected()
            == 1;
        Ok(removed)
    }

    async fn remove_device_token(&self, token: &str) -> StoreResult<bool> {
        let removed = sqlx::query("DELETE FROM devices WHERE token = $1")
            .bind(token)
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected()
            == 1;
        Ok(removed)
    }

    async fn devices_of(&self, users: &[UserId]) -> StoreResult<Vec<Device>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query(
            "SELECT token, user_id, platform, created_at FROM devices \
             WHERE user_id = ANY($1::text[]) \
             ORDER BY user_id, created_at, token",
        )
        .bind(id_array(users))
        .fetch_all(&self.pool)
        .await
        .db()?
        .iter()
        .map(device_from_row)
        .collect()
    }

    // --- uploads ---

    async fn record_upload(&self, u: &Upload) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        ensure_users_in(&mut tx, &id_array([&u.owner]), u.created_at).await?;
        sqlx::query(
            "INSERT INTO uploads (path, owner, kind, content_type, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&u.path)
        .bind(u.owner.as_str())
        .bind(u.kind.as_str())
        .bind(&u.content_type)
        .bind(u.size)
        .bind(u.created_at)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn upload(&self, path: &str) -> StoreResult<Option<Upload>> {
        sqlx::query(
            "SELECT path, owner, kind, content_type, size, created_at FROM uploads \
             WHERE path = $1",
        )
        .bind(path)
        .fetch_optional(&self.pool)
        .await
        .db()?
        .as_ref()
        .map(upload_from_row)
        .transpose()
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
        let row = sqlx::query(concat!(
            "INSERT INTO conversations AS c \
               (uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key, \
                department_id) \
             VALUES ($1, 'group', $2, $3, $4, 0, $4, NULL, $5) \
             RETURNING ",
            conv_cols!()
        ))
        .bind(Uuid::now_v7().to_string())
        .bind(title)
        .bind(creator.as_str())
        .bind(now)
        .bind(department)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        let conversation = conversation_from_row(&row)?;
        sqlx::query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES ($1, $2, 'owner', $3)",
        )
        .bind(conversation.id)
        .bind(creator.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             SELECT DISTINCT $1::bigint, id, 'member', $2::bigint \
             FROM unnest($3::text[]) AS t (id) WHERE id <> $4 \
             ON CONFLICT (conversation_id, user_id) DO NOTHING",
        )
        .bind(conversation.id)
        .bind(now)
        .bind(id_array(members))
        .bind(creator.as_str())
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(conversation)
    }

    /// Moves a member's watermark `column` forward to `seq`, capped at the
    /// conversation's last sequence number; the new value if it moved.
    async fn advance_watermark(
        &self,
        column: &'static str,
        conversation_id: i64,
        user: &UserId,
        seq: i64,
    ) -> StoreResult<Option<i64>> {
        let target = "LEAST($1, (SELECT last_seq FROM conversations WHERE id = $2))";
        // `column` is one of two constants, never client input.
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "UPDATE members SET {column} = {target} \
             WHERE conversation_id = $2 AND user_id = $3 AND {column} < {target} \
             RETURNING {column}"
        )))
        .bind(seq)
        .bind(conversation_id)
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()
    }
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
