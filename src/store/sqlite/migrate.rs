//! The migrations of `migrations/sqlite/`, embedded in the binary and
//! recorded in the `_sqlx_migrations` table in the format of the sqlx
//! migrator that this store used before, so that databases made by either
//! run each migration once.

use std::time::Instant;

use rusqlite::{Connection, TransactionBehavior};
use sha2::{Digest, Sha384};

use super::error::DbResult;
use super::statements::{execute, optional};
use crate::core::error::StoreError;
use crate::store::StoreResult;

/// The migration files, in order, as `(file name, SQL)`.
macro_rules! migration_files {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../../../migrations/sqlite/", $file)))),*]
    };
}

const MIGRATIONS: &[(&str, &str)] = migration_files![
    "0001_init.sql",
    "0002_friendships_devices_uploads.sql",
    "0003_departments.sql",
    "0004_member_mute.sql",
    "0005_attachment_meta.sql",
    "0006_message_declared_kind.sql",
    "0007_device_push_format.sql",
    "0008_user_access.sql",
    "0009_changes.sql",
    "0010_external_ids.sql",
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
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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
            (5, "attachment meta"),
            (6, "message declared kind"),
            (7, "device push format"),
            (8, "user access"),
            (9, "changes"),
            (10, "external ids"),
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
        assert_eq!(after.len(), migrations().len());
        assert_eq!(after[2].4, 1_234_567, "0003 untouched");
        assert_eq!(after[3].3, migrations()[3].checksum());
        assert_eq!(after[4].4, 1_234_567, "0005 untouched");
        conn.execute("UPDATE members SET muted = 1 WHERE 0", [])
            .expect("0004 applied");
    }

    #[test]
    fn a_message_stored_before_attachment_metadata_reads_as_before() {
        use crate::store::rows::{self, select_message};
        let mut conn = Connection::open_in_memory().expect("open");
        run_migrations(&mut conn, &migrations()[..4]).expect("0001 to 0004");
        conn.execute_batch(
            "INSERT INTO users (id, created_at) VALUES ('alice', 1); \
             INSERT INTO conversations (uuid, kind, created_by, created_at, updated_at) \
               VALUES ('01900000-0000-7000-8000-000000000001', 'group', 'alice', 1, 1); \
             INSERT INTO messages (uuid, conversation_id, seq, sender_id, kind, attachments, \
               created_at) \
               VALUES ('01900000-0000-7000-8000-000000000002', 1, 1, 'alice', 'image', \
               '[\"/uploads/a.webp\",\"https://x.example/b.png\"]', 2);",
        )
        .expect("a message of then");
        migrate(&mut conn).expect("to now");
        let m = optional(
            &conn,
            concat!(select_message!(), "WHERE m.id = 1"),
            [],
            rows::message,
        )
        .expect("read")
        .expect("the message");
        assert_eq!(
            m.attachments,
            vec![
                crate::core::Attachment::new("/uploads/a.webp"),
                crate::core::Attachment::new("https://x.example/b.png"),
            ]
        );
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
}
