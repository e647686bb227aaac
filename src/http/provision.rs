//! The provisioning API of the app's backend (`/api/admin/...`, behind the
//! service credential `admin.token` or an operator's token): users,
//! conversations under the ids the app's clients already hold (a number, a
//! UUID, or any other id such as a Mongo ObjectId), their members and
//! roles, push devices, and the history import. Every call is a "make it
//! so": repeating it changes nothing more.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use tokio_util::io::StreamReader;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::api::devices::{DeviceDto, DevicePlatformDto};
use super::api::{row_ref, user_id};
use super::auth::Operator;
use super::dto::{Kind, MemberDto};
use super::error::{ApiError, ErrorBody, Json, Path};
use crate::core::import::ImportMember;
use crate::core::{Conversation, CoreError, Profile, Role, now_millis};
use crate::import::{self, Summary};
use crate::state::AppState;

/// The provisioning and import routes, merged into the `/api` router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_user))
        .routes(routes!(put_conversation))
        .routes(routes!(put_member, delete_member))
        .routes(routes!(post_device))
        .routes(routes!(post_import))
}

/// A user as the app's backend provisions it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutUser {
    /// Display name, at most 200 characters; left as it is when absent.
    pub name: Option<String>,
    /// Avatar URL (http(s) or a path on this server).
    pub avatar: Option<String>,
    pub email: Option<String>,
    /// Disabled users may not log in nor use a token.
    pub disabled: Option<bool>,
}

/// A provisioned user.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedUser {
    pub id: String,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub email: Option<String>,
    pub disabled: bool,
}

/// Create a user, or update its profile (idempotent).
#[utoipa::path(
    put,
    path = "/api/admin/users/{id}",
    tag = "admin",
    params(("id" = String, Path, description = "The app's user id: 1 to 128 of [A-Za-z0-9._:@-]")),
    request_body = PutUser,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user as stored", body = ProvisionedUser),
        (status = 400, description = "Invalid id or payload; nothing stored", body = ErrorBody),
        (status = 401, description = "No valid service credential or token", body = ErrorBody),
        (status = 403, description = "The token is not an operator's", body = ErrorBody),
    )
)]
pub async fn put_user(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
    Json(body): Json<PutUser>,
) -> Result<axum::Json<ProvisionedUser>, ApiError> {
    let id = user_id(&id)?;
    let profile = Profile {
        display_name: body.name,
        avatar_url: body.avatar,
        email: body.email,
    };
    let u = state
        .service
        .provision_user(&id, &profile, body.disabled)
        .await?;
    Ok(axum::Json(ProvisionedUser {
        id: u.id.to_string(),
        name: u.display_name,
        avatar: u.avatar_url,
        email: u.email,
        disabled: u.disabled,
    }))
}

/// A member named in a provisioning call.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberSpec {
    pub user_id: String,
    /// `owner`, `admin` or `member` (the default).
    pub role: Option<String>,
}

fn role(r: Option<&str>) -> Result<Role, ApiError> {
    match r {
        None => Ok(Role::Member),
        Some(r) => Role::parse(r)
            .ok_or_else(|| CoreError::invalid("role must be owner, admin or member").into()),
    }
}

/// A conversation as the app's backend provisions it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutConversation {
    pub kind: Kind,
    pub title: Option<String>,
    /// Its members (a direct conversation: exactly two). On an existing
    /// conversation the missing ones are added and the listed ones get
    /// their role; members not listed stay.
    pub members: Vec<MemberSpec>,
}

/// A provisioned conversation, with every id a dialect may show.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedConversation {
    /// The numeric id (Syarah's chatHeaderId).
    pub id: i64,
    /// Dozaar's id.
    pub uuid: String,
    /// The external id it was created under (V Chat's and Voxora's id), if
    /// it was neither a number nor a UUID.
    pub external_id: Option<String>,
    pub kind: Kind,
    pub title: Option<String>,
    pub members: Vec<MemberDto>,
    /// Whether this call created it.
    pub created: bool,
}

fn provisioned(
    c: Conversation,
    members: &[crate::core::Member],
    created: bool,
) -> ProvisionedConversation {
    ProvisionedConversation {
        id: c.id,
        uuid: c.uuid.to_string(),
        external_id: c.external_id,
        kind: c.kind.into(),
        title: c.title,
        members: members.iter().map(MemberDto::from).collect(),
        created,
    }
}

/// Create a conversation under the id the app's clients know, or bring an
/// existing one's members, roles and title up to date (idempotent).
#[utoipa::path(
    put,
    path = "/api/admin/conversations/{id}",
    tag = "admin",
    params(("id" = String, Path, description = "A positive integer, a UUID, or another id (1 to 128 of [A-Za-z0-9._:@-], e.g. a Mongo ObjectId)")),
    request_body = PutConversation,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Existed; brought up to date", body = ProvisionedConversation),
        (status = 201, description = "Created", body = ProvisionedConversation),
        (status = 400, description = "Invalid id or payload, or a direct conversation of the pair exists under another id; nothing stored", body = ErrorBody),
        (status = 401, description = "No valid service credential or token", body = ErrorBody),
        (status = 403, description = "The token is not an operator's", body = ErrorBody),
        (status = 409, description = "It exists with another kind", body = ErrorBody),
    )
)]
pub async fn put_conversation(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
    Json(body): Json<PutConversation>,
) -> Result<impl IntoResponse, ApiError> {
    let id = row_ref(&id)?;
    let now = now_millis();
    let mut members = Vec::with_capacity(body.members.len());
    for m in &body.members {
        members.push(ImportMember {
            user_id: user_id(&m.user_id)?,
            role: role(m.role.as_deref())?,
            joined_at: now,
        });
    }
    let (c, created) = state
        .service
        .provision_conversation(id, body.kind.into(), body.title, members)
        .await?;
    let members = state
        .service
        .store()
        .members(c.id)
        .await
        .map_err(CoreError::from)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(provisioned(c, &members, created))))
}

/// A member's role.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutMember {
    /// `owner`, `admin` or `member` (the default).
    pub role: Option<String>,
}

/// Make a user a member of a conversation with a role (idempotent).
#[utoipa::path(
    put,
    path = "/api/admin/conversations/{id}/members/{userId}",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The conversation: its number, UUID or external id"),
        ("userId" = String, Path, description = "The user"),
    ),
    request_body = PutMember,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member", body = MemberDto),
        (status = 400, description = "Invalid id or role, or a third member for a direct conversation", body = ErrorBody),
        (status = 401, description = "No valid service credential or token", body = ErrorBody),
        (status = 403, description = "The token is not an operator's", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
    )
)]
pub async fn put_member(
    State(state): State<AppState>,
    _op: Operator,
    Path((id, user)): Path<(String, String)>,
    Json(body): Json<PutMember>,
) -> Result<axum::Json<MemberDto>, ApiError> {
    let (id, user) = (row_ref(&id)?, user_id(&user)?);
    let m = state
        .service
        .provision_member(id, &user, role(body.role.as_deref())?)
        .await?;
    Ok(axum::Json(MemberDto::from(&m)))
}

/// Remove a member from a group conversation.
#[utoipa::path(
    delete,
    path = "/api/admin/conversations/{id}/members/{userId}",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The conversation: its number, UUID or external id"),
        ("userId" = String, Path, description = "The user"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed, or was not a member"),
        (status = 400, description = "Invalid id, or a direct conversation", body = ErrorBody),
        (status = 401, description = "No valid service credential or token", body = ErrorBody),
        (status = 403, description = "The token is not an operator's", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
    )
)]
pub async fn delete_member(
    State(state): State<AppState>,
    _op: Operator,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (id, user) = (row_ref(&id)?, user_id(&user)?);
    state.service.unprovision_member(id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A push device of a user.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostDevice {
    /// 1 to 4096 visible ASCII characters; a token belongs to one user.
    pub token: String,
    pub platform: DevicePlatformDto,
}

/// Register a push token for a user (idempotent; a token registered for
/// someone else moves to this user).
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/devices",
    tag = "admin",
    params(("id" = String, Path, description = "The user")),
    request_body = PostDevice,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = DeviceDto),
        (status = 400, description = "Invalid id or token", body = ErrorBody),
        (status = 401, description = "No valid service credential or token", body = ErrorBody),
        (status = 403, description = "The token is not an operator's", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn post_device(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
    Json(body): Json<PostDevice>,
) -> Result<impl IntoResponse, ApiError> {
    let id = user_id(&id)?;
    let d = state
        .service
        .provision_device(&id, &body.token, body.platform.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(DeviceDto {
            token: d.token,
            platform: d.platform.into(),
            created_at: d.created_at,
        }),
    ))
}

/// Import history: an NDJSON stream of records (docs/import.md), read as
/// it arrives and written in batches. Idempotent by the source's ids: send
/// it again after an interruption to resume. Answers the summary; refused
/// records are listed with their line numbers and do not stop the rest.
#[utoipa::path(
    post,
    path = "/api/admin/import",
    tag = "admin",
    request_body(content = String, content_type = "application/x-ndjson", description = "One record per line"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The summary", body = Summary),
        (status = 400, description = "Not application/x-ndjson, or the body broke off", body = ErrorBody),
        (status = 401, description = "No valid service credential or token", body = ErrorBody),
        (status = 403, description = "The token is not an operator's", body = ErrorBody),
    )
)]
pub async fn post_import(
    State(state): State<AppState>,
    _op: Operator,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<Summary>, ApiError> {
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.split(';').next().unwrap_or("").trim();
            v.eq_ignore_ascii_case("application/x-ndjson")
                || v.eq_ignore_ascii_case("application/jsonl")
        });
    if !ndjson {
        return Err(CoreError::invalid("the body must be application/x-ndjson").into());
    }
    use futures::TryStreamExt;
    let stream = body
        .into_data_stream()
        .map_err(|e| std::io::Error::other(e.to_string()));
    let reader = tokio::io::BufReader::with_capacity(1 << 20, StreamReader::new(stream));
    let store = state.service.store().clone();
    let summary = import::run(&store, reader, |_| {})
        .await
        .map_err(|e| match e {
            import::ImportError::Read(e) => CoreError::invalid(format!("reading the body: {e}")),
            import::ImportError::Store(e) => CoreError::from(e),
        })?;
    Ok(axum::Json(summary))
}
