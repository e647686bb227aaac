//! Conversations and their members: create (or get a direct conversation),
//! list, read one, add and remove members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{row_ref, user_id};
use crate::http::auth::CurrentUser;
use crate::http::dto::{ConversationDto, Kind};
use crate::http::error::{ApiError, ErrorBody, Json, Path};
use crate::state::AppState;

/// The conversation routes, merged into the `/api` router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations, create_conversation))
        .routes(routes!(get_conversation))
        .routes(routes!(add_member))
        .routes(routes!(remove_member))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateConversation {
    pub kind: Kind,
    /// The other members (the caller is added anyway). A direct conversation
    /// needs exactly one other user. Users never seen before are created as
    /// placeholders, filled in from their first token.
    pub member_ids: Vec<String>,
    /// Groups only; at most 200 characters.
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMember {
    pub user_id: String,
}

/// Create a group, or get (creating on first use) a direct conversation.
#[utoipa::path(
    post,
    path = "/api/conversations",
    tag = "conversations",
    request_body = CreateConversation,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ConversationDto),
        (status = 200, description = "The existing direct conversation of the two users", body = ConversationDto),
        (status = 400, description = "Invalid payload", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn create_conversation(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(body): Json<CreateConversation>,
) -> Result<impl IntoResponse, ApiError> {
    let members = body
        .member_ids
        .iter()
        .map(|m| user_id(m))
        .collect::<Result<Vec<_>, _>>()?;
    let created = state
        .service
        .create_conversation(&actor, body.kind.into(), members, body.title)
        .await?;
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(ConversationDto::from(&created.summary))))
}

/// The caller's conversations, most recently active first.
#[utoipa::path(
    get,
    path = "/api/conversations",
    tag = "conversations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = [ConversationDto]),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn list_conversations(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<Vec<ConversationDto>>, ApiError> {
    let list = state.service.conversations(&actor).await?;
    Ok(axum::Json(list.iter().map(ConversationDto::from).collect()))
}

/// One conversation of the caller.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}",
    tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (number) or uuid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = ConversationDto),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such conversation, or the caller is not a member", body = ErrorBody),
    )
)]
pub async fn get_conversation(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<ConversationDto>, ApiError> {
    let summary = state.service.conversation(&actor, row_ref(&id)?).await?;
    Ok(axum::Json(ConversationDto::from(&summary)))
}

/// Add a member to a group (owners and admins only).
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/members",
    tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (number) or uuid")),
    request_body = AddMember,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The conversation after the change (unchanged if already a member)", body = ConversationDto),
        (status = 400, description = "Invalid payload", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not allowed (direct conversation, or not an admin)", body = ErrorBody),
        (status = 404, description = "No such conversation, or the caller is not a member", body = ErrorBody),
    )
)]
pub async fn add_member(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<AddMember>,
) -> Result<axum::Json<ConversationDto>, ApiError> {
    let r = row_ref(&id)?;
    let user = user_id(&body.user_id)?;
    let summary = state.service.add_member(&actor, r, &user).await?;
    Ok(axum::Json(ConversationDto::from(&summary)))
}

/// Remove a member, or leave (a member removing themself).
#[utoipa::path(
    delete,
    path = "/api/conversations/{id}/members/{userId}",
    tag = "conversations",
    params(
        ("id" = String, Path, description = "Conversation id (number) or uuid"),
        ("userId" = String, Path, description = "The member to remove"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such conversation or member", body = ErrorBody),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, member)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let r = row_ref(&id)?;
    let user = user_id(&member)?;
    state.service.remove_member(&actor, r, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
