//! Persistence: the two implementations of the core's [`Store`] port.
//! SQLite is the embedded default; PostgreSQL is the second backend, held to
//! the same behaviour by `tests/it/store_contract/`. What both share (column
//! lists, row mappers, parsers) is in `rows`; what both count for the
//! metrics, in `measure`.

use std::sync::Arc;

use crate::core::error::StoreError;
pub use crate::core::ports::{Credentials, DynStore, Inserted, Store, StoreResult};

mod measure;
pub mod postgres;
mod rows;
pub mod sqlite;
pub mod watch;

/// The `LIKE` pattern of the strings starting with `prefix`, with `\` as
/// the escape character: `%`, `_` and `\` in `prefix` match themselves.
pub(crate) fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn a_prefix_pattern_escapes_the_wildcards() {
        assert_eq!(super::like_prefix("al"), "al%");
        assert_eq!(super::like_prefix("a_b%c\\"), "a\\_b\\%c\\\\%");
        assert_eq!(super::like_prefix(""), "%");
    }
}
