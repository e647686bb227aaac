//! The connections of a SQLite database: one writer behind a mutex, and for
//! a file database several read-only readers, each behind its own; opening
//! them (with the settings of every connection and the migrations), and
//! lending one for a read or a write.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use rusqlite::{Connection, OpenFlags};

use super::error::DbResult;
use super::migrate::migrate;
use super::url::{Target, parse_url};
use crate::core::error::StoreError;
use crate::store::StoreResult;

/// How long SQLite waits on a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection: more than this store has.
const STATEMENT_CACHE: usize = 128;

/// Runs a cached statement that takes no parameters and returns no rows.
fn run(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql).db()?.execute([]).db()?;
    Ok(())
}

/// A connection slot: `None` once the store is closed.
type Slot = Mutex<Option<Connection>>;

pub(super) struct Pool {
    /// The one connection that writes (and, for an in-memory database,
    /// also reads).
    writer: Slot,
    /// Read-only connections of a file database; empty for an in-memory one.
    readers: Vec<Slot>,
    /// Which reader a caller that finds none free waits for next.
    next_reader: AtomicUsize,
}

impl Pool {
    /// Opens the connections of `url` and runs the migrations.
    pub(super) fn open(url: &str) -> StoreResult<Pool> {
        let target = parse_url(url)
            .map_err(|e| StoreError::Backend(format!("invalid SQLite URL {url:?}: {e}")))?;
        let pool = match target {
            Target::Memory => {
                let mut conn = Connection::open_in_memory().db()?;
                configure(&conn)?;
                migrate(&mut conn)?;
                Pool {
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
                if !file.read_only {
                    private_files(&file.path)?;
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
                Pool {
                    writer: Mutex::new(Some(writer)),
                    readers,
                    next_reader: AtomicUsize::new(0),
                }
            }
        };
        Ok(pool)
    }

    /// How many read-only connections there are.
    pub(super) fn readers(&self) -> usize {
        self.readers.len()
    }

    /// Closes every connection, waiting for those in use.
    pub(super) fn close(&self) {
        for reader in &self.readers {
            reader.lock().take();
        }
        self.writer.lock().take();
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the writer, committed
    /// if `f` succeeds and rolled back otherwise. `BEGIN`, `COMMIT` and
    /// `ROLLBACK` are cached statements like the rest (rusqlite's
    /// `Transaction` prepares them anew each time: a sixth of a message's
    /// insert).
    pub(super) fn write<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut slot = self.writer.lock();
        let conn = slot.as_mut().ok_or_else(closed)?;
        if !conn.is_autocommit() {
            // A rollback that failed (or a panic in `f`) left a transaction
            // open: end it, or no write could begin again.
            run(conn, "ROLLBACK")?;
        }
        run(conn, "BEGIN IMMEDIATE")?;
        let committed = f(conn).and_then(|value| run(conn, "COMMIT").map(|()| value));
        if committed.is_err()
            && !conn.is_autocommit()
            && let Err(e) = run(conn, "ROLLBACK")
        {
            tracing::warn!(error = %e, "rolling back a failed write failed");
        }
        committed
    }

    /// Runs `f` on a read connection: the first free reader, else (all
    /// busy) the next one in turn once it is free; the writer for an
    /// in-memory database.
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut slot = self.reader();
        let conn = slot.as_mut().ok_or_else(closed)?;
        f(conn)
    }

    fn reader(&self) -> MutexGuard<'_, Option<Connection>> {
        let readers = &self.readers;
        if readers.is_empty() {
            return self.writer.lock();
        }
        if let Some(free) = readers.iter().find_map(|r| r.try_lock()) {
            return free;
        }
        let next = self.next_reader.fetch_add(1, Ordering::Relaxed);
        readers[next % readers.len()].lock()
    }
}

/// Settings of every connection.
fn configure(conn: &Connection) -> StoreResult<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(BUSY_TIMEOUT).db()?;
    conn.pragma_update(None, "foreign_keys", "ON").db()?;
    Ok(())
}

/// What a call on a closed store gets.
pub(super) fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed".into())
}

/// Creates a missing directory (and parents) private to this user (`0700`).
fn create_dir(dir: &Path) -> StoreResult<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| StoreError::Unavailable(format!("creating directory {}: {e}", dir.display())))
}

/// Makes the database file private to this user (`0600`) before SQLite
/// opens it: a missing one is created empty with that mode (SQLite gives its
/// `-wal` and `-shm` files the database file's mode), and an existing
/// database, `-wal` or `-shm` readable by others is tightened.
fn private_files(db: &Path) -> StoreResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let failed =
            |p: &Path, e: std::io::Error| StoreError::Unavailable(format!("{}: {e}", p.display()));
        if !db.exists() {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(db)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(failed(db, e)),
            }
        }
        let mut name = db.as_os_str().to_owned();
        let base = name.clone();
        for suffix in ["", "-wal", "-shm"] {
            name.clone_from(&base);
            name.push(suffix);
            let path = Path::new(&name);
            let Ok(meta) = std::fs::metadata(path) else {
                continue;
            };
            if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| failed(path, e))?;
                tracing::info!(file = %path.display(), "made the database file private (0600)");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::statements::{execute, one};

    #[test]
    fn readers_of_a_file_database_cannot_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let pool = Pool::open(&url).expect("open");
        assert!(pool.readers() >= 2);
        let res = pool.read(|conn| execute(conn, "DELETE FROM users", []));
        assert!(res.is_err());
        pool.close();
    }

    #[test]
    fn reads_use_a_free_reader_while_others_are_busy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("r.db").display());
        let pool = Pool::open(&url).expect("open");
        let _busy = pool.readers[0].lock();
        pool.read(|conn| one(conn, "SELECT 1", [], |_| Ok(())))
            .expect("read on another reader");
    }

    #[cfg(unix)]
    #[test]
    fn the_database_and_its_wal_and_shm_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("new").join("data");
        let db = data.join("c.db");
        let pool = Pool::open(&format!("sqlite://{}", db.display())).expect("open");
        pool.write(|tx| execute(tx, "CREATE TABLE t (x INTEGER)", []).map(|_| ()))
            .expect("write");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        for suffix in ["", "-wal", "-shm"] {
            let path = Path::new(&format!("{}{suffix}", db.display())).to_path_buf();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        pool.close();

        // A database left readable by others is tightened when opened.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let pool = Pool::open(&format!("sqlite://{}", db.display())).expect("reopen");
        assert_eq!(mode(&db), 0o600);
        pool.close();
    }
}
