//! The errors of rusqlite as the store's error kinds.

use rusqlite::ffi;

use crate::core::error::StoreError;
use crate::store::StoreResult;

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

/// `.db()` maps a rusqlite error onto the store's.
pub(super) trait DbResult<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> DbResult<T> for Result<T, rusqlite::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

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
}
