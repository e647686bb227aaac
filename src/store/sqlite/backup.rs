//! A copy of a live database in a new file, with SQLite's online backup.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use super::error::DbResult;
use crate::core::error::StoreError;
use crate::store::StoreResult;

/// Copies the database of `src` into a new file at `dest` (refused if it
/// exists), in one step: the copy holds the database as of one moment. The
/// file is created readable by its owner only.
pub(super) fn to_file(src: &Connection, dest: &Path) -> StoreResult<()> {
    if dest.exists() {
        return Err(StoreError::Backend(format!(
            "{} exists: give the path of a new file",
            dest.display()
        )));
    }
    let mut out = Connection::open(dest).db()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| StoreError::Backend(format!("{}: {e}", dest.display())))?;
    }
    {
        let backup = Backup::new(src, &mut out).db()?;
        // -1: every page in one step, under one read transaction of `src`.
        let mut tries = 0;
        loop {
            match backup.step(-1).db()? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked if tries < 500 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => {
                    return Err(StoreError::Unavailable(
                        "the database stayed locked during the backup".into(),
                    ));
                }
            }
        }
    }
    // The copy is a plain (rollback journal) file, whole without a -wal.
    out.execute_batch("PRAGMA journal_mode = DELETE").db()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_holds_the_data_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("dir");
        let src = Connection::open(dir.path().join("a.db")).expect("open");
        src.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (7);",
        )
        .expect("fill");
        let dest = dir.path().join("b.db");
        to_file(&src, &dest).expect("backup");
        let copy = Connection::open(&dest).expect("open copy");
        let x: i64 = copy
            .query_row("SELECT x FROM t", [], |r| r.get(0))
            .expect("row");
        assert_eq!(x, 7);
        assert!(to_file(&src, &dest).is_err());
    }
}
