//! The data directory: created private to the user confab runs as (`0700`),
//! and held by one serving process at a time through an advisory lock on
//! `confab.lock` inside it (a kernel lock: released when the process exits,
//! crash included).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The name of the lock file in the data directory.
pub const LOCK_FILE_NAME: &str = "confab.lock";

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("data directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "another confab process{holder} already serves the data directory {dir} \
         (it holds the lock on {lock}): stop it first, or give this one a data \
         directory of its own (--data-dir, data_dir, CONFAB_DATA_DIR)"
    )]
    Taken {
        dir: PathBuf,
        lock: PathBuf,
        /// ` (pid N)` when the holder wrote its pid, else empty.
        holder: String,
    },
}

/// Creates `dir` and its missing parents, each new one `0700`; an existing
/// directory is left as it is.
pub fn create_private(dir: &Path) -> Result<(), DataDirError> {
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
    builder.create(dir).map_err(|source| DataDirError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// The lock of a data directory, held until dropped (or the process ends).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// Takes the lock of `dir` (which must exist), or says which process
    /// holds it. The holder's pid is written into the lock file.
    pub fn acquire(dir: &Path) -> Result<Self, DataDirError> {
        let path = dir.join(LOCK_FILE_NAME);
        let io = |source| DataDirError::Io {
            path: path.clone(),
            source,
        };
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!(" (pid {pid})"),
                    Err(_) => String::new(),
                };
                return Err(DataDirError::Taken {
                    dir: dir.to_path_buf(),
                    lock: path,
                    holder,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DataDirLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_of_one_directory_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = DataDirLock::acquire(dir.path()).expect("first lock");
        let err = DataDirLock::acquire(dir.path()).expect_err("second lock");
        let text = err.to_string();
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("--data-dir"), "{text}");
        assert_eq!(first.path(), dir.path().join(LOCK_FILE_NAME));
        drop(first);
        DataDirLock::acquire(dir.path()).expect("free again");
    }

    #[cfg(unix)]
    #[test]
    fn a_created_data_directory_and_its_lock_file_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("a").join("data");
        create_private(&dir).expect("create");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        let lock = DataDirLock::acquire(&dir).expect("lock");
        assert_eq!(mode(lock.path()), 0o600);
        // An existing directory is left alone.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).expect("chmod");
        create_private(&dir).expect("again");
        assert_eq!(mode(&dir), 0o750);
    }
}
