//! Running a statement of the SQLite store: the cached statement, its
//! rows through a mapper of [`Row`]s, and SQLite's side of [`Row`].

use rusqlite::{Connection, Params};

use super::error::DbResult;
use crate::core::UserId;
use crate::core::error::StoreError;
use crate::store::StoreResult;
use crate::store::rows::Row;

/// Every row of a (cached) statement, each through `map`.
pub(super) fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    mut map: impl FnMut(&dyn Row) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// The first row of a (cached) statement, if any, through `map`.
pub(super) fn optional<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&dyn Row) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    match rows.next().db()? {
        Some(row) => map(row).map(Some),
        None => Ok(None),
    }
}

/// The first row of a (cached) statement, which must return one.
pub(super) fn one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&dyn Row) -> StoreResult<T>,
) -> StoreResult<T> {
    optional(conn, sql, params, map)?
        .ok_or_else(|| StoreError::Backend("the query returned no row".into()))
}

/// Runs a (cached) statement that returns no rows: the rows it changed.
pub(super) fn execute(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<usize> {
    conn.prepare_cached(sql).db()?.execute(params).db()
}

impl Row for rusqlite::Row<'_> {
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.get(col).db()
    }

    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.get(col).db()
    }

    fn opt_str(&self, col: &str) -> StoreResult<Option<&str>> {
        self.get_ref(col)
            .db()?
            .as_str_or_null()
            .map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
    }

    /// An integer, 0 for false.
    fn flag(&self, col: &str) -> StoreResult<bool> {
        Ok(self.int(col)? != 0)
    }

    /// A JSON array.
    fn strings(&self, col: &str) -> StoreResult<Vec<String>> {
        let json = self.str(col)?;
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{col} {json:?}: {e}")))
    }
}

/// A JSON array of the ids, for `json_each(?)`.
pub(super) fn ids_json<'a>(ids: impl IntoIterator<Item = &'a UserId>) -> StoreResult<String> {
    let ids: Vec<&str> = ids.into_iter().map(UserId::as_str).collect();
    serde_json::to_string(&ids).map_err(|e| StoreError::Backend(format!("encoding ids: {e}")))
}
