//! Push devices: registering and removing the caller's push tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::core::{CoreError, DevicePlatform};
use crate::http::auth::CurrentUser;
use crate::http::error::{ApiError, ErrorBody, Json, Path};
use crate::state::AppState;

/// The device routes, merged into the `/api` router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_device))
        .routes(routes!(remove_device))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = DevicePlatform)]
pub enum DevicePlatformDto {
    Android,
    Ios,
    Web,
}

impl From<DevicePlatformDto> for DevicePlatform {
    fn from(p: DevicePlatformDto) -> Self {
        match p {
            DevicePlatformDto::Android => DevicePlatform::Android,
            DevicePlatformDto::Ios => DevicePlatform::Ios,
            DevicePlatformDto::Web => DevicePlatform::Web,
        }
    }
}

impl From<DevicePlatform> for DevicePlatformDto {
    fn from(p: DevicePlatform) -> Self {
        match p {
            DevicePlatform::Android => DevicePlatformDto::Android,
            DevicePlatform::Ios => DevicePlatformDto::Ios,
            DevicePlatform::Web => DevicePlatformDto::Web,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterDevice {
    /// The push token (FCM registration token, or the web push endpoint's
    /// token): 1 to 4096 visible ASCII characters.
    pub token: String,
    pub platform: DevicePlatformDto,
}

/// A registered push device.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Device)]
pub struct DeviceDto {
    pub token: String,
    pub platform: DevicePlatformDto,
    pub created_at: i64,
}

/// Register a push token of one of the caller's devices (a token registered
/// before, by anyone, now belongs to the caller).
#[utoipa::path(
    post,
    path = "/api/devices",
    tag = "devices",
    request_body = RegisterDevice,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = DeviceDto),
        (status = 400, description = "Invalid payload", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn register_device(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(body): Json<RegisterDevice>,
) -> Result<impl IntoResponse, ApiError> {
    let d = state
        .service
        .register_device(&actor, &body.token, body.platform.into(), None)
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

/// Unregister one of the caller's push tokens.
#[utoipa::path(
    delete,
    path = "/api/devices/{token}",
    tag = "devices",
    params(("token" = String, Path, description = "The push token, percent-encoded")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed token", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "The caller has no such device", body = ErrorBody),
    )
)]
pub async fn remove_device(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(token): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.service.remove_device(&actor, &token).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(CoreError::NotFound("device").into())
    }
}
