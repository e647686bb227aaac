//! Finding a user: by login name (to start a conversation with them), or by
//! id (to show a member's name). The answer is the public profile only.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::core::User;
use crate::http::auth::CurrentUser;
use crate::http::error::{ApiError, ErrorBody, Path};
use crate::state::AppState;

/// The user routes, merged into the `/api` router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(find_user))
}

/// What any signed-in user may see of another: no email, no times.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDto {
    pub id: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

impl From<&User> for ProfileDto {
    fn from(u: &User) -> Self {
        ProfileDto {
            id: u.id.to_string(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            avatar_url: u.avatar_url.clone(),
        }
    }
}

/// A user's public profile, found by username (case-insensitively), else
/// by user id. Users known only as placeholders are not found, and a
/// login with `@` is not looked up (an email address cannot be probed).
#[utoipa::path(
    get,
    path = "/api/users/{login}",
    tag = "users",
    security(("bearer" = [])),
    params(("login" = String, Path, description = "A username or a user id")),
    responses(
        (status = 200, description = "OK", body = ProfileDto),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn find_user(
    State(state): State<AppState>,
    CurrentUser(_actor): CurrentUser,
    Path(login): Path<String>,
) -> Result<axum::Json<ProfileDto>, ApiError> {
    let login = login.trim();
    if login.is_empty() || login.len() > 254 || login.contains('@') {
        return Err(crate::core::CoreError::NotFound("user").into());
    }
    let user = state.service.find_user(login).await?;
    Ok(axum::Json(ProfileDto::from(&user)))
}
