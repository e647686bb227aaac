//! V Chat's REST API under `/api/v1`, in V Chat's `{success, data}`
//! envelope with error texts in the caller's language (`accept-language`:
//! Arabic or English). Two sets of routes share it: the seed's
//! (`/api/v1/auth/…`, `/api/v1/rooms/…`: [`seed`]) and the ones the V Chat
//! Flutter SDK v1 calls (`/api/v1/user/…`, `/api/v1/room/…`,
//! `/api/v1/message…`: [`sdk_users`], [`sdk_rooms`]); the files the SDK
//! shows are under `/api/v1/public/` ([`files`]). The rooms and messages
//! are the same as every dialect's; the shapes are `dialects::vchat`'s.
//!
//! A failure is `{success: false, data, error, code}` with the status of
//! its code: `data` and `error` hold the same text, `data` because the SDK
//! shows `data` of any answer above 300 (`CustomDio.throwIfNoSuccess`).

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::api::row_ref;
use super::auth::CurrentUser;
use super::error::{ApiError, Json};
use super::uploads::{UploadError, body_error};
use crate::core::command::Actor;
use crate::core::views::ConversationView;
use crate::core::{ConversationRef, CoreError, RowRef, User};
use crate::dialects::vchat::{Lang, room_json};
use crate::media::Received;
use crate::state::AppState;

/// Maps a core error into the envelope (`?` on the result).
macro_rules! try_core {
    ($lang:expr, $e:expr) => {
        $e.map_err(|e| VError($lang, ApiError::from(e)))?
    };
}

pub mod answers;
pub mod files;
pub mod sdk_rooms;
pub mod sdk_users;
pub mod seed;

pub use seed::*;

/// Every `/api/v1` route. Those that take a file accept a body of
/// `upload_limit` bytes: the largest upload and a form around it
/// ([`body_limit`](super::uploads::body_limit)).
pub fn routes(upload_limit: usize) -> OpenApiRouter<AppState> {
    let uploads = DefaultBodyLimit::max(upload_limit);
    OpenApiRouter::new()
        .merge(seed::routes(uploads))
        .merge(sdk_users::routes(uploads))
        .merge(sdk_rooms::routes(uploads))
        .merge(files::routes())
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

/// A failure, answered as `{success: false, data, error, code}` in the
/// caller's language with the status of its code.
pub struct VError(Lang, ApiError);

impl IntoResponse for VError {
    fn into_response(self) -> Response {
        let VError(lang, error) = self;
        let (code, status, english) = error.parts();
        let text = lang.text(code, english);
        if status.is_server_error() {
            tracing::error!(error = %error, "V Chat request failed");
        }
        let body = json!({ "success": false, "data": text, "error": text, "code": code.as_str() });
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::Core(CoreError::RateLimited { retry_after_ms }) = &error {
            let secs = retry_after_ms.div_ceil(1000).max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}

type Answer = Result<(StatusCode, axum::Json<Value>), VError>;

/// The envelope of a V Chat success: `{success: true, data}`, `data` as
/// each route describes it (a user, a room, a page of messages…).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VOk {
    /// `true`.
    success: bool,
    /// The answer; its shape is in the route's description.
    data: Value,
}

/// The envelope of a V Chat failure (see [`VError`]).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VFail {
    /// `false`.
    success: bool,
    /// The error text in the caller's language (the SDK shows it).
    data: String,
    /// The same text.
    error: String,
    /// The error code, e.g. `NOT_FOUND`.
    code: String,
}

fn ok(data: Value) -> Answer {
    Ok((
        StatusCode::OK,
        axum::Json(json!({ "success": true, "data": data })),
    ))
}

fn created(data: Value) -> Answer {
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "success": true, "data": data })),
    ))
}

/// The caller, or the envelope's 401.
fn caller(lang: Lang, user: Result<CurrentUser, ApiError>) -> Result<Actor, VError> {
    user.map(|CurrentUser(a)| a).map_err(|e| VError(lang, e))
}

fn body<T>(lang: Lang, body: Result<Json<T>, ApiError>) -> Result<T, VError> {
    body.map(|Json(b)| b).map_err(|e| VError(lang, e))
}

fn room(lang: Lang, id: &str) -> Result<RowRef, VError> {
    row_ref(id).map_err(|e| VError(lang, e))
}

/// A 400 in the envelope.
fn bad_request(lang: Lang, message: impl Into<String>) -> VError {
    VError(lang, ApiError::bad_request(message))
}

async fn room_of(state: &AppState, actor: &Actor, r: ConversationRef) -> Result<Value, CoreError> {
    let view: ConversationView = state.service.conversation_view(actor, r).await?;
    Ok(room_json(&view, actor.id()))
}

/// A raw access token for `user`, from confab's own issuer.
fn access_token(state: &AppState, lang: Lang, user: &User) -> Result<String, VError> {
    state
        .keys
        .issue(
            user.id.as_str(),
            Some(user.name()),
            state.config.auth.token_ttl.as_duration(),
        )
        .map_err(|e| VError(lang, e.into()))
}

/// A body the SDK sends as JSON or as `multipart/form-data`: its fields
/// (a form's as strings), and a form's files named `file`, in order.
struct SdkForm {
    fields: Map<String, Value>,
    files: Vec<FormFile>,
}

/// A file of a form, with the name the client gave it.
struct FormFile {
    received: Received,
    name: Option<String>,
}

/// Largest text field of a form (a JSON list of a group's emails fits).
const MAX_FORM_FIELD: usize = 64 * 1024;

impl SdkForm {
    /// Reads a JSON object, or a form with at most `max_files` files (each
    /// at most the largest upload; the pipeline checks its kind's limit).
    async fn read(
        state: &AppState,
        lang: Lang,
        req: Request,
        max_files: usize,
    ) -> Result<SdkForm, VError> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/")
            });
        if !multipart {
            let bytes = axum::body::to_bytes(req.into_body(), state.config.limits.http_body_bytes)
                .await
                .map_err(|e| bad_request(lang, format!("cannot read the body: {e}")))?;
            let fields = match serde_json::from_slice::<Value>(&bytes) {
                _ if bytes.iter().all(u8::is_ascii_whitespace) => Map::new(),
                Ok(Value::Object(fields)) => fields,
                Ok(_) => return Err(bad_request(lang, "the body must be a JSON object")),
                Err(e) => return Err(bad_request(lang, format!("invalid JSON body: {e}"))),
            };
            return Ok(SdkForm {
                fields,
                files: Vec::new(),
            });
        }
        let upload_error = |e: UploadError| VError(lang, e.into_api());
        let mut form = Multipart::from_request(req, &())
            .await
            .map_err(|e| bad_request(lang, e.body_text()))?;
        let mut out = SdkForm {
            fields: Map::new(),
            files: Vec::new(),
        };
        while let Some(mut field) = form
            .next_field()
            .await
            .map_err(|e| upload_error(body_error(e).into()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let file_name = field
                    .file_name()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned);
                if out.files.len() == max_files {
                    return Err(bad_request(lang, format!("at most {max_files} files")));
                }
                let body = (&mut field).map(|chunk| chunk.map_err(body_error));
                let received = state
                    .media
                    .receive(body, state.media.largest_limit(), None)
                    .await
                    .map_err(|e| upload_error(e.into()))?;
                out.files.push(FormFile {
                    received,
                    name: file_name,
                });
                continue;
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| upload_error(body_error(e).into()))?
            {
                if bytes.len() + chunk.len() > MAX_FORM_FIELD {
                    return Err(bad_request(
                        lang,
                        format!("form field {name:?} is too long (at most {MAX_FORM_FIELD} bytes)"),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            out.fields.insert(name, Value::String(text));
        }
        Ok(out)
    }

    /// The fields as `T`.
    fn parse<T: DeserializeOwned>(&self, lang: Lang) -> Result<T, VError> {
        T::deserialize(Value::Object(self.fields.clone()))
            .map_err(|e| bad_request(lang, format!("invalid body: {e}")))
    }
}
