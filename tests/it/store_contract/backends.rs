//! The stores the contract runs against: SQLite in memory and in a file,
//! and PostgreSQL in a schema of its own per test case.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Fixture;
use crate::helpers::postgres::{execute_detached, test_database_url};

pub async fn sqlite_memory() -> Fixture {
    let store = confab::store::open("sqlite::memory:")
        .await
        .expect("open in-memory SQLite");
    Fixture {
        store,
        _guard: Box::new(()),
    }
}

pub async fn sqlite_file() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("db/confab.db").display());
    let store = confab::store::open(&url).await.expect("open SQLite file");
    Fixture {
        store,
        _guard: Box::new(dir),
    }
}

pub async fn postgres() -> Fixture {
    let schema = PgSchema::create(&test_database_url()).await;
    let store = confab::store::open(&schema.url())
        .await
        .expect("open PostgreSQL store");
    Fixture {
        store,
        _guard: Box::new(schema),
    }
}

/// Schemas of test cases are named `confab_t_<unix seconds>_<random>`.
const TEST_SCHEMA_PREFIX: &str = "confab_t_";

/// Schemas left behind (by a killed run) are dropped once this old.
const STALE_SCHEMA_AGE: Duration = Duration::from_secs(3600);

/// A schema of its own for one test case, dropped with the guard.
struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    /// Creates a fresh schema; panics, naming the server, if PostgreSQL is
    /// unreachable.
    async fn create(url: &str) -> PgSchema {
        use sqlx::{Connection, Executor};
        let mut admin = sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {url} ({e}). The store contract suite needs it: \
                 start PostgreSQL or point CONFAB_TEST_DATABASE_URL at a database."
            )
        });
        drop_stale_schemas(&mut admin).await;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        let random = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("{TEST_SCHEMA_PREFIX}{now}_{}", &random[..12]);
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .await
            .expect("create test schema");
        admin.close().await.ok();
        PgSchema {
            url: url.to_owned(),
            name,
        }
    }

    /// The URL with the schema as the connections' `search_path`.
    fn url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.url, self.name)
    }
}

impl Drop for PgSchema {
    /// Drops the schema; failures are left to `drop_stale_schemas`.
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        execute_detached(&self.url, sql);
    }
}

/// Once per run: drops the test schemas older than `STALE_SCHEMA_AGE`, left
/// behind by runs that were killed before their guards ran.
async fn drop_stale_schemas(admin: &mut sqlx::PgConnection) {
    use sqlx::Executor;
    static ONCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if ONCE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(TEST_SCHEMA_PREFIX)
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    let cutoff = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .saturating_sub(STALE_SCHEMA_AGE)
        .as_secs();
    for name in names {
        let created = name
            .strip_prefix(TEST_SCHEMA_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs < cutoff) {
            let sql = format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                name.replace('"', "\"\"")
            );
            admin.execute(sqlx::AssertSqlSafe(sql)).await.ok();
        }
    }
}
