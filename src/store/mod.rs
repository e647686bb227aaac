//! Persistence behind one trait. SQLite is the embedded default; PostgreSQL
//! is the second backend, held to the same behaviour by
//! `tests/store_contract.rs`.

use std::sync::Arc;

use crate::core::error::StoreError;
pub use crate::core::ports::{Credentials, DynStore, Inserted, Store, StoreResult};
use crate::core::{ConversationKind, FriendshipStatus, MessageKind};

pub mod postgres;
pub mod sqlite;

/// Opens the store named by a database URL, running its migrations:
/// `sqlite://path` or `sqlite::memory:` for SQLite, `postgres://...` or
/// `postgresql://...` for PostgreSQL.
pub async fn open(url: &str) -> StoreResult<DynStore> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::open(url).await?))
    } else {
        Err(StoreError::Backend(format!(
            "unsupported database URL {url:?}: expected sqlite://PATH, sqlite::memory: \
             or postgres://USER@HOST:PORT/DATABASE"
        )))
    }
}

/// Kind of a conversation as stored.
pub fn kind_from_str(s: &str) -> StoreResult<ConversationKind> {
    match s {
        "direct" => Ok(ConversationKind::Direct),
        "group" => Ok(ConversationKind::Group),
        other => Err(StoreError::Corrupt(format!("conversation kind {other:?}"))),
    }
}

/// Kind of a message as stored.
pub fn message_kind_from_str(s: &str) -> StoreResult<MessageKind> {
    MessageKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("message kind {s:?}")))
}

/// Status of a friendship as stored.
pub fn friendship_status_from_code(code: i64) -> StoreResult<FriendshipStatus> {
    FriendshipStatus::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("friendship status {code}")))
}
