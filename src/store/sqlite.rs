//! The embedded SQLite store.
//!
//! SQLite has one writer at a time, so every write goes through a pool of
//! exactly one connection: writers queue in the pool instead of failing with
//! `SQLITE_BUSY`, and a transaction on that connection has `BEGIN IMMEDIATE`
//! semantics. Reads of a file database go through a separate pool of several
//! connections (`query_only`), which WAL lets run beside the writer. An
//! in-memory database lives in one connection, shared by reads and writes.
//!
//! Ids of users named in a conversation (its creator and members) are
//! provisioned as placeholders in the same transaction if they are not known
//! yet, so the foreign keys from members and conversations to users hold.
//!
//! New messages are written by group commit: one task takes every insert
//! waiting at that moment (at most [`GROUP_COMMIT_MAX`]) and stores them in
//! one transaction; each sender hears of its message only after that
//! transaction committed, so nothing is delivered that is not stored. Under
//! load this amortises `BEGIN`/`COMMIT` over many messages; alone, a message
//! is its own group and waits for nobody.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot};
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
/// as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// At most this many messages are stored in one transaction.
const GROUP_COMMIT_MAX: usize = 256;
/// How long SQLite waits on a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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

/// `SELECT` of a `Message`, from `messages m` joined to `conversations c`.
macro_rules! select_message {
    () => {
        "SELECT m.id, m.uuid, m.conversation_id, c.uuid AS conversation_uuid, m.seq, \
         m.sender_id, m.kind, m.text, m.attachments, m.client_id, m.created_at, m.edited_at, \
         m.deleted_at \
         FROM messages m JOIN conversations c ON c.id = m.conversation_id "
    };
}

/// The columns of a `Friendship`, from `friendships`.
macro_rules! friendship_cols {
    () => {
        "requester, addressee, status, blocked_by, created_at, updated_at"
    };
}

/// The SQLite store. Cheap to share behind an `Arc`; pools are internally
/// reference counted.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: SQLite has one writer.
    write: SqlitePool,
    /// Several read-only connections for a file database; the writer itself
    /// for an in-memory one.
    read: SqlitePool,
    /// The group commit of new messages.
    inserts: mpsc::UnboundedSender<PendingInsert>,
}

/// A message waiting for its group's transaction.
type PendingInsert = (NewMessage, oneshot::Sender<StoreResult<Inserted>>);

impl SqliteStore {
    /// Opens `sqlite://path/to/file.db` (creating the file and its parent
    /// directories if missing) or `sqlite::memory:`, and runs the migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid SQLite URL {url:?}: {e}")))?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);

        let (write, read) = if is_memory_url(url) {
            // One connection that is never closed: the database lives in it.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(base)
                .await
                .db()?;
            (pool.clone(), pool)
        } else {
            if let Some(dir) = base.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                create_dir(dir)?;
            }
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(
                    base.clone()
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal),
                )
                .await
                .db()?;
            // The journal mode is a property of the file, set by the writer
            // above; readers only need to be kept from writing.
            let readers = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(4)
                .clamp(2, 8) as u32;
            let read = SqlitePoolOptions::new()
                .max_connections(readers)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(
                    base.synchronous(SqliteSynchronous::Normal)
                        .pragma("query_only", "ON"),
                );
            (write, read)
        };
        let (inserts, queue) = mpsc::unbounded_channel();
        tokio::spawn(group_commit(write.clone(), queue));
        let store = SqliteStore {
            write,
            read,
            inserts,
        };

        sqlx::migrate!("./migrations/sqlite")
            .run(&store.write)
            .await
            .map_err(|e| StoreError::Backend(format!("running migrations: {e}")))?;
        Ok(store)
    }

    /// Closes both pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.write.begin_with("BEGIN IMMEDIATE").await.db()
    }
}

fn create_dir(dir: &Path) -> StoreResult<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::Unavailable(format!("creating directory {}: {e}", dir.display())))
}

/// `sqlite::memory:`, `sqlite://:memory:` or a URL with `mode=memory`.
fn is_memory_url(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (db, params) = rest.split_once('?').unwrap_or((rest, ""));
    db == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

// --- errors ---

/// Maps a sqlx error onto the store's error kinds.
fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                return StoreError::Conflict(conflict_subject(db.message()));
            }
            // Primary result codes that mean "cannot reach the data now":
            // BUSY, LOCKED, IOERR, FULL, CANTOPEN.
            let primary = db
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff);
            match primary {
                Some(5 | 6 | 10 | 13 | 14) => StoreError::Unavailable(db.to_string()),
                _ => StoreError::Backend(db.to_string()),
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        other => StoreError::Backend(other.to_string()),
    }
}

/// What a unique violation was about, from SQLite's message
/// (`UNIQUE constraint failed: users.username`).
fn conflict_subject(message: &str) -> &'static str {
    if message.contains("users.username") {
        "username is taken"
    } else if message.contains("users.id") {
        "user id is taken"
    } else if message.contains("conversations.direct_key") {
        "direct conversation already exists"
    } else if message.contains("messages.client_id") {
        "client id already used"
    } else if message.contains("uploads.path") {
        "upload path already recorded"
    } else if message.contains("members.") {
        "already a member"
    } else {
        "row already exists"
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

fn get<'r, T>(row: &'r SqliteRow, col: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(col).db()
}

fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s:?}: {e}")))
}

fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    Ok(User {
        id: UserId::from_trusted(get(row, "id")?),
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        avatar_url: get(row, "avatar_url")?,
        email: get(row, "email")?,
        placeholder: get::<i64>(row, "placeholder")? != 0,
        created_at: get(row, "created_at")?,
        last_seen_at: get(row, "last_seen_at")?,
    })
}

fn conversation_from_row(row: &SqliteRow) -> StoreResult<Conversation> {
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

fn department_from_row(row: &SqliteRow) -> StoreResult<Department> {
    Ok(Department {
        id: get(row, "id")?,
        uuid: parse_uuid(get(row, "uuid")?)?,
        name: get(row, "name")?,
        created_by: UserId::from_trusted(get(row, "created_by")?),
        created_at: get(row, "created_at")?,
    })
}

fn agent_from_row(row: &SqliteRow) -> StoreResult<Agent> {
    let role: &str = get(row, "role")?;
    Ok(Agent {
        department_id: get(row, "department_id")?,
        user_id: UserId::from_trusted(get(row, "user_id")?),
        role: AgentRole::parse(role)
            .ok_or_else(|| StoreError::Corrupt(format!("agent role {role:?}")))?,
        added_at: get(row, "added_at")?,
    })
}

fn member_from_row(row: &SqliteRow) -> StoreResult<Member> {
    let role: &str = get(row, "role")?;
    Ok(Member {
        conversation_id: get(row, "conversation_id")?,
        user_id: UserId::from_trusted(get(row, "user_id")?),
        role: Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        joined_at: get(row, "joined_at")?,
        last_read_seq: get(row, "last_read_seq")?,
        last_delivered_seq: get(row, "last_delivered_seq")?,
        muted: get::<i64>(row, "muted")? != 0,
    })
}

fn message_from_row(row: &SqliteRow) -> StoreResult<Message> {
    let attachments: &str = get(row, "attachments")?;
    let attachments: Vec<String> = serde_json::from_str(attachments)
        .map_err(|e| StoreError::Corrupt(format!("attachments {attachments:?}: {e}")))?;
    Ok(Message {
        id: get(row, "id")?,
        uuid: parse_uuid(get(row, "uuid")?)?,
        conversation_id: get(row, "conversation_id")?,
        conversation_uuid: parse_uuid(get(row, "conversation_uuid")?)?,
        seq: get(row, "seq")?,
        sender_id: UserId::from_trusted(get(row, "sender_id")?),
        kind: message_kind_from_str(get(row, "kind")?)?,
        text: get(row, "text")?,
        attachments,
        client_id: get(row, "client_id")?,
        created_at: get(row, "created_at")?,
        edited_at: get(row, "edited_at")?,
        deleted_at: get(row, "deleted_at")?,
    })
}

fn friendship_from_row(row: &SqliteRow) -> StoreResult<Friendship> {
    Ok(Friendship {
        requester: UserId::from_trusted(get(row, "requester")?),
        addressee: UserId::from_trusted(get(row, "addressee")?),
        status: friendship_status_from_code(get(row, "status")?)?,
        blocked_by: get::<Option<String>>(row, "blocked_by")?.map(UserId::from_trusted),
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

fn device_from_row(row: &SqliteRow) -> StoreResult<Device> {
    let platform: &str = get(row, "platform")?;
    Ok(Device {
        user_id: UserId::from_trusted(get(row, "user_id")?),
        token: get(row, "token")?,
        platform: DevicePlatform::parse(platform)
            .ok_or_else(|| StoreError::Corrupt(format!("device platform {platform:?}")))?,
        created_at: get(row, "created_at")?,
    })
}

fn upload_from_row(row: &SqliteRow) -> StoreResult<Upload> {
    Ok(Upload {
        path: get(row, "path")?,
        owner: UserId::from_trusted(get(row, "owner")?),
        kind: message_kind_from_str(get(row, "kind")?)?,
        content_type: get(row, "content_type")?,
        size: get(row, "size")?,
        created_at: get(row, "created_at")?,
    })
}

/// The two ids of a pair, smaller first (the key of `friendships`).
fn ordered<'a>(a: &'a UserId, b: &'a UserId) -> (&'a UserId, &'a UserId) {
    if a.as_str() <= b.as_str() {
        (a, b)
    } else {
        (b, a)
    }
}

/// A JSON array of the ids, for `json_each(?)`.
fn ids_json<'a>(ids: impl IntoIterator<Item = &'a UserId>) -> StoreResult<String> {
    let ids: Vec<&str> = ids.into_iter().map(UserId::as_str).collect();
    serde_json::to_string(&ids).map_err(|e| StoreError::Backend(format!("encoding ids: {e}")))
}

/// The key that makes a direct conversation unique: both ids, smaller first.
fn direct_key(a: &UserId, b: &UserId) -> String {
    let (lo, hi) = ordered(a, b);
    format!("{lo}\n{hi}")
}

/// Creates placeholders for the ids not known yet, inside a transaction.
async fn ensure_users_in(
    conn: &mut sqlx::SqliteConnection,
    ids_json: &str,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, placeholder, created_at) \
         SELECT DISTINCT value, 1, ? FROM json_each(?) WHERE true \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(now)
    .bind(ids_json)
    .execute(conn)
    .await
    .db()?;
    Ok(())
}

async fn message_in(conn: &mut sqlx::SqliteConnection, id: i64) -> StoreResult<Option<Message>> {
    sqlx::query(concat!(select_message!(), "WHERE m.id = ?"))
        .bind(id)
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

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await.db()?;
        Ok(())
    }

    // --- users ---

    async fn upsert_user(&self, id: &UserId, profile: &Profile, now: Millis) -> StoreResult<User> {
        let row = sqlx::query(concat!(
            "INSERT INTO users (id, display_name, avatar_url, email, placeholder, created_at) \
             VALUES (?, ?, ?, ?, 0, ?) \
             ON CONFLICT (id) DO UPDATE SET \
               display_name = COALESCE(excluded.display_name, display_name), \
               avatar_url = COALESCE(excluded.avatar_url, avatar_url), \
               email = COALESCE(excluded.email, email), \
               placeholder = 0 \
             RETURNING ",
            user_cols!()
        ))
        .bind(id.as_str())
        .bind(profile.display_name.as_deref())
        .bind(profile.avatar_url.as_deref())
        .bind(profile.email.as_deref())
        .bind(now)
        .fetch_one(&self.write)
        .await
        .db()?;
        user_from_row(&row)
    }

    async fn ensure_users(&self, ids: &[UserId], now: Millis) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let json = ids_json(ids)?;
        let mut conn = self.write.acquire().await.db()?;
        ensure_users_in(&mut conn, &json, now).await
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
             VALUES (?, ?, ?, ?, ?, ?, 0, ?) \
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
        .fetch_one(&self.write)
        .await
        .db()?;
        user_from_row(&row)
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            ", password_hash FROM users \
             WHERE username = ? AND password_hash IS NOT NULL"
        ))
        .bind(username)
        .fetch_optional(&self.read)
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
        sqlx::query(concat!("SELECT ", user_cols!(), " FROM users WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(&self.read)
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
            " FROM users WHERE id IN (SELECT value FROM json_each(?))"
        ))
        .bind(ids_json(ids)?)
        .fetch_all(&self.read)
        .await
        .db()?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn set_last_seen(&self, id: &UserId, at: Millis) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET last_seen_at = MAX(COALESCE(last_seen_at, ?1), ?1) WHERE id = ?2",
        )
        .bind(at)
        .bind(id.as_str())
        .execute(&self.write)
        .await
        .db()?;
        Ok(())
    }

    async fn contacts(&self, id: &UserId) -> StoreResult<Vec<UserId>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT other.user_id FROM members mine \
             JOIN members other ON other.conversation_id = mine.conversation_id \
             WHERE mine.user_id = ?1 AND other.user_id <> ?1 \
             ORDER BY other.user_id",
        )
        .bind(id.as_str())
        .fetch_all(&self.read)
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
        let mut tx = self.begin_write().await?;
        ensure_users_in(&mut tx, &ids_json([creator, other])?, now).await?;
        let created = sqlx::query(
            "INSERT INTO conversations \
               (uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key) \
             VALUES (?, 'direct', NULL, ?, ?, 0, ?, ?) \
             ON CONFLICT (direct_key) DO NOTHING",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(creator.as_str())
        .bind(now)
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
            " FROM conversations c WHERE c.direct_key = ?"
        ))
        .bind(&key)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        let conversation = conversation_from_row(&row)?;
        if created {
            sqlx::query(
                "INSERT INTO members (conversation_id, user_id, role, joined_at) \
                 VALUES (?1, ?2, 'owner', ?4), (?1, ?3, 'member', ?4)",
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
                " FROM conversations c WHERE c.id = ?"
            ))
            .bind(id),
            RowRef::Uuid(uuid) => sqlx::query(concat!(
                "SELECT ",
                conv_cols!(),
                " FROM conversations c WHERE c.uuid = ?"
            ))
            .bind(uuid.to_string()),
        };
        q.fetch_optional(&self.read)
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
            " FROM members mb WHERE mb.conversation_id = ? ORDER BY ",
            member_order!()
        ))
        .bind(conversation_id)
        .fetch_all(&self.read)
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
            " FROM members mb WHERE mb.conversation_id = ? AND mb.user_id = ?"
        ))
        .bind(conversation_id)
        .bind(user.as_str())
        .fetch_optional(&self.read)
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
        let mut tx = self.begin_write().await?;
        ensure_users_in(&mut tx, &ids_json([user])?, now).await?;
        let added = sqlx::query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES (?, ?, ?, ?) \
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
            "UPDATE members SET muted = ? WHERE conversation_id = ? AND user_id = ? AND muted <> ?",
        )
        .bind(i64::from(muted))
        .bind(conversation_id)
        .bind(user.as_str())
        .bind(i64::from(muted))
        .execute(&self.write)
        .await
        .db()?
        .rows_affected()
            == 1;
        Ok(changed)
    }

    async fn remove_member(&self, conversation_id: i64, user: &UserId) -> StoreResult<bool> {
        let removed = sqlx::query("DELETE FROM members WHERE conversation_id = ? AND user_id = ?")
            .bind(conversation_id)
            .bind(user.as_str())
            .execute(&self.write)
            .await
            .db()?
            .rows_affected()
            == 1;
        Ok(removed)
    }

    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT conversation_id FROM members WHERE user_id = ? ORDER BY conversation_id",
        )
        .bind(user.as_str())
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn conversations_of(&self, user: &UserId) -> StoreResult<Vec<ConversationSummary>> {
        // Three queries in one read transaction (one snapshot): the
        // conversations with the unread counts, all their members, and
        // their last live messages.
        let mut tx = self.read.begin().await.db()?;

        let rows = sqlx::query(concat!(
            "SELECT ",
            conv_cols!(),
            ", (SELECT COUNT(*) FROM messages m \
                WHERE m.conversation_id = c.id AND m.seq > me.last_read_seq \
                  AND m.sender_id <> me.user_id AND m.deleted_at IS NULL) AS unread \
             FROM members me JOIN conversations c ON c.id = me.conversation_id \
             WHERE me.user_id = ? \
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
             WHERE me.user_id = ? ORDER BY mb.conversation_id, ",
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
        for row in sqlx::query(concat!(
            select_message!(),
            "JOIN members me ON me.conversation_id = m.conversation_id \
             WHERE me.user_id = ? AND m.seq = ( \
               SELECT MAX(x.seq) FROM messages x \
               WHERE x.conversation_id = m.conversation_id AND x.deleted_at IS NULL)"
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
             WHERE me.conversation_id = ?1 AND me.user_id = ?2 \
               AND m.sender_id <> ?2 AND m.deleted_at IS NULL",
        )
        .bind(conversation_id)
        .bind(user.as_str())
        .fetch_one(&self.read)
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
            " FROM conversations c WHERE c.direct_key = ?"
        ))
        .bind(direct_key(a, b))
        .fetch_optional(&self.read)
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
        let mut tx = self.begin_write().await?;
        ensure_users_in(&mut tx, &ids_json([creator])?, now).await?;
        let row = sqlx::query(
            "INSERT INTO departments (uuid, name, created_by, created_at) VALUES (?, ?, ?, ?) \
             RETURNING id, uuid, name, created_by, created_at",
        )
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
             VALUES (?, ?, 'admin', ?)",
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
            RowRef::Id(id) => sqlx::query(
                "SELECT id, uuid, name, created_by, created_at FROM departments WHERE id = ?",
            )
            .bind(id),
            RowRef::Uuid(uuid) => sqlx::query(
                "SELECT id, uuid, name, created_by, created_at FROM departments WHERE uuid = ?",
            )
            .bind(uuid.to_string()),
        };
        q.fetch_optional(&self.read)
            .await
            .db()?
            .as_ref()
            .map(department_from_row)
            .transpose()
    }

    async fn departments_of(&self, user: &UserId) -> StoreResult<Vec<Department>> {
        sqlx::query(
            "SELECT d.id, d.uuid, d.name, d.created_by, d.created_at \
             FROM department_agents a JOIN departments d ON d.id = a.department_id \
             WHERE a.user_id = ? ORDER BY d.id",
        )
        .bind(user.as_str())
        .fetch_all(&self.read)
        .await
        .db()?
        .iter()
        .map(department_from_row)
        .collect()
    }

    async fn agents(&self, department_id: i64) -> StoreResult<Vec<Agent>> {
        sqlx::query(
            "SELECT department_id, user_id, role, added_at FROM department_agents \
             WHERE department_id = ? ORDER BY role = 'admin' DESC, added_at, user_id",
        )
        .bind(department_id)
        .fetch_all(&self.read)
        .await
        .db()?
        .iter()
        .map(agent_from_row)
        .collect()
    }

    async fn agent(&self, department_id: i64, user: &UserId) -> StoreResult<Option<Agent>> {
        sqlx::query(
            "SELECT department_id, user_id, role, added_at FROM department_agents \
             WHERE department_id = ? AND user_id = ?",
        )
        .bind(department_id)
        .bind(user.as_str())
        .fetch_optional(&self.read)
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
        let mut tx = self.begin_write().await?;
        ensure_users_in(&mut tx, &ids_json([user])?, now).await?;
        let existed =
            sqlx::query("SELECT 1 FROM department_agents WHERE department_id = ? AND user_id = ?")
                .bind(department_id)
                .bind(user.as_str())
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .is_some();
        sqlx::query(
            "INSERT INTO department_agents (department_id, user_id, role, added_at) \
             VALUES (?, ?, ?, ?) \
             ON CONFLICT (department_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(department_id)
        .bind(user.as_str())
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(!existed)
    }

    async fn remove_agent(&self, department_id: i64, user: &UserId) -> StoreResult<bool> {
        let removed =
            sqlx::query("DELETE FROM department_agents WHERE department_id = ? AND user_id = ?")
                .bind(department_id)
                .bind(user.as_str())
                .execute(&self.write)
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
            " FROM conversations c WHERE c.department_id = ? ORDER BY c.updated_at DESC, c.id DESC"
        ))
        .bind(department_id)
        .fetch_all(&self.read)
        .await
        .db()?
        .iter()
        .map(conversation_from_row)
        .collect()
    }

    // --- messages ---

    async fn insert_message(&self, m: NewMessage) -> StoreResult<Inserted> {
        let (reply, answer) = oneshot::channel();
        self.inserts
            .send((m, reply))
            .map_err(|_| StoreError::Unavailable("the store is closed".into()))?;
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the store is closed".into())))
    }

    async fn message(&self, r: MessageRef) -> StoreResult<Option<Message>> {
        let q = match r {
            RowRef::Id(id) => sqlx::query(concat!(select_message!(), "WHERE m.id = ?")).bind(id),
            RowRef::Uuid(uuid) => {
                sqlx::query(concat!(select_message!(), "WHERE m.uuid = ?")).bind(uuid.to_string())
            }
        };
        q.fetch_optional(&self.read)
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
                "WHERE m.conversation_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?"
            ))
            .bind(conversation_id)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .db()?,
            (before, after) => {
                let mut rows = sqlx::query(concat!(
                    select_message!(),
                    "WHERE m.conversation_id = ? AND m.seq < ? AND m.seq > ? \
                     ORDER BY m.seq DESC LIMIT ?"
                ))
                .bind(conversation_id)
                .bind(before.unwrap_or(i64::MAX))
                .bind(after.unwrap_or(0))
                .bind(limit)
                .fetch_all(&self.read)
                .await
                .db()?;
                rows.reverse();
                rows
            }
        };
        rows.iter().map(message_from_row).collect()
    }

    async fn edit_message(&self, id: i64, text: &str, at: Millis) -> StoreResult<Message> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE messages SET text = ?, edited_at = ? WHERE id = ? AND deleted_at IS NULL",
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
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE messages \
             SET text = NULL, attachments = '[]', deleted_at = COALESCE(deleted_at, ?) \
             WHERE id = ?",
        )
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query("DELETE FROM message_attachments WHERE message_id = ?")
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
             WHERE conversation_id = ? AND path = ?)",
        )
        .bind(conversation_id)
        .bind(path)
        .fetch_one(&self.read)
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
        let target = "MIN(?1, (SELECT last_seq FROM conversations WHERE id = ?2))";
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE members SET last_delivered_seq = {target} \
             WHERE conversation_id = ?2 AND last_delivered_seq < {target} \
               AND user_id IN (SELECT value FROM json_each(?3)) \
             RETURNING user_id, last_delivered_seq"
        )))
        .bind(seq)
        .bind(conversation_id)
        .bind(ids_json(users.iter())?)
        .fetch_all(&self.write)
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
            " FROM friendships WHERE user_lo = ? AND user_hi = ?"
        ))
        .bind(lo.as_str())
        .bind(hi.as_str())
        .fetch_optional(&self.read)
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
        let mut tx = self.begin_write().await?;
        ensure_users_in(&mut tx, &ids_json([lo, hi])?, f.created_at).await?;
        sqlx::query(
            "INSERT INTO friendships \
               (user_lo, user_hi, requester, addressee, status, blocked_by, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
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
        let deleted = sqlx::query("DELETE FROM friendships WHERE user_lo = ? AND user_hi = ?")
            .bind(lo.as_str())
            .bind(hi.as_str())
            .execute(&self.write)
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
            " FROM friendships WHERE user_lo = ?1 \
             UNION ALL SELECT ",
            friendship_cols!(),
            " FROM friendships WHERE user_hi = ?1 \
             ORDER BY updated_at DESC, requester, addressee"
        ))
        .bind(user.as_str())
        .fetch_all(&self.read)
        .await
        .db()?
        .iter()
        .map(friendship_from_row)
        .collect()
    }

    // --- push devices ---

    async fn add_device(&self, d: &Device) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        ensure_users_in(&mut tx, &ids_json([&d.user_id])?, d.created_at).await?;
        sqlx::query(
            "INSERT INTO devices (token, user_id, platform, created_at) VALUES (?, ?, ?, ?) \
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
        let removed = sqlx::query("DELETE FROM devices WHERE token = ? AND user_id = ?")
            .bind(token)
            .bind(user.as_str())
            .execute(&self.write)
            .await
            .db()?
            .rows_affected()
            == 1;
        Ok(removed)
    }

    async fn remove_device_token(&self, token: &str) -> StoreResult<bool> {
        let removed = sqlx::query("DELETE FROM devices WHERE token = ?")
            .bind(token)
            .execute(&self.write)
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
             WHERE user_id IN (SELECT value FROM json_each(?)) \
             ORDER BY user_id, created_at, token",
        )
        .bind(ids_json(users)?)
        .fetch_all(&self.read)
        .await
        .db()?
        .iter()
        .map(device_from_row)
        .collect()
    }

    // --- uploads ---

    async fn record_upload(&self, u: &Upload) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        ensure_users_in(&mut tx, &ids_json([&u.owner])?, u.created_at).await?;
        sqlx::query(
            "INSERT INTO uploads (path, owner, kind, content_type, size, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
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
            "SELECT path, owner, kind, content_type, size, created_at FROM uploads WHERE path = ?",
        )
        .bind(path)
        .fetch_optional(&self.read)
        .await
        .db()?
        .as_ref()
        .map(upload_from_row)
        .transpose()
    }
}

impl SqliteStore {
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
        let members_json = ids_json(members)?;
        let mut tx = self.begin_write().await?;
        ensure_users_in(
            &mut tx,
            &ids_json(std::iter::once(creator).chain(members))?,
            now,
        )
        .await?;
        let row = sqlx::query(concat!(
            "INSERT INTO conversations \
               (uuid, kind, title, created_by, created_at, last_seq, updated_at, direct_key, \
                department_id) \
             VALUES (?, 'group', ?, ?, ?, 0, ?, NULL, ?) \
             RETURNING ",
            "id, uuid, kind, title, created_by, created_at, last_seq, updated_at, department_id"
        ))
        .bind(Uuid::now_v7().to_string())
        .bind(title)
        .bind(creator.as_str())
        .bind(now)
        .bind(now)
        .bind(department)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        let conversation = conversation_from_row(&row)?;
        sqlx::query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES (?, ?, 'owner', ?)",
        )
        .bind(conversation.id)
        .bind(creator.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             SELECT ?1, value, 'member', ?2 FROM json_each(?3) WHERE value <> ?4 \
             ON CONFLICT (conversation_id, user_id) DO NOTHING",
        )
        .bind(conversation.id)
        .bind(now)
        .bind(&members_json)
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
        let target = "MIN(?1, (SELECT last_seq FROM conversations WHERE id = ?2))";
        // `column` is one of two constants, never client input.
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "UPDATE members SET {column} = {target} \
             WHERE conversation_id = ?2 AND user_id = ?3 AND {column} < {target} \
             RETURNING {column}"
        )))
        .bind(seq)
        .bind(conversation_id)
        .bind(user.as_str())
        .fetch_optional(&self.write)
        .await
        .db()
    }
}

/// Stores waiting messages a group at a time (see the module doc).
async fn group_commit(write: SqlitePool, mut queue: mpsc::UnboundedReceiver<PendingInsert>) {
    let mut group = Vec::with_capacity(GROUP_COMMIT_MAX);
    while queue.recv_many(&mut group, GROUP_COMMIT_MAX).await > 0 {
        let results = store_group(&write, &group).await;
        for ((_, reply), result) in group.drain(..).zip(results) {
            let _ = reply.send(result);
        }
    }
}

/// Stores a group in one transaction: each message's answer, or the error
/// of the transaction for all. A message whose conversation is gone wrote
/// nothing and fails alone; any other failure rolls the group back, and its
/// messages are stored one transaction each so that one bad message cannot
/// fail the others.
async fn store_group(write: &SqlitePool, group: &[PendingInsert]) -> Vec<StoreResult<Inserted>> {
    match try_group(write, group).await {
        Ok(results) => results,
        Err(e) if group.len() == 1 => vec![Err(e)],
        Err(_) => {
            let mut results = Vec::with_capacity(group.len());
            for one in group.chunks(1) {
                match try_group(write, one).await {
                    Ok(mut r) => results.append(&mut r),
                    Err(e) => results.push(Err(e)),
                }
            }
            results
        }
    }
}

async fn try_group(
    write: &SqlitePool,
    group: &[PendingInsert],
) -> StoreResult<Vec<StoreResult<Inserted>>> {
    let mut tx = write.begin_with("BEGIN IMMEDIATE").await.db()?;
    let mut results = Vec::with_capacity(group.len());
    for (m, _) in group {
        let conversation_id = m.conversation_id;
        results.push(insert_one(&mut tx, m.clone()).await?.ok_or_else(|| {
            StoreError::Backend(format!("conversation {conversation_id} does not exist"))
        }));
    }
    tx.commit().await.db()?;
    Ok(results)
}

/// Stores one message in `tx`; `None` (nothing written) if its
/// conversation does not exist.
async fn insert_one(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    m: NewMessage,
) -> StoreResult<Option<Inserted>> {
    let attachments = serde_json::to_string(&m.attachments)
        .map_err(|e| StoreError::Backend(format!("encoding attachments: {e}")))?;

    if let Some(client_id) = &m.client_id {
        let existing = sqlx::query(concat!(
            select_message!(),
            "WHERE m.conversation_id = ? AND m.sender_id = ? AND m.client_id = ?"
        ))
        .bind(m.conversation_id)
        .bind(m.sender_id.as_str())
        .bind(client_id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .db()?;
        if let Some(row) = existing {
            return Ok(Some(Inserted::Duplicate(message_from_row(&row)?)));
        }
    }

    let row = sqlx::query(
        "UPDATE conversations \
             SET last_seq = last_seq + 1, updated_at = MAX(updated_at, ?) \
             WHERE id = ? \
             RETURNING last_seq, uuid",
    )
    .bind(m.created_at)
    .bind(m.conversation_id)
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let seq: i64 = get(&row, "last_seq")?;
    let conversation_uuid = parse_uuid(get(&row, "uuid")?)?;
    let uuid = Uuid::now_v7();

    let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages \
               (uuid, conversation_id, seq, sender_id, kind, text, attachments, client_id, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(uuid.to_string())
        .bind(m.conversation_id)
        .bind(seq)
        .bind(m.sender_id.as_str())
        .bind(m.kind.as_str())
        .bind(m.text.as_deref())
        .bind(&attachments)
        .bind(m.client_id.as_deref())
        .bind(m.created_at)
        .fetch_one(&mut **tx)
        .await
        .db()?;
    if !m.attachments.is_empty() {
        sqlx::query(
            "INSERT INTO message_attachments (conversation_id, path, message_id) \
                 SELECT DISTINCT ?1, value, ?2 FROM json_each(?3) WHERE true \
                 ON CONFLICT DO NOTHING",
        )
        .bind(m.conversation_id)
        .bind(id)
        .bind(&attachments)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    Ok(Some(Inserted::New(Message {
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
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_urls_are_recognised() {
        assert!(is_memory_url("sqlite::memory:"));
        assert!(is_memory_url("sqlite://:memory:"));
        assert!(is_memory_url("sqlite://?mode=memory"));
        assert!(!is_memory_url("sqlite://data/confab.db"));
        assert!(!is_memory_url("sqlite:///var/lib/confab/memory.db"));
    }

    #[test]
    fn direct_keys_do_not_depend_on_the_order_of_the_pair() {
        let a = UserId::from_trusted("alice".into());
        let b = UserId::from_trusted("bob".into());
        assert_eq!(direct_key(&a, &b), "alice\nbob");
        assert_eq!(direct_key(&b, &a), "alice\nbob");
    }

    #[test]
    fn unique_violations_name_what_is_taken() {
        assert_eq!(
            conflict_subject("UNIQUE constraint failed: users.username"),
            "username is taken"
        );
        assert_eq!(
            conflict_subject("UNIQUE constraint failed: users.id"),
            "user id is taken"
        );
    }

    #[tokio::test]
    async fn a_file_database_is_created_with_its_directories_and_reopened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/deeper/confab.db");
        let url = format!("sqlite://{}", path.display());
        let alice = UserId::from_trusted("alice".into());
        {
            let store = SqliteStore::open(&url).await.expect("open");
            store
                .upsert_user(&alice, &Profile::default(), 1)
                .await
                .expect("upsert");
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&store.write)
                .await
                .expect("journal mode");
            assert_eq!(mode, "wal");
            store.close().await;
        }
        assert!(path.exists());
        let store = SqliteStore::open(&url).await.expect("reopen");
        assert!(store.user(&alice).await.expect("user").is_some());
        store.close().await;
    }

    #[tokio::test]
    async fn readers_of_a_file_database_cannot_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let store = SqliteStore::open(&url).await.expect("open");
        let res = sqlx::query("DELETE FROM users").execute(&store.read).await;
        assert!(res.is_err());
        store.close().await;
    }
}
