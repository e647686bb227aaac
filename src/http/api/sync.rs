//! The change feed (`GET /api/sync`): one feed per user of everything that
//! changed in the user's conversations after a cursor, for a client that
//! was offline to catch up. It only translates; the feed is the core's
//! ([`crate::core::service::Service::sync`]).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::core::service::{SYNC_LIMIT_DEFAULT, SyncPage, parse_cursor};
use crate::core::{Change, ChangeKind, DeliveryStatus, Message};
use crate::dialects::iso8601;
use crate::http::auth::CurrentUser;
use crate::http::dto::{ConversationDto, MessageDto, RoleDto};
use crate::http::error::{ApiError, ErrorBody, Query};
use crate::state::AppState;

/// The feed's route, merged into the `/api` router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sync))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// The `next` of the previous page (an opaque string). Left out: no
    /// changes, and `next` is where a new client starts.
    pub since: Option<String>,
    /// Changes per page: 1 to 500; default 100.
    pub limit: Option<u32>,
}

/// What a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ChangeType {
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "message.edited")]
    MessageEdited,
    #[serde(rename = "message.deleted")]
    MessageDeleted,
    #[serde(rename = "read")]
    Read,
    #[serde(rename = "delivered")]
    Delivered,
    #[serde(rename = "member.added")]
    MemberAdded,
    #[serde(rename = "member.removed")]
    MemberRemoved,
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    #[serde(rename = "conversation.updated")]
    ConversationUpdated,
}

/// One change. Which fields besides `cursor`, `type`, `conversationId` and
/// `at` it has depends on its type:
///
/// - `message.created`, `message.edited`, `message.deleted`: `message`, as
///   the message is now (a message created and then deleted shows as
///   deleted in both changes);
/// - `read`, `delivered`: `userId` and `seq`, the member's new watermark;
/// - `member.added`: `userId` and `role` (also each member of a new
///   conversation, after its `conversation.created`);
/// - `member.removed`: `userId` (the caller's own removal is the last
///   change of that conversation it sees);
/// - `conversation.created`, `conversation.updated` (its title or a
///   member's role changed): `conversation`, as it is now.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Change)]
pub struct ChangeDto {
    /// This change's place in the feed (an opaque string).
    pub cursor: String,
    #[serde(rename = "type")]
    pub kind: ChangeType,
    /// The conversation's uuid.
    #[schema(value_type = String, format = "uuid")]
    pub conversation_id: Uuid,
    /// When it happened (RFC 3339, UTC).
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationDto>,
}

/// A page of the caller's change feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncResponse {
    /// Oldest first, in the order they committed.
    pub changes: Vec<ChangeDto>,
    /// The cursor to ask after next time: the last change's, or `since`
    /// when there is none.
    pub next: String,
    /// Whether more changes follow `next` now.
    pub has_more: bool,
}

/// The caller's change feed: what changed in its conversations after a
/// cursor.
///
/// Changes of the conversations the caller was a member of when they were
/// made, in the order they committed: new, edited and deleted messages,
/// read and delivery watermarks, members added and removed, conversations
/// created and updated. Page with `since` = the previous `next` while
/// `hasMore`; a cursor stays valid across restarts and on every node. The
/// feed starts when the server's database got it: older changes are not in
/// it, and a cursor from before then (such as `0`) gives what there is.
#[utoipa::path(
    get,
    path = "/api/sync",
    tag = "sync",
    params(SyncQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = SyncResponse),
        (status = 400, description = "Malformed cursor, or limit not within 1 to 500", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn sync(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(q): Query<SyncQuery>,
) -> Result<axum::Json<SyncResponse>, ApiError> {
    let since = q.since.as_deref().map(parse_cursor).transpose()?;
    let limit = q.limit.unwrap_or(SYNC_LIMIT_DEFAULT);
    let page = state.service.sync(&actor, since, limit).await?;
    Ok(axum::Json(response(&page)))
}

fn response(page: &SyncPage) -> SyncResponse {
    SyncResponse {
        changes: page.changes.iter().map(|c| change(page, c)).collect(),
        next: page.next.to_string(),
        has_more: page.has_more,
    }
}

fn change(page: &SyncPage, c: &Change) -> ChangeDto {
    let mut dto = ChangeDto {
        cursor: c.cursor.to_string(),
        kind: ChangeType::Read,
        conversation_id: c.conversation_uuid,
        at: iso8601(c.at),
        message: None,
        user_id: None,
        seq: None,
        role: None,
        conversation: None,
    };
    let message = |m: &Message| {
        let members = page
            .conversations
            .get(&c.conversation_id)
            .map_or(&[][..], |s| &s.members[..]);
        MessageDto {
            status: Some(DeliveryStatus::of(m, members).into()),
            ..MessageDto::from(m)
        }
    };
    let conversation = || {
        page.conversations
            .get(&c.conversation_id)
            .map(ConversationDto::from)
    };
    match &c.kind {
        ChangeKind::MessageCreated(m) => {
            dto.kind = ChangeType::MessageCreated;
            dto.message = Some(message(m));
        }
        ChangeKind::MessageEdited(m) => {
            dto.kind = ChangeType::MessageEdited;
            dto.message = Some(message(m));
        }
        ChangeKind::MessageDeleted(m) => {
            dto.kind = ChangeType::MessageDeleted;
            dto.message = Some(message(m));
        }
        ChangeKind::Read { user, seq } => {
            dto.kind = ChangeType::Read;
            dto.user_id = Some(user.to_string());
            dto.seq = Some(*seq);
        }
        ChangeKind::Delivered { user, seq } => {
            dto.kind = ChangeType::Delivered;
            dto.user_id = Some(user.to_string());
            dto.seq = Some(*seq);
        }
        ChangeKind::MemberAdded { user, role } => {
            dto.kind = ChangeType::MemberAdded;
            dto.user_id = Some(user.to_string());
            dto.role = Some((*role).into());
        }
        ChangeKind::MemberRemoved { user } => {
            dto.kind = ChangeType::MemberRemoved;
            dto.user_id = Some(user.to_string());
        }
        ChangeKind::ConversationCreated => {
            dto.kind = ChangeType::ConversationCreated;
            dto.conversation = conversation();
        }
        ChangeKind::ConversationUpdated => {
            dto.kind = ChangeType::ConversationUpdated;
            dto.conversation = conversation();
        }
    }
    dto
}
