//! The PostgreSQL server of the tests: where it is, and SQL run from a
//! `Drop` (the clean-up of a database or schema a test made).

/// The PostgreSQL server of the tests, unless `CONFAB_TEST_DATABASE_URL`
/// names another one. CI starts it; the tests that need it fail without it.
const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn test_database_url() -> String {
    std::env::var("CONFAB_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.into())
}

/// Runs `sql` on a connection of its own to `url`, from a thread with a
/// runtime of its own (the test's may be shutting down), and waits for it.
/// Failures are ignored: this is for clean-up in `Drop`.
pub fn execute_detached(url: &str, sql: String) {
    use sqlx::{Connection, Executor};
    let url = url.to_owned();
    let done = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let mut admin = sqlx::PgConnection::connect(&url).await.ok()?;
            admin.execute(sqlx::AssertSqlSafe(sql)).await.ok()?;
            admin.close().await.ok()
        })
    });
    let _ = done.join();
}
