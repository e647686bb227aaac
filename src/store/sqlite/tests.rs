//! The SQLite store as a whole: opening a file, closing, conflicts.

use super::SqliteStore;
use super::statements::one;
use crate::core::error::StoreError;
use crate::core::{Profile, UserId};
use crate::store::Store;

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
            .db
            .write(|tx| {
                one(tx, "PRAGMA journal_mode", [], |row| {
                    row.text("journal_mode")
                })
            })
            .expect("journal mode");
        assert_eq!(mode, "wal");
        let synchronous = store
            .db
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
