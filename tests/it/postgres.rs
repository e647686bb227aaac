//! confab on PostgreSQL when the database goes away: a send is refused with
//! a clear error, nothing unstored is broadcast, `/readyz` says so, and
//! everything works again once the database is back. And a database of an
//! earlier schema, migrated on open, keeps its rows readable.

use serde_json::json;
use sqlx::Executor;
use std::time::Duration;

use crate::helpers::postgres::{execute_detached, test_database_url};
use crate::helpers::{joined_dozaar_client, spawn_server_with};

/// Drops the test's database when the test ends, passed or failed.
struct DropDatabase {
    base: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        execute_detached(&self.base, sql);
    }
}

/// An admin connection to the test server, and a database of this test's.
async fn scratch_database() -> (sqlx::PgPool, String, String, DropDatabase) {
    let base = test_database_url();
    let admin = sqlx::PgPool::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at {base}: {e}"));
    let name = format!("confab_down_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    let (prefix, _) = base.rsplit_once('/').expect("a database URL");
    let url = format!("{prefix}/{name}");
    let guard = DropDatabase {
        base,
        name: name.clone(),
    };
    (admin, name, url, guard)
}

/// Sets whether the database takes connections.
async fn allow_connections(admin: &sqlx::PgPool, name: &str, allow: bool) {
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}"
        )))
        .await
        .expect("alter database");
}

/// Closes the database to new connections and ends the open ones.
async fn take_down(admin: &sqlx::PgPool, name: &str) {
    allow_connections(admin, name, false).await;
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(name)
        .execute(admin)
        .await
        .expect("terminate connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_database_goes_away_nothing_unstored_is_broadcast_and_it_recovers() {
    let (admin, name, url, _drop) = scratch_database().await;
    let server = spawn_server_with(|c| c.database_url = Some(url.clone())).await;
    let conv = server
        .direct_conversation("alice", "bob")
        .await
        .conversation;
    let uuid = conv.uuid.to_string();
    let alice = joined_dozaar_client(&server, "alice", &uuid).await;
    let mut bob = joined_dozaar_client(&server, "bob", &uuid).await;
    let ok = alice
        .emit_ack(
            "send:message",
            json!({ "conversationId": uuid, "message": "stored" }),
        )
        .await;
    assert!(ok.get("error").is_none(), "{ok}");
    bob.expect("new:message").await;

    take_down(&admin, &name).await;
    let refused = alice
        .emit_ack_within(
            "send:message",
            json!({ "conversationId": uuid, "message": "lost?" }),
            Duration::from_secs(15),
        )
        .await;
    assert_eq!(refused["code"], "UNAVAILABLE", "{refused}");
    bob.expect_none("new:message", Duration::from_millis(500))
        .await;
    let ready = reqwest::get(format!("{}/readyz", server.url))
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);

    allow_connections(&admin, &name, true).await;
    let again = alice
        .emit_ack_within(
            "send:message",
            json!({ "conversationId": uuid, "message": "back" }),
            Duration::from_secs(15),
        )
        .await;
    assert!(again.get("error").is_none(), "{again}");
    let m = bob.expect("new:message").await;
    assert_eq!(m["message"], "back");
    assert_eq!(server.message_count("alice", conv.id).await, 2);

    drop(server);
}

#[tokio::test]
async fn a_message_stored_before_attachment_metadata_reads_as_before() {
    use confab::core::{Attachment, MessageRef};
    let (_admin, _name, url, _guard) = scratch_database().await;
    // The database as the first migration left it, with a message in it.
    let first = tempfile::tempdir().expect("tempdir");
    let file = "0001_init.sql";
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    std::fs::copy(migrations.join(file), first.path().join(file)).expect("copy 0001");
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    sqlx::migrate::Migrator::new(first.path())
        .await
        .expect("migrator")
        .run(&pool)
        .await
        .expect("0001");
    pool.execute(
        "INSERT INTO users (id, created_at) VALUES ('alice', 1); \
         INSERT INTO conversations (uuid, kind, created_by, created_at, updated_at) \
           VALUES ('01900000-0000-7000-8000-000000000001', 'group', 'alice', 1, 1); \
         INSERT INTO messages (uuid, conversation_id, seq, sender_id, kind, attachments, created_at) \
           VALUES ('01900000-0000-7000-8000-000000000002', 1, 1, 'alice', 'image', \
           ARRAY['/uploads/a.webp', 'https://x.example/b.png'], 2);",
    )
    .await
    .expect("a message of then");
    pool.close().await;

    let store = confab::store::open(&url)
        .await
        .expect("open migrates the rest");
    let m = store
        .message(MessageRef::Id(1))
        .await
        .expect("read")
        .expect("the message");
    assert_eq!(
        m.attachments,
        vec![
            Attachment::new("/uploads/a.webp"),
            Attachment::new("https://x.example/b.png"),
        ]
    );
}
