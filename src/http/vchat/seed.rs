//! The seed's routes of V Chat's REST API: accounts with raw tokens
//! (`/api/v1/auth/…`, `/api/v1/user/me`), rooms (`/api/v1/rooms/…`: single
//! and group, block, mute, leave) and their messages.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::answers::{VOkSeedSession, VOkSeedUser};
use super::{Answer, VError, VFail, VOk, access_token, body, caller, created, ok, room, room_of};
use crate::core::command::{Actor, SendMessage};
use crate::core::{ConversationKind, ConversationRef, CoreError, Profile, RowRef, User};
use crate::dialects::vchat::{Lang, PAGE, message_json, page_json, profile_image, room_json};
use crate::http::api::user_id;
use crate::http::auth::{ClientAddr, CurrentUser};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::http::uploads::{UploadError, receive_file};
use crate::state::AppState;

/// The seed's `/api/v1` routes; `uploads` is the body limit of the one
/// that takes a file.
pub fn routes(uploads: DefaultBodyLimit) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(me))
        .routes(routes!(rooms))
        .routes(routes!(create_single))
        .routes(routes!(create_group))
        .routes(routes!(block))
        .routes(routes!(unblock))
        .routes(routes!(mute))
        .routes(routes!(unmute))
        .routes(routes!(leave))
        .routes(routes!(messages, send_text))
        .routes(routes!(send_attachment).layer(uploads))
}

// --------------------------------------------------------------- accounts

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VRegister {
    /// The login name (an email, or any username of 3 to 64 characters).
    pub email: String,
    pub full_name: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VLogin {
    pub email: String,
    pub password: String,
}

fn user_json(u: &User) -> Value {
    json!({
        "_id": u.id,
        "fullName": u.name(),
        "email": u.email.clone().or_else(|| u.username.clone()),
        "userImage": profile_image(u.avatar_url.as_deref()),
    })
}

fn session(state: &AppState, lang: Lang, user: &User) -> Result<Value, VError> {
    let token = access_token(state, lang, user)?;
    Ok(json!({ "accessToken": token, "user": user_json(user) }))
}

/// Register; the answer holds the raw access token.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "vchat", operation_id = "vchat_register", request_body = VRegister,
    responses((status = 201, description = "`{success, data: {accessToken, user}}`", body = VOkSeedSession),
              (status = 400, description = "Invalid email, name or password", body = VFail),
              (status = 403, description = "Registration is closed (`auth.registration`)", body = VFail),
              (status = 409, description = "Email taken", body = VFail)))]
pub async fn register(
    State(state): State<AppState>,
    lang: Lang,
    b: Result<Json<VRegister>, ApiError>,
) -> Answer {
    try_core!(lang, state.service.registration_open());
    let b = body(lang, b)?;
    let profile = Profile {
        display_name: Some(b.full_name),
        ..Profile::default()
    };
    let user = try_core!(
        lang,
        state.service.sign_up(&b.email, &b.password, profile).await
    );
    created(session(&state, lang, &user)?)
}

/// Log in; the answer holds the raw access token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "vchat", operation_id = "vchat_login", request_body = VLogin,
    responses((status = 200, description = "`{success, data: {accessToken, user}}`", body = VOkSeedSession),
              (status = 401, description = "Wrong email or password", body = VFail),
              (status = 429, description = "Too many failed logins; see Retry-After", body = VFail)))]
pub async fn login(
    State(state): State<AppState>,
    lang: Lang,
    ClientAddr(from): ClientAddr,
    b: Result<Json<VLogin>, ApiError>,
) -> Answer {
    let b = body(lang, b)?;
    let user = state
        .service
        .login(&b.email, &b.password, from)
        .await
        .map_err(|e| match e {
            CoreError::Unauthenticated => VError(lang, ApiError::WrongCredentials),
            other => VError(lang, other.into()),
        })?;
    ok(session(&state, lang, &user)?)
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/user/me", tag = "vchat", operation_id = "vchat_me", security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: user}`", body = VOkSeedUser), (status = 401, description = "No valid token", body = VFail)))]
pub async fn me(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let user = try_core!(lang, state.service.user(actor.id()).await);
    ok(user_json(&user))
}

// ------------------------------------------------------------------ rooms

/// The caller's rooms, most recently active first.
#[utoipa::path(get, path = "/api/v1/rooms", tag = "vchat", operation_id = "vchat_rooms", security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: [room]}`", body = VOk), (status = 401, description = "No valid token", body = VFail)))]
pub async fn rooms(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let (views, _) = try_core!(
        lang,
        state
            .service
            .conversation_views(&actor, &[], false, 0, usize::MAX)
            .await
    );
    ok(Value::Array(
        views.iter().map(|v| room_json(v, actor.id())).collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VSingle {
    pub peer_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VGroup {
    pub title: String,
    pub users_ids: Vec<String>,
}

/// The single room with a peer (an existing one is returned).
#[utoipa::path(post, path = "/api/v1/rooms/single", tag = "vchat", operation_id = "vchat_create_single", request_body = VSingle, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: room}`", body = VOk), (status = 400, description = "Invalid peer", body = VFail)))]
pub async fn create_single(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<VSingle>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let b = body(lang, b)?;
    let peer = user_id(&b.peer_id).map_err(|e| VError(lang, e))?;
    let c = try_core!(
        lang,
        state
            .service
            .create_conversation(&actor, ConversationKind::Direct, vec![peer], None)
            .await
    );
    let id = ConversationRef::Id(c.summary.conversation.id);
    ok(try_core!(lang, room_of(&state, &actor, id).await))
}

/// A group with a title and members.
#[utoipa::path(post, path = "/api/v1/rooms/group", tag = "vchat", operation_id = "vchat_create_group", request_body = VGroup, security(("bearer" = [])),
    responses((status = 201, description = "`{success, data: room}`", body = VOk), (status = 400, description = "Invalid payload", body = VFail)))]
pub async fn create_group(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<VGroup>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let b = body(lang, b)?;
    let members = b
        .users_ids
        .iter()
        .map(|u| user_id(u))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| VError(lang, e))?;
    let c = try_core!(
        lang,
        state
            .service
            .create_conversation(&actor, ConversationKind::Group, members, Some(b.title))
            .await
    );
    let id = ConversationRef::Id(c.summary.conversation.id);
    created(try_core!(lang, room_of(&state, &actor, id).await))
}

/// The peer of a single room the caller is in.
async fn peer_of(
    state: &AppState,
    actor: &Actor,
    r: RowRef,
) -> Result<crate::core::UserId, CoreError> {
    let summary = state.service.conversation(actor, r).await?;
    if summary.conversation.kind != ConversationKind::Direct {
        return Err(CoreError::invalid("only a single room has a peer to block"));
    }
    summary
        .members
        .into_iter()
        .map(|m| m.user_id)
        .find(|u| u != actor.id())
        .ok_or(CoreError::NotFound("conversation"))
}

/// Block the peer of a single room: no messages either way.
#[utoipa::path(post, path = "/api/v1/rooms/{roomId}/block", tag = "vchat", operation_id = "vchat_block", security(("bearer" = [])),
    params(("roomId" = String, Path, description = "Room id")),
    responses((status = 200, description = "`{success, data: room}`", body = VOk), (status = 404, description = "Not a room of the caller", body = VFail)))]
pub async fn block(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    Path(id): Path<String>,
) -> Answer {
    let actor = caller(lang, user)?;
    let r = room(lang, &id)?;
    let peer = try_core!(lang, peer_of(&state, &actor, r).await);
    try_core!(lang, state.service.block(&actor, &peer).await);
    ok(try_core!(lang, room_of(&state, &actor, r).await))
}

/// Lift the caller's block of a single room's peer.
#[utoipa::path(post, path = "/api/v1/rooms/{roomId}/unblock", tag = "vchat", operation_id = "vchat_unblock", security(("bearer" = [])),
    params(("roomId" = String, Path, description = "Room id")),
    responses((status = 200, description = "`{success, data: room}`", body = VOk), (status = 403, description = "The caller did not block", body = VFail)))]
pub async fn unblock(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    Path(id): Path<String>,
) -> Answer {
    let actor = caller(lang, user)?;
    let r = room(lang, &id)?;
    let peer = try_core!(lang, peer_of(&state, &actor, r).await);
    try_core!(lang, state.service.unblock(&actor, &peer).await);
    ok(try_core!(lang, room_of(&state, &actor, r).await))
}

async fn set_muted(
    state: &AppState,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    id: &str,
    muted: bool,
) -> Answer {
    let actor = caller(lang, user)?;
    let r = room(lang, id)?;
    try_core!(lang, state.service.set_muted(&actor, r, muted).await);
    ok(try_core!(lang, room_of(state, &actor, r).await))
}

/// Mute a room for the caller: no push notifications for it.
#[utoipa::path(post, path = "/api/v1/rooms/{roomId}/mute", tag = "vchat", operation_id = "vchat_mute", security(("bearer" = [])),
    params(("roomId" = String, Path, description = "Room id")),
    responses((status = 200, description = "`{success, data: room}`", body = VOk)))]
pub async fn mute(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    Path(id): Path<String>,
) -> Answer {
    set_muted(&state, lang, user, &id, true).await
}

/// Unmute a room for the caller.
#[utoipa::path(post, path = "/api/v1/rooms/{roomId}/unmute", tag = "vchat", operation_id = "vchat_unmute", security(("bearer" = [])),
    params(("roomId" = String, Path, description = "Room id")),
    responses((status = 200, description = "`{success, data: room}`", body = VOk)))]
pub async fn unmute(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    Path(id): Path<String>,
) -> Answer {
    set_muted(&state, lang, user, &id, false).await
}

/// Leave a group room.
#[utoipa::path(post, path = "/api/v1/rooms/{roomId}/leave", tag = "vchat", operation_id = "vchat_leave", security(("bearer" = [])),
    params(("roomId" = String, Path, description = "Room id")),
    responses((status = 200, description = "`{success, data: null}`", body = VOk), (status = 403, description = "A single room", body = VFail)))]
pub async fn leave(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    Path(id): Path<String>,
) -> Answer {
    let actor = caller(lang, user)?;
    let r = room(lang, &id)?;
    let me = actor.id().clone();
    try_core!(lang, state.service.remove_member(&actor, r, &me).await);
    ok(Value::Null)
}

// --------------------------------------------------------------- messages

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VPage {
    /// A message id: the page ends before it.
    #[serde(default)]
    pub before: Option<String>,
    /// At most 100; default 30.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A page of a room's messages, newest first.
#[utoipa::path(get, path = "/api/v1/rooms/{roomId}/messages", tag = "vchat", operation_id = "vchat_messages", security(("bearer" = [])),
    params(("roomId" = String, Path, description = "Room id"), VPage),
    responses((status = 200, description = "`{success, data: [message]}`", body = VOk), (status = 404, description = "Not a room of the caller", body = VFail)))]
pub async fn messages(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    Path(id): Path<String>,
    q: Result<Query<VPage>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let r = room(lang, &id)?;
    let Query(q) = q.map_err(|e| VError(lang, e))?;
    let before = q
        .before
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(|b| room(lang, b))
        .transpose()?;
    let page = try_core!(
        lang,
        state
            .service
            .history_page(&actor, r, before, 0, q.limit.unwrap_or(PAGE))
            .await
    );
    ok(page_json(&page))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VText {
    /// At most 10,000 characters.
    pub content: String,
}

async fn send(
    state: &AppState,
    lang: Lang,
    actor: &Actor,
    r: RowRef,
    message: SendMessage,
) -> Answer {
    let (m, _) = try_core!(lang, state.service.send(actor, r, message).await);
    created(message_json(
        &m,
        actor.user.name(),
        actor.user.avatar_url.as_deref(),
    ))
}

/// Send a text message.
#[utoipa::path(post, path = "/api/v1/rooms/{roomId}/messages", tag = "vchat", operation_id = "vchat_send_text", request_body = VText, security(("bearer" = [])),
    params(("roomId" = String, Path, description = "Room id")),
    responses((status = 201, description = "`{success, data: message}`", body = VOk), (status = 403, description = "Blocked", body = VFail), (status = 404, description = "Not a room of the caller", body = VFail)))]
pub async fn send_text(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    Path(id): Path<String>,
    b: Result<Json<VText>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let r = room(lang, &id)?;
    let b = body(lang, b)?;
    let message = SendMessage {
        text: Some(b.content),
        ..SendMessage::default()
    };
    send(&state, lang, &actor, r, message).await
}

/// Send a file (multipart `file`, optional `content` caption) through the
/// upload pipeline; its kind is read from its bytes.
#[utoipa::path(post, path = "/api/v1/rooms/{roomId}/messages/attachment", tag = "vchat", operation_id = "vchat_send_attachment", security(("bearer" = [])),
    params(("roomId" = String, Path, description = "Room id")),
    request_body(content_type = "multipart/form-data", description = "`file`, and an optional `content` caption"),
    responses((status = 201, description = "`{success, data: message}`", body = VOk), (status = 400, description = "Bad file", body = VFail), (status = 413, description = "Too large", body = VFail)))]
pub async fn send_attachment(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Answer {
    let actor = caller(lang, user)?;
    let r = room(lang, &id)?;
    // Membership first: nothing is stored for a room the caller is not in.
    try_core!(lang, state.service.conversation(&actor, r).await);
    let form = form.map_err(|e| VError(lang, ApiError::bad_request(e.body_text())))?;
    let (received, caption) = receive_file(&state.media, form, "content")
        .await
        .map_err(|e| VError(lang, e.into_api()))?;
    let upload = state
        .media
        .keep_sniffed(&state.service, actor.id(), received)
        .await
        .map_err(|e| VError(lang, UploadError::from(e).into_api()))?;
    let message = SendMessage {
        text: caption,
        attachments: vec![upload.path.into()],
        kind: Some(upload.kind),
        ..SendMessage::default()
    };
    send(&state, lang, &actor, r, message).await
}
