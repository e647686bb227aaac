//! Syarah's REST calls (`seeds/syarah-api.txt`), answered in its envelope
//! `{success, data, message}`. Uploads (`/api/chat/uploadFile`) are in
//! [`super::uploads`].

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::auth::CurrentUser;
use super::error::ApiError;
use crate::core::{ConversationKind, CoreError, UserId};
use crate::dialects::iso8601;
use crate::state::AppState;

/// `{success: true, data, message: null}`.
pub fn ok(data: Value) -> Response {
    Json(json!({ "success": true, "data": data, "message": null })).into_response()
}

/// `{success: false, data: null, message}` with `status`.
pub fn refused(status: StatusCode, message: &str) -> Response {
    let mut response = (
        status,
        Json(json!({ "success": false, "data": null, "message": message })),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// An API error in the envelope, with the status it maps to.
pub fn failed(error: ApiError) -> Response {
    let (_, status, message) = error.parts();
    refused(status, &message)
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ChatHeaderQuery {
    user1_id: String,
    user2_id: String,
}

/// `{success, data, message}` of `getChatHeaderAsync`: `data` on success,
/// `message` on failure.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ChatHeaderEnvelope {
    success: bool,
    data: Option<ChatHeader>,
    message: Option<String>,
}

/// The direct chat of two users.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ChatHeader {
    id: i64,
    uuid: String,
    user1_id: String,
    user2_id: String,
    /// ISO 8601.
    creation_time: String,
    /// ISO 8601; null before the first message.
    last_message_time: Option<String>,
}

/// `GET /api/chat/getChatHeaderAsync?user1Id=&user2Id=`: the direct chat of
/// the two users, created on first use. The caller must be one of them.
#[utoipa::path(get, path = "/api/chat/getChatHeaderAsync", tag = "conversations",
    operation_id = "getChatHeaderAsync", security(("bearer" = [])), params(ChatHeaderQuery),
    responses(
        (status = 200, description = "The direct chat of the two users, created on first use", body = ChatHeaderEnvelope),
        (status = 400, description = "A user id missing or invalid", body = ChatHeaderEnvelope),
        (status = 401, description = "Missing, invalid or expired token", body = ChatHeaderEnvelope),
        (status = 403, description = "The caller is neither user", body = ChatHeaderEnvelope),
        (status = 404, description = "No such user", body = ChatHeaderEnvelope)))]
pub async fn get_chat_header(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    query: Result<Query<ChatHeaderQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let CurrentUser(actor) = match user {
        Ok(u) => u,
        Err(e) => return failed(e),
    };
    let Ok(Query(q)) = query else {
        return failed(ApiError::bad_request("user1Id and user2Id are required"));
    };
    let (a, b) = match (UserId::parse(&q.user1_id), UserId::parse(&q.user2_id)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return failed(e.into()),
    };
    let other = if &a == actor.id() {
        b
    } else if &b == actor.id() {
        a
    } else {
        return failed(CoreError::Forbidden("you can only get a chat header of your own").into());
    };
    match state
        .service
        .create_conversation(&actor, ConversationKind::Direct, vec![other.clone()], None)
        .await
    {
        Ok(created) => {
            let c = &created.summary.conversation;
            ok(json!({
                "id": c.id,
                "uuid": c.uuid,
                "user1Id": actor.id(),
                "user2Id": other,
                "creationTime": iso8601(c.created_at),
                "lastMessageTime": created.summary.last_message.as_ref().map(|m| iso8601(m.created_at)),
            }))
        }
        Err(e) => failed(e.into()),
    }
}
