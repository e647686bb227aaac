//! The errors of sqlx as the store's error kinds.

use crate::core::error::StoreError;
use crate::store::StoreResult;

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

/// `.db()` maps a sqlx error onto the store's.
pub(super) trait DbResult<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> DbResult<T> for Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(map_err)
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
}
