//! Friendships: requests, answers, blocks, and the caller's list.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::user_id;
use crate::core::command::Actor;
use crate::core::{Friendship, FriendshipStatus, UserId};
use crate::http::auth::CurrentUser;
use crate::http::error::{ApiError, ErrorBody, Json, Path};
use crate::state::AppState;

/// The friendship routes, merged into the `/api` router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_friendships, request_friendship))
        .routes(routes!(accept_friendship))
        .routes(routes!(reject_friendship))
        .routes(routes!(block_user, unblock_user))
}

/// Where a friendship stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = FriendshipStatus)]
pub enum FriendshipStatusDto {
    Pending,
    Accepted,
    Rejected,
    Blocked,
}

impl From<FriendshipStatus> for FriendshipStatusDto {
    fn from(s: FriendshipStatus) -> Self {
        match s {
            FriendshipStatus::Pending => FriendshipStatusDto::Pending,
            FriendshipStatus::Accepted => FriendshipStatusDto::Accepted,
            FriendshipStatus::Rejected => FriendshipStatusDto::Rejected,
            FriendshipStatus::Blocked => FriendshipStatusDto::Blocked,
        }
    }
}

/// A friendship as the caller sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Friendship)]
pub struct FriendshipDto {
    /// The other user of the pair.
    pub user_id: String,
    /// 0 pending, 1 accepted, 2 rejected, 3 blocked (Syarah's
    /// `friendshipStatus`).
    #[schema(minimum = 0, maximum = 3)]
    pub status: i64,
    pub status_name: FriendshipStatusDto,
    /// Who sent the request (or, for a block without one, who blocked).
    pub requested_by: String,
    /// Who blocked, when the status is blocked.
    pub blocked_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl FriendshipDto {
    fn of(f: &Friendship, me: &UserId) -> Self {
        FriendshipDto {
            user_id: f.other(me).to_string(),
            status: f.status.as_code(),
            status_name: f.status.into(),
            requested_by: f.requester.to_string(),
            blocked_by: f.blocked_by.as_ref().map(UserId::to_string),
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FriendRequest {
    /// The user to ask.
    pub user_id: String,
}

/// The caller's friendships, whatever their status, most recently changed
/// first.
#[utoipa::path(
    get,
    path = "/api/friendships",
    tag = "friendships",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = [FriendshipDto]),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn list_friendships(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<Vec<FriendshipDto>>, ApiError> {
    let list = state.service.friendships(&actor).await?;
    Ok(axum::Json(
        list.iter()
            .map(|f| FriendshipDto::of(f, actor.id()))
            .collect(),
    ))
}

/// Ask a user to be friends. If they had already asked the caller, the
/// friendship is accepted; asking again, or asking a friend, changes nothing.
#[utoipa::path(
    post,
    path = "/api/friendships",
    tag = "friendships",
    request_body = FriendRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The friendship after the request", body = FriendshipDto),
        (status = 400, description = "Invalid payload (or the caller's own id)", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "The pair is blocked", body = ErrorBody),
    )
)]
pub async fn request_friendship(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(body): Json<FriendRequest>,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    let other = user_id(&body.user_id)?;
    let f = state.service.request_friendship(&actor, &other).await?;
    Ok(axum::Json(FriendshipDto::of(&f, actor.id())))
}

async fn respond(
    state: &AppState,
    actor: &Actor,
    requester: &str,
    accept: bool,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    let requester = user_id(requester)?;
    let f = state
        .service
        .respond_friendship(actor, &requester, accept)
        .await?;
    Ok(axum::Json(FriendshipDto::of(&f, actor.id())))
}

/// Accept the pending friend request `userId` sent the caller.
#[utoipa::path(
    post,
    path = "/api/friendships/{userId}/accept",
    tag = "friendships",
    params(("userId" = String, Path, description = "The user who sent the request")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The accepted friendship", body = FriendshipDto),
        (status = 400, description = "Malformed user id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "The caller sent this request; only its addressee answers", body = ErrorBody),
        (status = 404, description = "No pending request from this user", body = ErrorBody),
        (status = 409, description = "The request was already answered the other way", body = ErrorBody),
    )
)]
pub async fn accept_friendship(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(requester): Path<String>,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    respond(&state, &actor, &requester, true).await
}

/// Reject the pending friend request `userId` sent the caller.
#[utoipa::path(
    post,
    path = "/api/friendships/{userId}/reject",
    tag = "friendships",
    params(("userId" = String, Path, description = "The user who sent the request")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rejected friendship", body = FriendshipDto),
        (status = 400, description = "Malformed user id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "The caller sent this request; only its addressee answers", body = ErrorBody),
        (status = 404, description = "No pending request from this user", body = ErrorBody),
        (status = 409, description = "The request was already answered the other way", body = ErrorBody),
    )
)]
pub async fn reject_friendship(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(requester): Path<String>,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    respond(&state, &actor, &requester, false).await
}

/// Block a user, friend or not: no direct messages either way until the
/// caller unblocks.
#[utoipa::path(
    post,
    path = "/api/friendships/{userId}/block",
    tag = "friendships",
    params(("userId" = String, Path, description = "The user to block")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The blocked friendship", body = FriendshipDto),
        (status = 400, description = "Malformed user id (or the caller's own)", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 409, description = "That user has already blocked the caller", body = ErrorBody),
    )
)]
pub async fn block_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(other): Path<String>,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    let other = user_id(&other)?;
    let f = state.service.block(&actor, &other).await?;
    Ok(axum::Json(FriendshipDto::of(&f, actor.id())))
}

/// Lift a block the caller set; the pair then has no friendship.
#[utoipa::path(
    delete,
    path = "/api/friendships/{userId}/block",
    tag = "friendships",
    params(("userId" = String, Path, description = "The blocked user")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 400, description = "Malformed user id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "The other user set the block", body = ErrorBody),
        (status = 404, description = "The pair is not blocked", body = ErrorBody),
    )
)]
pub async fn unblock_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(other): Path<String>,
) -> Result<StatusCode, ApiError> {
    let other = user_id(&other)?;
    state.service.unblock(&actor, &other).await?;
    Ok(StatusCode::NO_CONTENT)
}
