//! Running a statement of the PostgreSQL store: a bound query, its rows
//! through a mapper of [`Row`]s, and PostgreSQL's side of [`Row`].

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgExecutor, Postgres, Row as _};

use super::error::DbResult;
use crate::core::UserId;
use crate::store::StoreResult;
use crate::store::rows::Row;

/// A statement with its parameters bound.
pub(super) type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Every row of `query`, each through `map`.
pub(super) async fn all<'c, T>(
    conn: impl PgExecutor<'c>,
    query: Query<'_>,
    mut map: impl FnMut(&dyn Row) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    query
        .fetch_all(conn)
        .await
        .db()?
        .iter()
        .map(|row| map(row))
        .collect()
}

/// The first row of `query`, if any, through `map`.
pub(super) async fn optional<'c, T>(
    conn: impl PgExecutor<'c>,
    query: Query<'_>,
    map: impl FnOnce(&dyn Row) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    match query.fetch_optional(conn).await.db()? {
        Some(row) => map(&row).map(Some),
        None => Ok(None),
    }
}

/// The first row of `query`, which must return one.
pub(super) async fn one<'c, T>(
    conn: impl PgExecutor<'c>,
    query: Query<'_>,
    map: impl FnOnce(&dyn Row) -> StoreResult<T>,
) -> StoreResult<T> {
    let row = query.fetch_one(conn).await.db()?;
    map(&row)
}

/// Runs a statement that returns no rows: the rows it changed.
pub(super) async fn execute<'c>(conn: impl PgExecutor<'c>, query: Query<'_>) -> StoreResult<u64> {
    Ok(query.execute(conn).await.db()?.rows_affected())
}

impl Row for PgRow {
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.try_get(col).db()
    }

    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.try_get(col).db()
    }

    fn opt_str(&self, col: &str) -> StoreResult<Option<&str>> {
        self.try_get(col).db()
    }

    fn flag(&self, col: &str) -> StoreResult<bool> {
        self.try_get(col).db()
    }

    /// A `text[]`.
    fn strings(&self, col: &str) -> StoreResult<Vec<String>> {
        self.try_get(col).db()
    }
}

/// The ids as a `text[]` parameter, for `unnest($n::text[])` and
/// `= ANY($n)`.
pub(super) fn id_array<'a>(ids: impl IntoIterator<Item = &'a UserId>) -> Vec<&'a str> {
    ids.into_iter().map(UserId::as_str).collect()
}
