//! Messages: history pages, sending, editing, deleting and marking read.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::row_ref;
use crate::core::command::SendMessage;
use crate::core::{DeliveryStatus, MessageKind, RowRef};
use crate::http::auth::CurrentUser;
use crate::http::dto::{MessageDto, MessageKindDto};
use crate::http::error::{ApiError, ErrorBody, Json, Path, Query};
use crate::state::AppState;

/// The message routes, merged into the `/api` router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(history, send_message))
        .routes(routes!(edit_message, delete_message))
        .routes(routes!(mark_read))
}

/// A page of history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<MessageDto>,
    /// True when the page is full (`limit` messages), so more may exist in
    /// the direction asked for: older ones without `after`, newer ones with
    /// `after`. A full page at the very end gives one more, empty, request.
    pub has_more: bool,
}

/// The caller's read watermark after marking a message read.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadReceipt {
    pub conversation_id: i64,
    #[schema(value_type = String, format = "uuid")]
    pub conversation_uuid: Uuid,
    /// Everything up to and including this sequence number is read (it never
    /// moves back).
    pub read_up_to_seq: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostMessage {
    /// At most 10,000 characters (configurable); text or attachments required.
    #[serde(default)]
    pub text: Option<String>,
    /// http(s) URLs or server paths, at most 10 (configurable).
    #[serde(default)]
    pub attachment_urls: Option<Vec<String>>,
    /// Makes the send idempotent: a retry with the same client id returns the
    /// first message (with 200 instead of 201) instead of storing a second.
    #[serde(default)]
    pub client_id: Option<String>,
    /// What the message carries. Omitted: text without attachments; else the
    /// kind of the uploaded file, or `file`. Any kind but `text` needs
    /// exactly one attachment.
    #[serde(default)]
    pub kind: Option<MessageKindDto>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditMessage {
    pub text: String,
}

/// History cursors; at most one of `before`/`after` is usually given.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only messages older than this message (id or uuid).
    pub before: Option<String>,
    /// Only messages newer than this message (id or uuid); the page then
    /// starts right after it.
    pub after: Option<String>,
    /// Page size: 1 to the server's maximum (100 by default); default 50.
    pub limit: Option<u32>,
}

/// A history cursor: none when left out or blank.
fn cursor(s: Option<&str>) -> Result<Option<RowRef>, ApiError> {
    s.filter(|s| !s.trim().is_empty()).map(row_ref).transpose()
}

/// A page of a conversation's history, oldest first.
///
/// Without cursors: the newest `limit` messages. With `before`: the `limit`
/// messages right before it. With `after`: the `limit` messages right after
/// it. `hasMore` is true when the page is full.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}/messages",
    tag = "messages",
    params(
        ("id" = String, Path, description = "Conversation id (number) or uuid"),
        HistoryQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = MessagePage),
        (status = 400, description = "Bad cursor or limit", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such conversation, or the caller is not a member", body = ErrorBody),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<axum::Json<MessagePage>, ApiError> {
    let r = row_ref(&id)?;
    let before = cursor(q.before.as_deref())?;
    let after = cursor(q.after.as_deref())?;
    let limit = q.limit.unwrap_or(50);
    let (messages, members) = state
        .service
        .history(&actor, r, before, after, Some(limit))
        .await?;
    let has_more = messages.len() >= limit as usize;
    let messages = messages
        .iter()
        .map(|m| MessageDto {
            status: Some(DeliveryStatus::of(m, &members).into()),
            ..MessageDto::from(m)
        })
        .collect();
    Ok(axum::Json(MessagePage { messages, has_more }))
}

/// Send a message.
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/messages",
    tag = "messages",
    params(("id" = String, Path, description = "Conversation id (number) or uuid")),
    request_body = PostMessage,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = MessageDto),
        (status = 200, description = "A retry: the message first stored with this clientId", body = MessageDto),
        (status = 400, description = "Invalid payload (empty, text too long, bad attachment URL, ...)", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such conversation, or the caller is not a member", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
    )
)]
pub async fn send_message(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<PostMessage>,
) -> Result<impl IntoResponse, ApiError> {
    let r = row_ref(&id)?;
    let (message, created) = state
        .service
        .send(
            &actor,
            r,
            SendMessage {
                text: body.text,
                attachments: body
                    .attachment_urls
                    .unwrap_or_default()
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                client_id: body.client_id,
                kind: body.kind.map(MessageKind::from),
                declared_kind: None,
            },
        )
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(MessageDto::from(&message))))
}

/// Edit the text of one of the caller's messages.
#[utoipa::path(
    patch,
    path = "/api/messages/{id}",
    tag = "messages",
    params(("id" = String, Path, description = "Message id (number) or uuid")),
    request_body = EditMessage,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = MessageDto),
        (status = 400, description = "Invalid payload", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not the author", body = ErrorBody),
        (status = 404, description = "No such message, or the caller is not a member", body = ErrorBody),
        (status = 409, description = "The message is deleted", body = ErrorBody),
    )
)]
pub async fn edit_message(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<EditMessage>,
) -> Result<axum::Json<MessageDto>, ApiError> {
    let r = row_ref(&id)?;
    let message = state.service.edit(&actor, r, &body.text).await?;
    Ok(axum::Json(MessageDto::from(&message)))
}

/// Delete a message (the author, or a group admin). The row stays, with its
/// text and attachments erased and `deletedAt` set.
#[utoipa::path(
    delete,
    path = "/api/messages/{id}",
    tag = "messages",
    params(("id" = String, Path, description = "Message id (number) or uuid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The deleted message", body = MessageDto),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such message, or the caller is not a member", body = ErrorBody),
    )
)]
pub async fn delete_message(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<MessageDto>, ApiError> {
    let r = row_ref(&id)?;
    let message = state.service.delete(&actor, r).await?;
    Ok(axum::Json(MessageDto::from(&message)))
}

/// Mark everything up to and including this message read.
#[utoipa::path(
    post,
    path = "/api/messages/{id}/read",
    tag = "messages",
    params(("id" = String, Path, description = "Message id (number) or uuid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = ReadReceipt),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such message, or the caller is not a member", body = ErrorBody),
    )
)]
pub async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<ReadReceipt>, ApiError> {
    let r = row_ref(&id)?;
    let (message, up_to) = state.service.mark_read(&actor, r).await?;
    Ok(axum::Json(ReadReceipt {
        conversation_id: message.conversation_id,
        conversation_uuid: message.conversation_uuid,
        read_up_to_seq: up_to,
    }))
}
