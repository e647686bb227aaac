//! The admin API behind the operator console (`/admin`): the node's
//! overview and the users, for operators only ([`Operator`]: a user of
//! `admin.users`, or the app backend's `admin.token`). What each route
//! does is in [`crate::admin::console`].

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Operator;
use super::error::{ApiError, ErrorBody, Path, Query};
use crate::admin::console::{self, ConsoleUser, Overview, UsersPage};
use crate::core::CoreError;
use crate::state::AppState;

/// The node's overview: connections by dialect, messages (with their rate
/// over the last 10 s), deliveries, refusals by code, and the cluster's
/// nodes; the figures of `/metrics`.
#[utoipa::path(
    get,
    path = "/api/admin/overview",
    operation_id = "admin_overview",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Overview),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not an operator (`admin.users`)", body = ErrorBody),
    )
)]
pub async fn overview(State(state): State<AppState>, _: Operator) -> axum::Json<Overview> {
    axum::Json(console::overview(&state).await)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// A prefix of the id, username or display name (any case); empty or
    /// absent: every user.
    #[serde(default)]
    pub query: Option<String>,
    /// Users in the page: 1 to 200, 50 if absent.
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    #[serde(default)]
    pub after: Option<String>,
}

/// A page of users, by id.
#[utoipa::path(
    get,
    path = "/api/admin/users",
    operation_id = "admin_users",
    tag = "admin",
    security(("bearer" = [])),
    params(UsersQuery),
    responses(
        (status = 200, description = "OK", body = UsersPage),
        (status = 400, description = "Bad limit or `after`", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not an operator (`admin.users`)", body = ErrorBody),
    )
)]
pub async fn users(
    State(state): State<AppState>,
    _: Operator,
    Query(q): Query<UsersQuery>,
) -> Result<axum::Json<UsersPage>, ApiError> {
    let page = console::users(&state, q.query.as_deref(), q.after.as_deref(), q.limit)
        .await
        .map_err(CoreError::from)?;
    Ok(axum::Json(page))
}

/// Disable a user: their tokens are refused, their open sockets closed
/// within 2 s, their password login answered 403.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/disable",
    operation_id = "admin_disable_user",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user after the change", body = ConsoleUser),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not an operator (`admin.users`)", body = ErrorBody),
        (status = 404, description = "No such user (or deleted)", body = ErrorBody),
    )
)]
pub async fn disable_user(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<String>,
) -> Result<axum::Json<ConsoleUser>, ApiError> {
    let user = console::set_disabled(&state, &id, true)
        .await
        .map_err(CoreError::from)?;
    tracing::info!(operator = operator.name(), user = %id, "disabled a user");
    Ok(axum::Json(user))
}

/// Enable a disabled user again.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/enable",
    operation_id = "admin_enable_user",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user after the change", body = ConsoleUser),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not an operator (`admin.users`)", body = ErrorBody),
        (status = 404, description = "No such user (or deleted)", body = ErrorBody),
    )
)]
pub async fn enable_user(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<String>,
) -> Result<axum::Json<ConsoleUser>, ApiError> {
    let user = console::set_disabled(&state, &id, false)
        .await
        .map_err(CoreError::from)?;
    tracing::info!(operator = operator.name(), user = %id, "enabled a user");
    Ok(axum::Json(user))
}

/// Refuse every token of a user issued until now (from the next whole
/// second); their open sockets are closed within 2 s.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/revoke-tokens",
    operation_id = "admin_revoke_tokens",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user after the change", body = ConsoleUser),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not an operator (`admin.users`)", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn revoke_tokens(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<String>,
) -> Result<axum::Json<ConsoleUser>, ApiError> {
    let user = console::revoke_tokens(&state, &id)
        .await
        .map_err(CoreError::from)?;
    tracing::info!(operator = operator.name(), user = %id, "revoked a user's tokens");
    Ok(axum::Json(user))
}
