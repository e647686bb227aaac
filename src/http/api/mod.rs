//! The REST API for conversations, messages, friendships and push devices:
//! camelCase JSON built from the core's model ([`super::dto`]). It only
//! translates; every rule lives in the core service.
//!
//! Conventions:
//! - Timestamps are milliseconds since the Unix epoch.
//! - Conversations and messages carry both `id` (a number) and `uuid`; a path
//!   `{id}` accepts either form.
//! - Optional fields are present with `null` rather than left out.
//! - A conversation or message the caller is not a member of is answered as
//!   not found (404), exactly as one that does not exist.
//!
//! One module per area, each with its payloads, its handlers and its routes.

pub mod conversations;
pub mod devices;
pub mod friendships;
pub mod messages;
pub mod sync;
pub mod users;

use super::error::ApiError;
use crate::core::{RowRef, UserId};

/// A conversation or message named by its id (a number), uuid, or the
/// external id it was imported with.
pub(crate) fn row_ref(s: &str) -> Result<RowRef, ApiError> {
    Ok(RowRef::parse_any(s)?)
}

/// A user named by their id.
pub(crate) fn user_id(s: &str) -> Result<UserId, ApiError> {
    Ok(UserId::parse(s)?)
}
