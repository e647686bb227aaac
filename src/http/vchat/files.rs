//! The files the V Chat SDK shows, where it asks for them: an attachment at
//! `/api/v1/public/messages/<imageUrl or playUrl>`, a picture at
//! `/api/v1/public/profile/<thumbImage, senderImageThumb or imageThumb>`.
//! Both serve confab's uploads by key (the same files as `/uploads/<key>`);
//! the profile path also serves the two default pictures, embedded in the
//! binary.

use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dialects::vchat::{DEFAULT_GROUP_IMAGE, DEFAULT_USER_IMAGE};
use crate::http::documented::catch_all;
use crate::http::error::ErrorBody;
use crate::http::uploads::{self, FileBytes};
use crate::state::AppState;

/// The picture of a user without one.
const USER_PNG: &[u8] = include_bytes!("../../../assets/vchat/default_user_image.png");
/// The picture of a group.
const GROUP_PNG: &[u8] = include_bytes!("../../../assets/vchat/default_group_image.png");

/// The two file routes.
pub fn routes() -> OpenApiRouter<AppState> {
    let router = catch_all(OpenApiRouter::new(), routes!(message_file));
    catch_all(router, routes!(profile_file))
}

/// `GET /api/v1/public/messages/{key}`: an upload.
#[utoipa::path(get, path = "/api/v1/public/messages/{key}", tag = "vchat",
    params(("key" = String, Path, description = "An upload's key (`imageUrl`, `playUrl`); it holds slashes")),
    responses(
        (status = 200, description = "The file, as `GET /uploads/{key}` serves it", body = FileBytes, content_type = "application/octet-stream"),
        (status = 404, description = "No such file", body = ErrorBody)))]
async fn message_file(
    State(state): State<AppState>,
    key: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    uploads::serve(Extension(state.media.clone()), key, headers).await
}

/// `GET /api/v1/public/profile/{key}`: a default picture, or an upload.
#[utoipa::path(get, path = "/api/v1/public/profile/{key}", tag = "vchat",
    params(("key" = String, Path, description = "A picture's key (`thumbImage`, `senderImageThumb`, `imageThumb`): one of the two default pictures or an upload's key, which holds slashes")),
    responses(
        (status = 200, description = "The picture", body = FileBytes, content_type = "image/png"),
        (status = 404, description = "No such file", body = ErrorBody)))]
async fn profile_file(
    State(state): State<AppState>,
    key: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let png = match &key {
        Ok(Path(k)) if k == DEFAULT_USER_IMAGE => Some(USER_PNG),
        Ok(Path(k)) if k == DEFAULT_GROUP_IMAGE => Some(GROUP_PNG),
        _ => None,
    };
    match png {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            bytes,
        )
            .into_response(),
        None => uploads::serve(Extension(state.media.clone()), key, headers).await,
    }
}
