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
//! commit: one task takes every insert waiting at that moment (at most
//! [`GROUP_COMMIT_MAX`]) and stores them in one transaction; each sender
//! hears of its message only after that transaction committed, so nothing
//! is delivered that is not stored. Under load this writes each page a
//! group touches (the conversation's row, the index leaves) once per group
//! instead of once per message; alone, a message is its own group. Reads of a file database go through
//! several read-only connections (`query_only`), each behind its own mutex,
//! which WAL lets run beside the writer; an in-memory database lives in one
//! connection, shared by reads and writes. No lock is held across an
//! `.await` (there is none). Statements are prepared once per connection
//! and cached.
//!
//! Ids of users named in a conversation (its creator and members) are
//! provisioned as placeholders in the same transaction if they are not known
//! yet, so the foreign keys from members and conversations to users hold.
//!
//! Migrations are the files of `migrations/sqlite/`, embedded in the binary
//! and recorded in the `_sqlx_migrations` table in the format of the sqlx
//! migrator that this store used before, so databases made by either run
//! each migration once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::{Mutex, MutexGuard};
use rusqlite::{Connection, OpenFlags, Params, Transaction, TransactionBehavior, ffi};
use sha2::{Digest, Sha384};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::rows::{
    self, Row, agent_cols, conversation_cols, department_cols, device_cols, friendship_cols,
    member_cols, member_order, select_message, upload_cols, user_cols,
};
use super::{Credentials, Inserted, Store, StoreResult};
use crate::core::error::StoreError;
use crate::core::ids::RowRef;
use crate::core::{
    Agent, AgentRole, Conversation, ConversationRef, ConversationSummary, Department, Device,
    Friendship, Member, Message, MessageRef, Millis, NewMessage, Page, Profile, Role, Upload, User,
    UserId,
};

/// How long SQLite waits on a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// At most this many messages are stored in one transaction.
const GROUP_COMMIT_MAX: usize = 256;
/// Prepared statements kept per connection: more than this store has.
const STATEMENT_CACHE: usize = 128;

/// The watermark capped at the conversation's last sequence number: `?1`
/// is the wanted sequence number, `?2` the conversation.
macro_rules! watermark_target {
    () => {
        "MIN(?1, (SELECT last_seq FROM conversations WHERE id = ?2))"
    };
}

/// The SQLite store. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Connections>,
    /// The group commit of new messages.
    inserts: mpsc::UnboundedSender<PendingInsert>,
}

/// A message waiting for its group's transaction.
type PendingInsert = (NewMessage, oneshot::Sender<StoreResult<Inserted>>);

/// A connection slot: `None` once the store is closed.
type Slot = Mutex<Option<Connection>>;

struct Connections {
    /// The one connection that writes (and, for an in-memory database,
    /// also reads).
    writer: Slot,
    /// Read-only connections of a file database; empty for an in-memory one.
    readers: Vec<Slot>,
    /// Which reader a caller that finds none free waits for next.
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("readers", &self.inner.readers.len())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens `sqlite://path/to/file.db` (creating the file and its parent
    /// directories if missing) or `sqlite::memory:`, and runs the migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let inner = Arc::new(connect(url)?);
        let (inserts, queue) = mpsc::unbounded_channel();
        tokio::spawn(group_commit(inner.clone(), queue));
        Ok(SqliteStore { inner, inserts })
    }
}

/// Opens the connections of `url` and runs the migrations.
fn connect(url: &str) -> StoreResult<Connections> {
    let target = parse_url(url)
        .map_err(|e| StoreError::Backend(format!("invalid SQLite URL {url:?}: {e}")))?;
    let connections = match target {
        Target::Memory => {
            let mut conn = Connection::open_in_memory().db()?;
            configure(&conn)?;
            migrate(&mut conn)?;
            Connections {
                writer: Mutex::new(Some(conn)),
                readers: Vec::new(),
                next_reader: AtomicUsize::new(0),
            }
        }
        Target::File(file) => {
            if let Some(dir) = file.path.parent()
                && !dir.as_os_str().is_empty()
            {
                create_dir(dir)?;
            }
            let flags = if file.read_only {
                OpenFlags::SQLITE_OPEN_READ_ONLY
            } else {
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
            };
            let mut writer = file.open(flags)?;
            configure(&writer)?;
            // The journal mode is a property of the file, set here once;
            // readers only need to be kept from writing.
            writer.pragma_update(None, "journal_mode", "WAL").db()?;
            writer.pragma_update(None, "synchronous", "NORMAL").db()?;
            migrate(&mut writer)?;

            let count = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(4)
                .clamp(2, 8);
            let flags = if file.read_only {
                OpenFlags::SQLITE_OPEN_READ_ONLY
            } else {
                OpenFlags::SQLITE_OPEN_READ_WRITE
            };
            let mut readers = Vec::with_capacity(count);
            for _ in 0..count {
                let reader = file.open(flags)?;
                configure(&reader)?;
                reader.pragma_update(None, "synchronous", "NORMAL").db()?;
                reader.pragma_update(None, "query_only", "ON").db()?;
                readers.push(Mutex::new(Some(reader)));
            }
            Connections {
                writer: Mutex::new(Some(writer)),
                readers,
                next_reader: AtomicUsize::new(0),
            }
        }
    };
    Ok(connections)
}

impl SqliteStore {
    /// Closes every connection, waiting for those in use; the store answers
    /// `Unavailable` from then on.
    pub async fn close(&self) {
        for reader in &self.inner.readers {
            reader.lock().take();
        }
        self.inner.writer.lock().take();
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the writer, committed
    /// if `f` succeeds and rolled back otherwise.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        self.inner.write(f)
    }

    /// Runs `f` on a read connection: the first free reader, else (all
    /// busy) the next one in turn once it is free; the writer for an
    /// in-memory database.
    fn read<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut slot = self.reader();
        let conn = slot.as_mut().ok_or_else(closed)?;
        f(conn)
    }

    fn reader(&self) -> MutexGuard<'_, Option<Connection>> {
        let readers = &self.inner.readers;
        if readers.is_empty() {
            return self.inner.writer.lock();
        }
        if let Some(free) = readers.iter().find_map(|r| r.try_lock()) {
            return free;
        }
        let next = self.inner.next_reader.fetch_add(1, Ordering::Relaxed);
        readers[next % readers.len()].lock()
    }
}

impl Connections {
    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the writer, committed
    /// if `f` succeeds and rolled back otherwise.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut slot = self.writer.lock();
        let conn = slot.as_mut().ok_or_else(closed)?;
        if !conn.is_autocommit() {
            // A rollback that failed left a transaction open: end it, or no
            // write could begin again.
            conn.execute_batch("ROLLBACK").db()?;
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db()?;
        let value = f(&tx)?;
        tx.commit().db()?;
        Ok(value)
    }
}

/// Settings of every connection.
fn configure(conn: &Connection) -> StoreResult<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(BUSY_TIMEOUT).db()?;
    conn.pragma_update(None, "foreign_keys", "ON").db()?;
    Ok(())
}

fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed".into())
}

fn create_dir(dir: &Path) -> StoreResult<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::Unavailable(format!("creating directory {}: {e}", dir.display())))
}

// --- URLs ---

/// What a `sqlite:` URL names.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A private in-memory database, gone when the store is.
    Memory,
    File(FileTarget),
}

#[derive(Debug, PartialEq, Eq)]
struct FileTarget {
    path: PathBuf,
    /// `mode=ro`.
    read_only: bool,
    /// `immutable=true`.
    immutable: bool,
    /// `vfs=NAME`.
    vfs: Option<String>,
}

impl FileTarget {
    fn open(&self, flags: OpenFlags) -> StoreResult<Connection> {
        let flags = flags | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if !self.immutable && self.vfs.is_none() {
            return Connection::open_with_flags(&self.path, flags).db();
        }
        // SQLite takes these as parameters of a `file:` URI.
        let path = self.path.to_str().ok_or_else(|| {
            StoreError::Backend(format!("database path {:?} is not UTF-8", self.path))
        })?;
        let mut uri = format!("file:{}?", percent_encode(path));
        if self.immutable {
            uri.push_str("immutable=true&");
        }
        if let Some(vfs) = &self.vfs {
            uri.push_str("vfs=");
            uri.push_str(&percent_encode(vfs));
        }
        let uri = uri.trim_end_matches(['&', '?']);
        Connection::open_with_flags(uri, flags).db()
    }
}

/// `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` or `sqlite://:memory:`,
/// with optional parameters `mode` (`ro`, `rw`, `rwc`, `memory`), `cache`
/// (`shared`, `private`: accepted, and of no use with one connection per
/// slot), `immutable` and `vfs`. The path is percent-decoded. A file is
/// always created if missing (as `rwc`), unless `mode=ro`.
fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    let mut memory = database == ":memory:";
    let mut read_only = false;
    let mut immutable = false;
    let mut vfs = None;
    for pair in params.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (form_decode(key), form_decode(value));
        match (key.as_str(), value.as_str()) {
            ("mode", "ro") => read_only = true,
            ("mode", "rw" | "rwc") => {}
            ("mode", "memory") => memory = true,
            ("cache", "shared" | "private") => {}
            ("immutable", "true" | "1") => immutable = true,
            ("immutable", "false" | "0") => immutable = false,
            ("vfs", _) => vfs = Some(value),
            ("mode" | "cache" | "immutable", _) => {
                return Err(format!("unknown value {value:?} for `{key}`"));
            }
            _ => return Err(format!("unknown query parameter `{key}`")),
        }
    }
    if memory {
        return Ok(Target::Memory);
    }
    let path = String::from_utf8(percent_decode(database))
        .map_err(|e| format!("the path is not UTF-8: {e}"))?;
    Ok(Target::File(FileTarget {
        path: PathBuf::from(path),
        read_only,
        immutable,
        vfs,
    }))
}

/// `%XX` escapes decoded; a `%` not followed by two hex digits stays.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// A query-string component: `+` is a space, then percent-decoded.
fn form_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode(&s.replace('+', " "))).into_owned()
}

/// Every byte but ASCII letters and digits as `%XX`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// --- migrations ---

/// The migration files, in order, as `(file name, SQL)`.
macro_rules! migration_files {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../../migrations/sqlite/", $file)))),*]
    };
}

const MIGRATIONS: &[(&str, &str)] = migration_files![
    "0001_init.sql",
    "0002_friendships_devices_uploads.sql",
    "0003_departments.sql",
    "0004_member_mute.sql",
];

/// The table of applied migrations, as the sqlx migrator made it.
const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
)";

/// One migration file: `0001_some_thing.sql` is version 1, described as
/// "some thing" (as sqlx names them).
struct Migration {
    version: i64,
    description: String,
    sql: &'static str,
}

impl Migration {
    fn from_file(name: &str, sql: &'static str) -> StoreResult<Migration> {
        let bad = || StoreError::Backend(format!("migration file name {name:?}"));
        let (version, rest) = name.split_once('_').ok_or_else(bad)?;
        let description = rest.strip_suffix(".sql").ok_or_else(bad)?.replace('_', " ");
        Ok(Migration {
            version: version.parse().map_err(|_| bad())?,
            description,
            sql,
        })
    }

    /// SHA-384 of the file, as sqlx records it.
    fn checksum(&self) -> Vec<u8> {
        Sha384::digest(self.sql.as_bytes()).to_vec()
    }
}

/// Applies the migrations not applied yet, in order, each in a transaction
/// with its row in `_sqlx_migrations`. Refuses a database with a failed
/// migration, one whose applied migration differs from the file, or one
/// with a migration this build does not know (made by a newer confab).
fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let migrations = MIGRATIONS
        .iter()
        .map(|(name, sql)| Migration::from_file(name, sql))
        .collect::<StoreResult<Vec<_>>>()?;
    run_migrations(conn, &migrations)
}

fn run_migrations(conn: &mut Connection, migrations: &[Migration]) -> StoreResult<()> {
    let failed = |e: StoreError| StoreError::Backend(format!("running migrations: {e}"));
    conn.execute_batch(MIGRATIONS_TABLE).db().map_err(failed)?;
    let applied = applied_migrations(conn).map_err(failed)?;
    if let Some((version, _, _)) = applied.iter().find(|(_, _, success)| !success) {
        return Err(failed(StoreError::Backend(format!(
            "migration {version} was left partially applied"
        ))));
    }
    if let Some((version, _, _)) = applied
        .iter()
        .find(|(v, _, _)| !migrations.iter().any(|m| m.version == *v))
    {
        return Err(failed(StoreError::Backend(format!(
            "migration {version} was applied but is unknown to this build"
        ))));
    }
    for migration in migrations {
        let checksum = migration.checksum();
        match applied.iter().find(|(v, _, _)| *v == migration.version) {
            Some((_, stored, _)) if stored.is_empty() || *stored == checksum => continue,
            Some(_) => {
                return Err(failed(StoreError::Backend(format!(
                    "migration {} was applied from a different file",
                    migration.version
                ))));
            }
            None => {}
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db()
            .map_err(failed)?;
        // Checked again inside the write transaction: another process that
        // opened the same file at the same time may have applied it.
        let done = optional(
            &tx,
            "SELECT 1 FROM _sqlx_migrations WHERE version = ?",
            [migration.version],
            |_| Ok(()),
        )
        .map_err(failed)?
        .is_some();
        if done {
            continue;
        }
        let start = Instant::now();
        tx.execute_batch(migration.sql).db().map_err(|e| {
            failed(StoreError::Backend(format!(
                "migration {}: {e}",
                migration.version
            )))
        })?;
        let elapsed = i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX);
        execute(
            &tx,
            "INSERT INTO _sqlx_migrations \
               (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![migration.version, migration.description, checksum, elapsed],
        )
        .map_err(failed)?;
        tx.commit().db().map_err(failed)?;
    }
    Ok(())
}

/// `(version, checksum, success)` of every recorded migration.
fn applied_migrations(conn: &Connection) -> StoreResult<Vec<(i64, Vec<u8>, bool)>> {
    let mut stmt = conn
        .prepare("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
        .db()?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get("version")?,
                row.get("checksum")?,
                row.get("success")?,
            ))
        })
        .db()?;
    rows.collect::<Result<_, _>>().db()
}

// --- errors ---

/// Maps a rusqlite error onto the store's error kinds.
fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::Error as E;
    match &e {
        E::SqliteFailure(failure, message) => {
            let code = failure.extended_code;
            if code == ffi::SQLITE_CONSTRAINT_UNIQUE || code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY {
                return StoreError::Conflict(conflict_subject(message.as_deref().unwrap_or("")));
            }
            // Primary result codes that mean "cannot reach the data now".
            match code & 0xff {
                ffi::SQLITE_BUSY
                | ffi::SQLITE_LOCKED
                | ffi::SQLITE_IOERR
                | ffi::SQLITE_FULL
                | ffi::SQLITE_CANTOPEN => StoreError::Unavailable(e.to_string()),
                _ => StoreError::Backend(e.to_string()),
            }
        }
        E::FromSqlConversionFailure(..)
        | E::IntegralValueOutOfRange(..)
        | E::InvalidColumnType(..)
        | E::Utf8Error(..) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
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

impl<T> DbResult<T> for Result<T, rusqlite::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(map_err)
    }
}

// --- statements ---

/// Every row of a (cached) statement, each through `map`.
fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    mut map: impl FnMut(&dyn Row) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// The first row of a (cached) statement, if any, through `map`.
fn optional<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&dyn Row) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    match rows.next().db()? {
        Some(row) => map(row).map(Some),
        None => Ok(None),
    }
}

/// The first row of a (cached) statement, which must return one.
fn one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&dyn Row) -> StoreResult<T>,
) -> StoreResult<T> {
    optional(conn, sql, params, map)?
        .ok_or_else(|| StoreError::Backend("the query returned no row".into()))
}

/// Runs a (cached) statement that returns no rows: the rows it changed.
fn execute(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<usize> {
    conn.prepare_cached(sql).db()?.execute(params).db()
}

impl Row for rusqlite::Row<'_> {
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.get(col).db()
    }

    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.get(col).db()
    }

    fn opt_str(&self, col: &str) -> StoreResult<Option<&str>> {
        self.get_ref(col)
            .db()?
            .as_str_or_null()
            .map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
    }

    /// An integer, 0 for false.
    fn flag(&self, col: &str) -> StoreResult<bool> {
        Ok(self.int(col)? != 0)
    }

    /// A JSON array.
    fn strings(&self, col: &str) -> StoreResult<Vec<String>> {
        let json = self.str(col)?;
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{col} {json:?}: {e}")))
    }
}

/// A JSON array of the ids, for `json_each(?)`.
fn ids_json<'a>(ids: impl IntoIterator<Item = &'a UserId>) -> StoreResult<String> {
    let ids: Vec<&str> = ids.into_iter().map(UserId::as_str).collect();
    serde_json::to_string(&ids).map_err(|e| StoreError::Backend(format!("encoding ids: {e}")))
}

/// Creates placeholders for the ids not known yet, inside a transaction.
fn ensure_users_in(conn: &Connection, ids_json: &str, now: Millis) -> StoreResult<()> {
    execute(
        conn,
        "INSERT INTO users (id, placeholder, created_at) \
         SELECT DISTINCT value, 1, ? FROM json_each(?) WHERE true \
         ON CONFLICT (id) DO NOTHING",
        rusqlite::params![now, ids_json],
    )?;
    Ok(())
}

fn message_in(conn: &Connection, id: i64) -> StoreResult<Option<Message>> {
    optional(
        conn,
        concat!(select_message!(), "WHERE m.id = ?"),
        [id],
        rows::message,
    )
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| one(conn, "SELECT 1", [], |_| Ok(())))
    }

    // --- users ---

    async fn upsert_user(&self, id: &UserId, profile: &Profile, now: Millis) -> StoreResult<User> {
        self.write(|tx| {
            one(
                tx,
                concat!(
                    "INSERT INTO users (id, display_name, avatar_url, email, placeholder, created_at) \
                     VALUES (?, ?, ?, ?, 0, ?) \
                     ON CONFLICT (id) DO UPDATE SET \
                       display_name = COALESCE(excluded.display_name, display_name), \
                       avatar_url = COALESCE(excluded.avatar_url, avatar_url), \
                       email = COALESCE(excluded.email, email), \
                       placeholder = 0 \
                     RETURNING ",
                    user_cols!()
                ),
                rusqlite::params![
                    id.as_str(),
                    profile.display_name.as_deref(),
                    profile.avatar_url.as_deref(),
                    profile.email.as_deref(),
                    now
                ],
                rows::user,
            )
        })
    }

    async fn ensure_users(&self, ids: &[UserId], now: Millis) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let json = ids_json(ids)?;
        self.write(|tx| ensure_users_in(tx, &json, now))
    }

    async fn create_password_user(
        &self,
        id: &UserId,
        username: &str,
        profile: &Profile,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<User> {
        self.write(|tx| {
            one(
                tx,
                concat!(
                    "INSERT INTO users \
                       (id, username, display_name, avatar_url, email, password_hash, placeholder, \
                        created_at) \
                     VALUES (?, ?, ?, ?, ?, ?, 0, ?) \
                     RETURNING ",
                    user_cols!()
                ),
                rusqlite::params![
                    id.as_str(),
                    username,
                    profile.display_name.as_deref(),
                    profile.avatar_url.as_deref(),
                    profile.email.as_deref(),
                    password_hash,
                    now
                ],
                rows::user,
            )
        })
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        self.read(|conn| {
            optional(
                conn,
                concat!(
                    "SELECT ",
                    user_cols!(),
                    ", password_hash FROM users \
                     WHERE username = ? AND password_hash IS NOT NULL"
                ),
                [username],
                rows::credentials,
            )
        })
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        self.read(|conn| {
            optional(
                conn,
                concat!("SELECT ", user_cols!(), " FROM users WHERE id = ?"),
                [id.as_str()],
                rows::user,
            )
        })
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let json = ids_json(ids)?;
        self.read(|conn| {
            all(
                conn,
                concat!(
                    "SELECT ",
                    user_cols!(),
                    " FROM users WHERE id IN (SELECT value FROM json_each(?))"
                ),
                [json],
                rows::user,
            )
        })
    }

    async fn set_last_seen(&self, id: &UserId, at: Millis) -> StoreResult<()> {
        self.write(|tx| {
            execute(
                tx,
                "UPDATE users SET last_seen_at = MAX(COALESCE(last_seen_at, ?1), ?1) WHERE id = ?2",
                rusqlite::params![at, id.as_str()],
            )
        })?;
        Ok(())
    }

    async fn contacts(&self, id: &UserId) -> StoreResult<Vec<UserId>> {
        self.read(|conn| {
            all(
                conn,
                "SELECT DISTINCT other.user_id FROM members mine \
                 JOIN members other ON other.conversation_id = mine.conversation_id \
                 WHERE mine.user_id = ?1 AND other.user_id <> ?1 \
                 ORDER BY other.user_id",
                [id.as_str()],
                |row| row.user_id("user_id"),
            )
        })
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
        let pair = ids_json([creator, other])?;
        self.write(|tx| {
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

    async fn create_group(
        &self,
        creator: &UserId,
        title: Option<&str>,
        members: &[UserId],
        now: Millis,
    ) -> StoreResult<Conversation> {
        self.insert_group(creator, title, members, None, now)
    }

    async fn create_support(
        &self,
        visitor: &UserId,
        department_id: i64,
        title: Option<&str>,
        now: Millis,
    ) -> StoreResult<Conversation> {
        self.insert_group(visitor, title, &[], Some(department_id), now)
    }

    async fn conversation(&self, r: ConversationRef) -> StoreResult<Option<Conversation>> {
        self.read(|conn| match r {
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
        })
    }

    async fn members(&self, conversation_id: i64) -> StoreResult<Vec<Member>> {
        self.read(|conn| {
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

    async fn member(&self, conversation_id: i64, user: &UserId) -> StoreResult<Option<Member>> {
        self.read(|conn| {
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

    async fn add_member(
        &self,
        conversation_id: i64,
        user: &UserId,
        role: Role,
        now: Millis,
    ) -> StoreResult<bool> {
        let json = ids_json([user])?;
        self.write(|tx| {
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

    async fn set_muted(
        &self,
        conversation_id: i64,
        user: &UserId,
        muted: bool,
    ) -> StoreResult<bool> {
        let muted = i64::from(muted);
        let changed = self.write(|tx| {
            execute(
                tx,
                "UPDATE members SET muted = ? \
                 WHERE conversation_id = ? AND user_id = ? AND muted <> ?",
                rusqlite::params![muted, conversation_id, user.as_str(), muted],
            )
        })?;
        Ok(changed == 1)
    }

    async fn remove_member(&self, conversation_id: i64, user: &UserId) -> StoreResult<bool> {
        let removed = self.write(|tx| {
            execute(
                tx,
                "DELETE FROM members WHERE conversation_id = ? AND user_id = ?",
                rusqlite::params![conversation_id, user.as_str()],
            )
        })?;
        Ok(removed == 1)
    }

    async fn conversation_ids_of(&self, user: &UserId) -> StoreResult<Vec<i64>> {
        self.read(|conn| {
            all(
                conn,
                "SELECT conversation_id FROM members WHERE user_id = ? ORDER BY conversation_id",
                [user.as_str()],
                |row| row.int("conversation_id"),
            )
        })
    }

    async fn conversations_of(&self, user: &UserId) -> StoreResult<Vec<ConversationSummary>> {
        // Three queries in one read transaction (one snapshot): the
        // conversations with the unread counts, all their members, and
        // their last live messages.
        self.read(|conn| {
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

    async fn unread_count(&self, conversation_id: i64, user: &UserId) -> StoreResult<i64> {
        self.read(|conn| {
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

    async fn direct_conversation_between(
        &self,
        a: &UserId,
        b: &UserId,
    ) -> StoreResult<Option<Conversation>> {
        if a == b {
            return Ok(None);
        }
        let key = rows::direct_key(a, b);
        self.read(|conn| {
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

    // --- departments ---

    async fn create_department(
        &self,
        creator: &UserId,
        name: &str,
        now: Millis,
    ) -> StoreResult<Department> {
        let json = ids_json([creator])?;
        self.write(|tx| {
            ensure_users_in(tx, &json, now)?;
            let uuid = Uuid::now_v7();
            let id = one(
                tx,
                "INSERT INTO departments (uuid, name, created_by, created_at) VALUES (?, ?, ?, ?) \
                 RETURNING id",
                rusqlite::params![uuid.to_string(), name, creator.as_str(), now],
                |row| row.int("id"),
            )?;
            let department = rows::new_department(id, uuid, name, creator, now);
            execute(
                tx,
                "INSERT INTO department_agents (department_id, user_id, role, added_at) \
                 VALUES (?, ?, 'admin', ?)",
                rusqlite::params![department.id, creator.as_str(), now],
            )?;
            Ok(department)
        })
    }

    async fn department(&self, r: RowRef) -> StoreResult<Option<Department>> {
        self.read(|conn| match r {
            RowRef::Id(id) => optional(
                conn,
                concat!(
                    "SELECT ",
                    department_cols!(),
                    " FROM departments d WHERE d.id = ?"
                ),
                [id],
                rows::department,
            ),
            RowRef::Uuid(uuid) => optional(
                conn,
                concat!(
                    "SELECT ",
                    department_cols!(),
                    " FROM departments d WHERE d.uuid = ?"
                ),
                [uuid.to_string()],
                rows::department,
            ),
        })
    }

    async fn departments_of(&self, user: &UserId) -> StoreResult<Vec<Department>> {
        self.read(|conn| {
            all(
                conn,
                concat!(
                    "SELECT ",
                    department_cols!(),
                    " FROM department_agents a JOIN departments d ON d.id = a.department_id \
                     WHERE a.user_id = ? ORDER BY d.id"
                ),
                [user.as_str()],
                rows::department,
            )
        })
    }

    async fn agents(&self, department_id: i64) -> StoreResult<Vec<Agent>> {
        self.read(|conn| {
            all(
                conn,
                concat!(
                    "SELECT ",
                    agent_cols!(),
                    " FROM department_agents \
                     WHERE department_id = ? ORDER BY role = 'admin' DESC, added_at, user_id"
                ),
                [department_id],
                rows::agent,
            )
        })
    }

    async fn agent(&self, department_id: i64, user: &UserId) -> StoreResult<Option<Agent>> {
        self.read(|conn| {
            optional(
                conn,
                concat!(
                    "SELECT ",
                    agent_cols!(),
                    " FROM department_agents WHERE department_id = ? AND user_id = ?"
                ),
                rusqlite::params![department_id, user.as_str()],
                rows::agent,
            )
        })
    }

    async fn put_agent(
        &self,
        department_id: i64,
        user: &UserId,
        role: AgentRole,
        now: Millis,
    ) -> StoreResult<bool> {
        let json = ids_json([user])?;
        self.write(|tx| {
            ensure_users_in(tx, &json, now)?;
            let existed = optional(
                tx,
                "SELECT 1 FROM department_agents WHERE department_id = ? AND user_id = ?",
                rusqlite::params![department_id, user.as_str()],
                |_| Ok(()),
            )?
            .is_some();
            execute(
                tx,
                "INSERT INTO department_agents (department_id, user_id, role, added_at) \
                 VALUES (?, ?, ?, ?) \
                 ON CONFLICT (department_id, user_id) DO UPDATE SET role = excluded.role",
                rusqlite::params![department_id, user.as_str(), role.as_str(), now],
            )?;
            Ok(!existed)
        })
    }

    async fn remove_agent(&self, department_id: i64, user: &UserId) -> StoreResult<bool> {
        let removed = self.write(|tx| {
            execute(
                tx,
                "DELETE FROM department_agents WHERE department_id = ? AND user_id = ?",
                rusqlite::params![department_id, user.as_str()],
            )
        })?;
        Ok(removed == 1)
    }

    async fn support_conversations(&self, department_id: i64) -> StoreResult<Vec<Conversation>> {
        self.read(|conn| {
            all(
                conn,
                concat!(
                    "SELECT ",
                    conversation_cols!(),
                    " FROM conversations c WHERE c.department_id = ? \
                     ORDER BY c.updated_at DESC, c.id DESC"
                ),
                [department_id],
                rows::conversation,
            )
        })
    }

    // --- messages ---

    async fn insert_message(&self, m: NewMessage) -> StoreResult<Inserted> {
        let (reply, answer) = oneshot::channel();
        self.inserts.send((m, reply)).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    async fn message(&self, r: MessageRef) -> StoreResult<Option<Message>> {
        self.read(|conn| match r {
            RowRef::Id(id) => optional(
                conn,
                concat!(select_message!(), "WHERE m.id = ?"),
                [id],
                rows::message,
            ),
            RowRef::Uuid(uuid) => optional(
                conn,
                concat!(select_message!(), "WHERE m.uuid = ?"),
                [uuid.to_string()],
                rows::message,
            ),
        })
    }

    async fn messages(&self, conversation_id: i64, page: Page) -> StoreResult<Vec<Message>> {
        let limit = i64::from(page.limit);
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.read(|conn| match (page.before_seq, page.after_seq) {
            (None, Some(after)) => all(
                conn,
                concat!(
                    select_message!(),
                    "WHERE m.conversation_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?"
                ),
                rusqlite::params![conversation_id, after, limit],
                rows::message,
            ),
            (before, after) => {
                let mut messages = all(
                    conn,
                    concat!(
                        select_message!(),
                        "WHERE m.conversation_id = ? AND m.seq < ? AND m.seq > ? \
                         ORDER BY m.seq DESC LIMIT ?"
                    ),
                    rusqlite::params![
                        conversation_id,
                        before.unwrap_or(i64::MAX),
                        after.unwrap_or(0),
                        limit
                    ],
                    rows::message,
                )?;
                messages.reverse();
                Ok(messages)
            }
        })
    }

    async fn edit_message(&self, id: i64, text: &str, at: Millis) -> StoreResult<Message> {
        self.write(|tx| {
            let changed = execute(
                tx,
                "UPDATE messages SET text = ?, edited_at = ? WHERE id = ? AND deleted_at IS NULL",
                rusqlite::params![text, at, id],
            )?;
            let message = message_in(tx, id)?.ok_or_else(|| rows::message_not_found(id))?;
            if changed == 0 {
                // The row exists, so it is deleted (and nothing is committed).
                return Err(StoreError::Conflict("message is deleted"));
            }
            Ok(message)
        })
    }

    async fn delete_message(&self, id: i64, at: Millis) -> StoreResult<Message> {
        self.write(|tx| {
            execute(
                tx,
                "UPDATE messages \
                 SET text = NULL, attachments = '[]', deleted_at = COALESCE(deleted_at, ?) \
                 WHERE id = ?",
                rusqlite::params![at, id],
            )?;
            execute(
                tx,
                "DELETE FROM message_attachments WHERE message_id = ?",
                [id],
            )?;
            message_in(tx, id)?.ok_or_else(|| rows::message_not_found(id))
        })
    }

    async fn attachment_used_in(&self, conversation_id: i64, path: &str) -> StoreResult<bool> {
        self.read(|conn| {
            one(
                conn,
                "SELECT EXISTS (SELECT 1 FROM message_attachments \
                 WHERE conversation_id = ? AND path = ?) AS used",
                rusqlite::params![conversation_id, path],
                |row| row.flag("used"),
            )
        })
    }

    // --- watermarks ---

    async fn mark_read(
        &self,
        conversation_id: i64,
        user: &UserId,
        seq: i64,
    ) -> StoreResult<Option<i64>> {
        self.write(|tx| {
            optional(
                tx,
                concat!(
                    "UPDATE members SET last_read_seq = ",
                    watermark_target!(),
                    " WHERE conversation_id = ?2 AND user_id = ?3 AND last_read_seq < ",
                    watermark_target!(),
                    " RETURNING last_read_seq"
                ),
                rusqlite::params![seq, conversation_id, user.as_str()],
                |row| row.int("last_read_seq"),
            )
        })
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
        let json = ids_json(users.iter())?;
        let moved = self.write(|tx| {
            all(
                tx,
                concat!(
                    "UPDATE members SET last_delivered_seq = ",
                    watermark_target!(),
                    " WHERE conversation_id = ?2 AND last_delivered_seq < ",
                    watermark_target!(),
                    " AND user_id IN (SELECT value FROM json_each(?3)) \
                     RETURNING user_id, last_delivered_seq"
                ),
                rusqlite::params![seq, conversation_id, json],
                rows::delivered,
            )
        })?;
        Ok(rows::moved(moved, seq))
    }

    // --- friendships ---

    async fn friendship(&self, a: &UserId, b: &UserId) -> StoreResult<Option<Friendship>> {
        let (lo, hi) = rows::ordered(a, b);
        self.read(|conn| {
            optional(
                conn,
                concat!(
                    "SELECT ",
                    friendship_cols!(),
                    " FROM friendships WHERE user_lo = ? AND user_hi = ?"
                ),
                [lo.as_str(), hi.as_str()],
                rows::friendship,
            )
        })
    }

    async fn put_friendship(&self, f: &Friendship) -> StoreResult<()> {
        rows::two_for_a_friendship(f)?;
        let (lo, hi) = rows::ordered(&f.requester, &f.addressee);
        let pair = ids_json([lo, hi])?;
        self.write(|tx| {
            ensure_users_in(tx, &pair, f.created_at)?;
            execute(
                tx,
                "INSERT INTO friendships \
                   (user_lo, user_hi, requester, addressee, status, blocked_by, created_at, \
                    updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (user_lo, user_hi) DO UPDATE SET \
                   requester = excluded.requester, \
                   addressee = excluded.addressee, \
                   status = excluded.status, \
                   blocked_by = excluded.blocked_by, \
                   created_at = excluded.created_at, \
                   updated_at = excluded.updated_at",
                rusqlite::params![
                    lo.as_str(),
                    hi.as_str(),
                    f.requester.as_str(),
                    f.addressee.as_str(),
                    f.status.as_code(),
                    f.blocked_by.as_ref().map(UserId::as_str),
                    f.created_at,
                    f.updated_at
                ],
            )?;
            Ok(())
        })
    }

    async fn delete_friendship(&self, a: &UserId, b: &UserId) -> StoreResult<bool> {
        let (lo, hi) = rows::ordered(a, b);
        let deleted = self.write(|tx| {
            execute(
                tx,
                "DELETE FROM friendships WHERE user_lo = ? AND user_hi = ?",
                [lo.as_str(), hi.as_str()],
            )
        })?;
        Ok(deleted == 1)
    }

    async fn friendships_of(&self, user: &UserId) -> StoreResult<Vec<Friendship>> {
        self.read(|conn| {
            all(
                conn,
                concat!(
                    "SELECT ",
                    friendship_cols!(),
                    " FROM friendships WHERE user_lo = ?1 \
                     UNION ALL SELECT ",
                    friendship_cols!(),
                    " FROM friendships WHERE user_hi = ?1 \
                     ORDER BY updated_at DESC, requester, addressee"
                ),
                [user.as_str()],
                rows::friendship,
            )
        })
    }

    // --- push devices ---

    async fn add_device(&self, d: &Device) -> StoreResult<()> {
        let json = ids_json([&d.user_id])?;
        self.write(|tx| {
            ensure_users_in(tx, &json, d.created_at)?;
            execute(
                tx,
                "INSERT INTO devices (token, user_id, platform, created_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (token) DO UPDATE SET \
                   user_id = excluded.user_id, \
                   platform = excluded.platform, \
                   created_at = excluded.created_at",
                rusqlite::params![
                    d.token,
                    d.user_id.as_str(),
                    d.platform.as_str(),
                    d.created_at
                ],
            )?;
            Ok(())
        })
    }

    async fn remove_device(&self, user: &UserId, token: &str) -> StoreResult<bool> {
        let removed = self.write(|tx| {
            execute(
                tx,
                "DELETE FROM devices WHERE token = ? AND user_id = ?",
                [token, user.as_str()],
            )
        })?;
        Ok(removed == 1)
    }

    async fn remove_device_token(&self, token: &str) -> StoreResult<bool> {
        let removed =
            self.write(|tx| execute(tx, "DELETE FROM devices WHERE token = ?", [token]))?;
        Ok(removed == 1)
    }

    async fn devices_of(&self, users: &[UserId]) -> StoreResult<Vec<Device>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let json = ids_json(users)?;
        self.read(|conn| {
            all(
                conn,
                concat!(
                    "SELECT ",
                    device_cols!(),
                    " FROM devices WHERE user_id IN (SELECT value FROM json_each(?)) \
                     ORDER BY user_id, created_at, token"
                ),
                [json],
                rows::device,
            )
        })
    }

    // --- uploads ---

    async fn record_upload(&self, u: &Upload) -> StoreResult<()> {
        let json = ids_json([&u.owner])?;
        self.write(|tx| {
            ensure_users_in(tx, &json, u.created_at)?;
            execute(
                tx,
                "INSERT INTO uploads (path, owner, kind, content_type, size, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
                rusqlite::params![
                    u.path,
                    u.owner.as_str(),
                    u.kind.as_str(),
                    u.content_type,
                    u.size,
                    u.created_at
                ],
            )?;
            Ok(())
        })
    }

    async fn upload(&self, path: &str) -> StoreResult<Option<Upload>> {
        self.read(|conn| {
            optional(
                conn,
                concat!("SELECT ", upload_cols!(), " FROM uploads WHERE path = ?"),
                [path],
                rows::upload,
            )
        })
    }
}

impl SqliteStore {
    /// A group with `creator` as owner, `members` as members, and its
    /// department if it is a support conversation.
    fn insert_group(
        &self,
        creator: &UserId,
        title: Option<&str>,
        members: &[UserId],
        department: Option<i64>,
        now: Millis,
    ) -> StoreResult<Conversation> {
        let members_json = ids_json(members)?;
        let everyone = ids_json(std::iter::once(creator).chain(members))?;
        self.write(|tx| {
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
}

/// Stores the messages waiting, a group at a time, each group in one
/// transaction, and answers each sender after its group committed.
async fn group_commit(db: Arc<Connections>, mut queue: mpsc::UnboundedReceiver<PendingInsert>) {
    let mut group = Vec::with_capacity(GROUP_COMMIT_MAX);
    while queue.recv_many(&mut group, GROUP_COMMIT_MAX).await > 0 {
        let results = store_group(&db, &group);
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
fn store_group(db: &Connections, group: &[PendingInsert]) -> Vec<StoreResult<Inserted>> {
    match try_group(db, group) {
        Ok(results) => results,
        Err(e) if group.len() == 1 => vec![Err(e)],
        Err(_) => group
            .chunks(1)
            .flat_map(|one| try_group(db, one).unwrap_or_else(|e| vec![Err(e)]))
            .collect(),
    }
}

fn try_group(db: &Connections, group: &[PendingInsert]) -> StoreResult<Vec<StoreResult<Inserted>>> {
    db.write(|tx| {
        group
            .iter()
            .map(|(m, _)| {
                let conversation_id = m.conversation_id;
                Ok(insert_one(tx, m.clone())?.ok_or_else(|| {
                    StoreError::Backend(format!("conversation {conversation_id} does not exist"))
                }))
            })
            .collect()
    })
}

/// Stores one message in `tx`: the client-id check, the next sequence
/// number, the row, its attachments and the conversation's
/// `last_seq`/`updated_at`; `None` (nothing written) if its conversation
/// does not exist.
fn insert_one(tx: &Connection, m: NewMessage) -> StoreResult<Option<Inserted>> {
    let attachments = serde_json::to_string(&m.attachments)
        .map_err(|e| StoreError::Backend(format!("encoding attachments: {e}")))?;

    if let Some(client_id) = &m.client_id {
        let existing = optional(
            tx,
            concat!(
                select_message!(),
                "WHERE m.conversation_id = ? AND m.sender_id = ? AND m.client_id = ?"
            ),
            rusqlite::params![m.conversation_id, m.sender_id.as_str(), client_id],
            rows::message,
        )?;
        if let Some(message) = existing {
            return Ok(Some(Inserted::Duplicate(message)));
        }
    }

    let Some((seq, conversation_uuid)) = optional(
        tx,
        "UPDATE conversations \
         SET last_seq = last_seq + 1, updated_at = MAX(updated_at, ?) \
         WHERE id = ? \
         RETURNING last_seq, uuid",
        rusqlite::params![m.created_at, m.conversation_id],
        |row| Ok((row.int("last_seq")?, row.uuid("uuid")?)),
    )?
    else {
        return Ok(None);
    };
    let uuid = Uuid::now_v7();

    let id = one(
        tx,
        "INSERT INTO messages \
           (uuid, conversation_id, seq, sender_id, kind, text, attachments, client_id, \
            created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         RETURNING id",
        rusqlite::params![
            uuid.to_string(),
            m.conversation_id,
            seq,
            m.sender_id.as_str(),
            m.kind.as_str(),
            m.text.as_deref(),
            attachments,
            m.client_id.as_deref(),
            m.created_at
        ],
        |row| row.int("id"),
    )?;
    if !m.attachments.is_empty() {
        execute(
            tx,
            "INSERT INTO message_attachments (conversation_id, path, message_id) \
             SELECT DISTINCT ?1, value, ?2 FROM json_each(?3) WHERE true \
             ON CONFLICT DO NOTHING",
            rusqlite::params![m.conversation_id, id, attachments],
        )?;
    }
    Ok(Some(Inserted::New(rows::new_message(
        m,
        id,
        uuid,
        conversation_uuid,
        seq,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> Target {
        Target::File(FileTarget {
            path: PathBuf::from(path),
            read_only: false,
            immutable: false,
            vfs: None,
        })
    }

    #[test]
    fn urls_are_parsed_as_sqlx_parsed_them() {
        for memory in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://?mode=memory",
            "sqlite://named?mode=memory&cache=shared",
        ] {
            assert_eq!(parse_url(memory), Ok(Target::Memory), "{memory}");
        }
        assert_eq!(
            parse_url("sqlite://data/confab.db"),
            Ok(file("data/confab.db"))
        );
        assert_eq!(
            parse_url("sqlite:///var/lib/confab/memory.db"),
            Ok(file("/var/lib/confab/memory.db"))
        );
        assert_eq!(parse_url("sqlite:relative.db"), Ok(file("relative.db")));
        // What `Config::database_url` makes of a data directory.
        assert_eq!(
            parse_url("sqlite:///tmp/a%25b%3Fc%23d/confab.db?mode=rwc"),
            Ok(file("/tmp/a%b?c#d/confab.db"))
        );
        let Ok(Target::File(ro)) = parse_url("sqlite://x.db?mode=ro&immutable=1&vfs=unix") else {
            panic!("not a file");
        };
        assert!(ro.read_only && ro.immutable);
        assert_eq!(ro.vfs.as_deref(), Some("unix"));
        assert!(parse_url("sqlite://x.db?mode=rwx").is_err());
        assert!(parse_url("sqlite://x.db?journal=wal").is_err());
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

    #[test]
    fn sqlite_errors_map_onto_store_errors() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT UNIQUE); \
             INSERT INTO users VALUES ('a', 'alice');",
        )
        .expect("schema");
        let unique = conn
            .execute("INSERT INTO users VALUES ('b', 'alice')", [])
            .expect_err("duplicate username");
        assert!(matches!(
            map_err(unique),
            StoreError::Conflict("username is taken")
        ));
        let primary = conn
            .execute("INSERT INTO users VALUES ('a', 'other')", [])
            .expect_err("duplicate id");
        assert!(matches!(
            map_err(primary),
            StoreError::Conflict("user id is taken")
        ));
        let busy = rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_BUSY), None);
        assert!(matches!(map_err(busy), StoreError::Unavailable(_)));
        let ioerr = rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_IOERR_WRITE), None);
        assert!(matches!(map_err(ioerr), StoreError::Unavailable(_)));
        let syntax = conn
            .execute("INSERT INTO nowhere VALUES (1)", [])
            .expect_err("no table");
        assert!(matches!(map_err(syntax), StoreError::Backend(_)));
        let decode = conn
            .query_row("SELECT 'text'", [], |row| row.get::<_, i64>(0))
            .expect_err("not an integer");
        assert!(matches!(map_err(decode), StoreError::Corrupt(_)));
    }

    #[tokio::test]
    async fn a_taken_username_is_a_conflict() {
        let store = SqliteStore::open("sqlite::memory:").await.expect("open");
        let p = Profile::default();
        let (a, b) = (
            UserId::from_trusted("a".into()),
            UserId::from_trusted("b".into()),
        );
        store
            .create_password_user(&a, "alice", &p, "hash", 1)
            .await
            .expect("first");
        let err = store
            .create_password_user(&b, "alice", &p, "hash", 2)
            .await
            .expect_err("second");
        assert!(matches!(err, StoreError::Conflict("username is taken")));
        // The failed transaction was rolled back: the writer works on.
        assert!(store.user(&b).await.expect("user").is_none());
        store.upsert_user(&b, &p, 3).await.expect("upsert");
    }

    fn migrations() -> Vec<Migration> {
        MIGRATIONS
            .iter()
            .map(|(name, sql)| Migration::from_file(name, sql).expect("migration name"))
            .collect()
    }

    /// `(version, description, success, checksum, execution_time)` rows.
    type Recorded = Vec<(i64, String, bool, Vec<u8>, i64)>;

    fn recorded(conn: &Connection) -> Recorded {
        let mut stmt = conn
            .prepare(
                "SELECT version, description, success, checksum, execution_time \
                 FROM _sqlx_migrations ORDER BY version",
            )
            .expect("statement");
        stmt.query_map([], |row| {
            Ok((
                row.get("version")?,
                row.get("description")?,
                row.get("success")?,
                row.get("checksum")?,
                row.get("execution_time")?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("recorded migrations")
    }

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("migrations directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let embedded: Vec<&str> = MIGRATIONS.iter().map(|(name, _)| *name).collect();
        assert_eq!(files, embedded);
        let versions: Vec<i64> = migrations().iter().map(|m| m.version).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    }

    #[test]
    fn migrations_run_once_and_are_recorded_as_sqlx_records_them() {
        let mut conn = Connection::open_in_memory().expect("open");
        migrate(&mut conn).expect("first run");
        let first = recorded(&conn);
        let expected: Vec<(i64, &str)> = vec![
            (1, "init"),
            (2, "friendships devices uploads"),
            (3, "departments"),
            (4, "member mute"),
        ];
        assert_eq!(
            first
                .iter()
                .map(|(v, d, ..)| (*v, d.as_str()))
                .collect::<Vec<_>>(),
            expected
        );
        for ((_, _, success, checksum, time), m) in first.iter().zip(migrations()) {
            assert!(success);
            assert_eq!(checksum, &m.checksum());
            assert_eq!(checksum.len(), 48);
            assert!(*time >= 0);
        }
        let installed: String = conn
            .query_row(
                "SELECT installed_on FROM _sqlx_migrations WHERE version = 1",
                [],
                |r| r.get(0),
            )
            .expect("installed_on");
        assert_eq!(installed.len(), "2026-01-01 00:00:00".len(), "{installed}");
        // A second run applies nothing (applying 0001 again would fail:
        // its tables exist) and leaves the records as they were.
        migrate(&mut conn).expect("second run");
        assert_eq!(recorded(&conn), first);
    }

    /// The schema and records as the sqlx migrator left them.
    fn sqlx_made() -> Connection {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
                version BIGINT PRIMARY KEY,
                description TEXT NOT NULL,
                installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                success BOOLEAN NOT NULL,
                checksum BLOB NOT NULL,
                execution_time BIGINT NOT NULL
            );",
        )
        .expect("sqlx table");
        for m in migrations() {
            conn.execute_batch(m.sql).expect("migration");
            conn.execute(
                "INSERT INTO _sqlx_migrations \
                   (version, description, success, checksum, execution_time) \
                 VALUES (?1, ?2, TRUE, ?3, -1)",
                rusqlite::params![m.version, m.description, m.checksum()],
            )
            .expect("record");
            conn.execute(
                "UPDATE _sqlx_migrations SET execution_time = ?1 WHERE version = ?2",
                rusqlite::params![1_234_567_i64, m.version],
            )
            .expect("time");
        }
        conn
    }

    #[test]
    fn a_database_migrated_by_sqlx_is_accepted_as_it_is() {
        let mut conn = sqlx_made();
        let before = recorded(&conn);
        migrate(&mut conn).expect("migrate");
        assert_eq!(recorded(&conn), before);
    }

    #[test]
    fn only_the_migrations_not_recorded_are_applied() {
        let mut conn = sqlx_made();
        conn.execute_batch(
            "ALTER TABLE members DROP COLUMN muted; \
             DELETE FROM _sqlx_migrations WHERE version = 4;",
        )
        .expect("undo 0004");
        migrate(&mut conn).expect("migrate");
        let after = recorded(&conn);
        assert_eq!(after.len(), 4);
        assert_eq!(after[2].4, 1_234_567, "0003 untouched");
        assert_eq!(after[3].3, migrations()[3].checksum());
        conn.execute("UPDATE members SET muted = 1 WHERE 0", [])
            .expect("0004 applied");
    }

    #[test]
    fn a_database_that_does_not_match_the_files_is_refused() {
        let mut changed = sqlx_made();
        changed
            .execute(
                "UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 2",
                [],
            )
            .expect("checksum");
        assert!(migrate(&mut changed).is_err());

        let mut newer = sqlx_made();
        newer
            .execute(
                "INSERT INTO _sqlx_migrations \
                   (version, description, success, checksum, execution_time) \
                 VALUES (99, 'from the future', TRUE, x'00', 0)",
                [],
            )
            .expect("newer");
        assert!(migrate(&mut newer).is_err());

        let mut dirty = sqlx_made();
        dirty
            .execute(
                "UPDATE _sqlx_migrations SET success = FALSE WHERE version = 4",
                [],
            )
            .expect("dirty");
        assert!(migrate(&mut dirty).is_err());
    }

    #[tokio::test]
    async fn a_file_database_is_created_with_its_directories_and_reopened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/deeper/confab.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let alice = UserId::from_trusted("alice".into());
        {
            let store = SqliteStore::open(&url).await.expect("open");
            store
                .upsert_user(&alice, &Profile::default(), 1)
                .await
                .expect("upsert");
            let mode = store
                .write(|tx| {
                    one(tx, "PRAGMA journal_mode", [], |row| {
                        row.text("journal_mode")
                    })
                })
                .expect("journal mode");
            assert_eq!(mode, "wal");
            let synchronous = store
                .read(|conn| one(conn, "PRAGMA synchronous", [], |row| row.int("synchronous")))
                .expect("synchronous");
            assert_eq!(synchronous, 1, "NORMAL");
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
        assert!(store.inner.readers.len() >= 2);
        let res = store.read(|conn| execute(conn, "DELETE FROM users", []));
        assert!(res.is_err());
        store.close().await;
    }

    #[tokio::test]
    async fn reads_use_a_free_reader_while_others_are_busy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("r.db").display());
        let store = SqliteStore::open(&url).await.expect("open");
        let _busy = store.inner.readers[0].lock();
        store
            .read(|conn| one(conn, "SELECT 1", [], |_| Ok(())))
            .expect("read on another reader");
    }

    #[tokio::test]
    async fn a_closed_store_is_unavailable() {
        let store = SqliteStore::open("sqlite::memory:").await.expect("open");
        store.ping().await.expect("ping");
        store.close().await;
        assert!(matches!(
            store.ping().await,
            Err(StoreError::Unavailable(_))
        ));
        let alice = UserId::from_trusted("alice".into());
        assert!(matches!(
            store.upsert_user(&alice, &Profile::default(), 1).await,
            Err(StoreError::Unavailable(_))
        ));
    }
}
