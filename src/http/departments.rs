//! REST for the support desk: departments, their agents and the support
//! conversations visitors open in them. Who may do what is decided in the
//! core (`core::service::departments`).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::api::{row_ref, user_id};
use super::auth::CurrentUser;
use super::dto::ConversationDto;
use super::error::{ApiError, ErrorBody, Json, Path};
use crate::core::views::DepartmentView;
use crate::core::{AgentRole, Conversation, ConversationRef, Department};
use crate::state::AppState;

/// The department routes, merged into the `/api` router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_departments, create_department))
        .routes(routes!(get_department))
        .routes(routes!(add_agent))
        .routes(routes!(remove_agent))
        .routes(routes!(list_support, open_support))
        .routes(routes!(claim))
}

// ---------------------------------------------------------------------- DTOs

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AgentRole)]
pub enum AgentRoleDto {
    /// Adds and removes agents.
    Admin,
    Agent,
}

impl From<AgentRole> for AgentRoleDto {
    fn from(r: AgentRole) -> Self {
        match r {
            AgentRole::Admin => AgentRoleDto::Admin,
            AgentRole::Agent => AgentRoleDto::Agent,
        }
    }
}

impl From<AgentRoleDto> for AgentRole {
    fn from(r: AgentRoleDto) -> Self {
        match r {
            AgentRoleDto::Admin => AgentRole::Admin,
            AgentRoleDto::Agent => AgentRole::Agent,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Agent)]
pub struct AgentDto {
    pub user_id: String,
    pub role: AgentRoleDto,
    pub added_at: i64,
}

/// A department; `agents` is present where the caller is one of them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Department)]
pub struct DepartmentDto {
    pub id: i64,
    #[schema(value_type = String, format = "uuid")]
    pub uuid: Uuid,
    pub name: String,
    pub created_by: String,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<Vec<AgentDto>>,
}

impl From<&Department> for DepartmentDto {
    fn from(d: &Department) -> Self {
        DepartmentDto {
            id: d.id,
            uuid: d.uuid,
            name: d.name.clone(),
            created_by: d.created_by.to_string(),
            created_at: d.created_at,
            agents: None,
        }
    }
}

impl From<&DepartmentView> for DepartmentDto {
    fn from(v: &DepartmentView) -> Self {
        DepartmentDto {
            agents: Some(
                v.agents
                    .iter()
                    .map(|a| AgentDto {
                        user_id: a.user_id.to_string(),
                        role: a.role.into(),
                        added_at: a.added_at,
                    })
                    .collect(),
            ),
            ..DepartmentDto::from(&v.department)
        }
    }
}

/// A support conversation as the department's agents list it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SupportConversation)]
pub struct SupportConversationDto {
    pub id: i64,
    #[schema(value_type = String, format = "uuid")]
    pub uuid: Uuid,
    pub department_id: Option<i64>,
    pub title: Option<String>,
    /// The visitor who opened it.
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Sequence number of the newest message (0 when empty).
    pub last_seq: i64,
}

impl From<&Conversation> for SupportConversationDto {
    fn from(c: &Conversation) -> Self {
        SupportConversationDto {
            id: c.id,
            uuid: c.uuid,
            department_id: c.department_id,
            title: c.title.clone(),
            created_by: c.created_by.to_string(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_seq: c.last_seq,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDepartment {
    /// 1 to 100 characters.
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddAgent {
    pub user_id: String,
    /// Default `agent`.
    #[serde(default)]
    pub role: Option<AgentRoleDto>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenSupport {
    #[serde(default)]
    pub title: Option<String>,
    /// The visitor's first message.
    #[serde(default)]
    pub text: Option<String>,
}

// --------------------------------------------------------------- handlers

/// Create a department; the caller becomes its admin agent.
#[utoipa::path(
    post,
    path = "/api/departments",
    tag = "departments",
    request_body = CreateDepartment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = DepartmentDto),
        (status = 400, description = "Invalid payload", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn create_department(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(body): Json<CreateDepartment>,
) -> Result<(StatusCode, axum::Json<DepartmentDto>), ApiError> {
    let view = state.service.create_department(&actor, &body.name).await?;
    Ok((StatusCode::CREATED, axum::Json(DepartmentDto::from(&view))))
}

/// The departments the caller is an agent of.
#[utoipa::path(
    get,
    path = "/api/departments",
    tag = "departments",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Oldest first", body = [DepartmentDto]),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn list_departments(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<Vec<DepartmentDto>>, ApiError> {
    let list = state.service.departments(&actor).await?;
    Ok(axum::Json(list.iter().map(DepartmentDto::from).collect()))
}

/// One department with its agents (agents only).
#[utoipa::path(
    get,
    path = "/api/departments/{id}",
    tag = "departments",
    params(("id" = String, Path, description = "Department id (number) or uuid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The department", body = DepartmentDto),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such department, or the caller is not its agent", body = ErrorBody),
    )
)]
pub async fn get_department(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<DepartmentDto>, ApiError> {
    let view = state.service.department(&actor, row_ref(&id)?).await?;
    Ok(axum::Json(DepartmentDto::from(&view)))
}

/// Add an agent, or change an agent's role (admins only).
#[utoipa::path(
    post,
    path = "/api/departments/{id}/agents",
    tag = "departments",
    params(("id" = String, Path, description = "Department id (number) or uuid")),
    request_body = AddAgent,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The department after the change", body = DepartmentDto),
        (status = 400, description = "Invalid payload", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "The caller is not an admin of the department", body = ErrorBody),
        (status = 404, description = "No such department, or the caller is not its agent", body = ErrorBody),
        (status = 409, description = "The change would leave no admin", body = ErrorBody),
    )
)]
pub async fn add_agent(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<AddAgent>,
) -> Result<axum::Json<DepartmentDto>, ApiError> {
    let r = row_ref(&id)?;
    let user = user_id(&body.user_id)?;
    let role = body.role.map_or(AgentRole::Agent, AgentRole::from);
    let view = state.service.put_agent(&actor, r, &user, role).await?;
    Ok(axum::Json(DepartmentDto::from(&view)))
}

/// Remove an agent (admins), or leave the department (an agent itself).
#[utoipa::path(
    delete,
    path = "/api/departments/{id}/agents/{userId}",
    tag = "departments",
    params(
        ("id" = String, Path, description = "Department id (number) or uuid"),
        ("userId" = String, Path, description = "The agent to remove"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such department or agent", body = ErrorBody),
        (status = 409, description = "The department's last admin", body = ErrorBody),
    )
)]
pub async fn remove_agent(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, agent)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let r = row_ref(&id)?;
    let user = user_id(&agent)?;
    state.service.remove_agent(&actor, r, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open a support conversation in a department, as its visitor.
#[utoipa::path(
    post,
    path = "/api/departments/{id}/conversations",
    tag = "departments",
    params(("id" = String, Path, description = "Department id (number) or uuid")),
    request_body = OpenSupport,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The support conversation, with the first message if `text` was given", body = ConversationDto),
        (status = 400, description = "Invalid payload", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such department", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    )
)]
pub async fn open_support(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<OpenSupport>,
) -> Result<(StatusCode, axum::Json<ConversationDto>), ApiError> {
    let (conversation, _) = state
        .service
        .open_support(&actor, row_ref(&id)?, body.title, body.text)
        .await?;
    let summary = state
        .service
        .conversation(&actor, ConversationRef::Id(conversation.id))
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ConversationDto::from(&summary)),
    ))
}

/// The department's support conversations (agents only).
#[utoipa::path(
    get,
    path = "/api/departments/{id}/conversations",
    tag = "departments",
    params(("id" = String, Path, description = "Department id (number) or uuid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Most recently active first", body = [SupportConversationDto]),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such department, or the caller is not its agent", body = ErrorBody),
    )
)]
pub async fn list_support(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<SupportConversationDto>>, ApiError> {
    let list = state
        .service
        .support_conversations(&actor, row_ref(&id)?)
        .await?;
    Ok(axum::Json(
        list.iter().map(SupportConversationDto::from).collect(),
    ))
}

/// Take a support conversation: the calling agent becomes a member.
#[utoipa::path(
    post,
    path = "/api/departments/{id}/conversations/{conversationId}/claim",
    tag = "departments",
    params(
        ("id" = String, Path, description = "Department id (number) or uuid"),
        ("conversationId" = String, Path, description = "Conversation id (number) or uuid"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The conversation, the caller now a member", body = ConversationDto),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such department or conversation in it, or the caller is not its agent", body = ErrorBody),
    )
)]
pub async fn claim(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, conversation)): Path<(String, String)>,
) -> Result<axum::Json<ConversationDto>, ApiError> {
    let conversation = state
        .service
        .claim(&actor, row_ref(&id)?, row_ref(&conversation)?)
        .await?;
    let summary = state
        .service
        .conversation(&actor, ConversationRef::Id(conversation.id))
        .await?;
    Ok(axum::Json(ConversationDto::from(&summary)))
}
