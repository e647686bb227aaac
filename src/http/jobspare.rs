//! JobSpare's upload. The seed shows `send_message` with a `content` of
//! `{fileUrl, fileName, fileSize}` but no upload route; this one answers
//! with that very `content`, ready to send:
//!
//! `POST /api/chat/upload` (Bearer token), a `multipart/form-data` form with
//! `file` and an optional `messageType` (`image` or `file`; without it an
//! image is an `image`, anything else a `file`) → 201
//! `{messageType, content: {fileUrl, fileName, fileSize}, url, contentType}`.
//! `fileUrl` is the server path (`/uploads/…`), `url` the same file as an
//! absolute URL, `fileName` the name of the form's file part (the stored
//! file gets a random name; images are re-encoded as WebP), `fileSize` the
//! stored size. Errors are those of `/api/uploads` (`{"error": {"code",
//! "message"}}`; 400, 401, 413, 415). The pipeline is [`super::uploads`].

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::auth::CurrentUser;
use super::error::{ApiError, ErrorBody};
use super::uploads::{UploadError, absolute_url, multipart_form, receive_named_file};
use crate::core::{MessageKind, Upload};
use crate::media::Media;
use crate::state::AppState;

/// `POST /api/chat/upload`, with the body limit of the upload routes
/// ([`body_limit`](super::uploads::body_limit)).
pub fn routes(body_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload).layer(DefaultBodyLimit::max(body_limit)))
}

/// The form of `POST /api/chat/upload`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct JobSpareUploadForm {
    /// The file; its part's file name becomes `fileName`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `image` or `file`; without it, what the file's bytes show.
    #[schema(rename = "messageType", example = "image")]
    message_type: Option<String>,
}

/// What to send as `send_message`'s `messageType` and `content`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobSpareUpload {
    /// `image` or `file`.
    pub message_type: &'static str,
    pub content: JobSpareFile,
    /// The file as an absolute URL on the host the request was sent to.
    pub url: String,
    /// The stored type (`image/webp` for every image).
    pub content_type: String,
}

/// `send_message`'s `content` for an uploaded file.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobSpareFile {
    /// The server path, e.g. `/uploads/chat-messages/images/<id>.webp`.
    pub file_url: String,
    /// The file's name as uploaded.
    pub file_name: String,
    /// Stored size in bytes.
    pub file_size: u64,
}

/// Upload a file for a JobSpare `send_message`.
#[utoipa::path(
    post,
    path = "/api/chat/upload",
    tag = "uploads",
    security(("bearer" = [])),
    request_body(content = inline(JobSpareUploadForm), content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored; send `messageType` and `content` as they are", body = JobSpareUpload),
        (status = 400, description = "No file, a bad messageType, or a file that is not the declared image", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 413, description = "Over the type's size limit", body = ErrorBody),
        (status = 415, description = "Not multipart/form-data, or an unsupported image format", body = ErrorBody),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    match keep(&state, &state.media, user, &headers, form).await {
        Ok((upload, name)) => {
            let message_type = match upload.kind {
                MessageKind::Image => "image",
                _ => "file",
            };
            let stored_name = upload.path.rsplit('/').next().unwrap_or_default();
            let body = JobSpareUpload {
                message_type,
                url: absolute_url(&uri, &headers, &upload.path),
                content_type: upload.content_type,
                content: JobSpareFile {
                    file_name: name.unwrap_or_else(|| stored_name.to_owned()),
                    file_size: u64::try_from(upload.size).unwrap_or_default(),
                    file_url: upload.path,
                },
            };
            (StatusCode::CREATED, axum::Json(body)).into_response()
        }
        Err(e) => e.into_native(),
    }
}

/// Authenticate, receive, store as the declared (or sniffed) kind, record;
/// the upload and the file's name as the client gave it.
async fn keep(
    state: &AppState,
    media: &Media,
    user: Result<CurrentUser, ApiError>,
    headers: &HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(Upload, Option<String>), UploadError> {
    let CurrentUser(actor) = user?;
    let form = multipart_form(headers, form)?;
    let ((received, name), message_type) = receive_named_file(media, form, "messageType").await?;
    let upload = match message_type.as_deref().map(str::trim) {
        None | Some("") => {
            media
                .keep_sniffed(&state.service, actor.id(), received)
                .await?
        }
        Some(t) => {
            let kind = match t {
                "image" => MessageKind::Image,
                "file" => MessageKind::File,
                _ => {
                    return Err(UploadError::Form(
                        "messageType must be image or file".into(),
                    ));
                }
            };
            media
                .keep(&state.service, actor.id(), received, kind)
                .await?
                .1
        }
    };
    Ok((upload, name.as_deref().and_then(file_name)))
}

/// A file part's name as a file name: its last path segment, without
/// control characters, at most 255 characters; `None` if nothing is left.
fn file_name(given: &str) -> Option<String> {
    let last = given.rsplit(['/', '\\']).next().unwrap_or(given);
    let name: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = name.trim();
    (!name.is_empty() && name != "." && name != "..").then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn a_file_name_is_the_last_segment_without_control_characters() {
        assert_eq!(file_name("photo.jpg").as_deref(), Some("photo.jpg"));
        assert_eq!(
            file_name("C:\\Users\\me\\My CV.pdf").as_deref(),
            Some("My CV.pdf")
        );
        assert_eq!(file_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(file_name("a\u{0}b\n.txt").as_deref(), Some("ab.txt"));
        assert_eq!(file_name(" ").as_deref(), None);
        assert_eq!(file_name("dir/").as_deref(), None);
        assert_eq!(file_name(&"x".repeat(300)).map(|n| n.len()), Some(255));
    }
}
