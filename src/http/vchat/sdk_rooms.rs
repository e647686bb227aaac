//! The room and message calls of the V Chat SDK v1 (`RoomsApiProvider`,
//! `VChatProvider`, `MessageProvider`, `MessageCubit`): rooms named by
//! `roomId`/`groupId` in the body, users by email (`peerEmail`,
//! `peerEmails`, `peersId`) or id (`peerId`), answers in the shapes the
//! SDK parses (`VChatRoom`, `VChatGroupUser`, `VChatMessage`).

use axum::extract::{DefaultBodyLimit, Request, State};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{
    Answer, SdkForm, VError, VFail, VOk, bad_request, body, caller, created, ok, room, room_of,
};
use crate::core::command::{Actor, Command, Outcome, SendMessage};
use crate::core::{
    Attachment, AttachmentMeta, ConversationKind, ConversationRef, MessageKind, Role, UserId,
};
use crate::dialects::vchat::attachment::sent_meta;
use crate::dialects::vchat::{Lang, PAGE, ROOMS_PAGE, message_json, page_json, profile_image};
use crate::dialects::vchat::{room_json, shapes};
use crate::http::api::user_id;
use crate::http::auth::CurrentUser;
use crate::http::error::{ApiError, Json, Query};
use crate::http::uploads::UploadError;
use crate::state::AppState;

/// Members per page of `room/group-members`.
const MEMBERS_PAGE: usize = 30;

/// The SDK's room and message routes; `uploads` is the body limit of those
/// that take a file.
pub fn routes(uploads: DefaultBodyLimit) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rooms))
        .routes(routes!(single))
        .routes(routes!(group).layer(uploads))
        .routes(routes!(check_room))
        .routes(routes!(ban))
        .routes(routes!(leave))
        .routes(routes!(notifications))
        .routes(routes!(members))
        .routes(routes!(kick))
        .routes(routes!(member_state))
        .routes(routes!(add_members))
        .routes(routes!(group_info).layer(uploads))
        .routes(routes!(messages))
        .routes(routes!(send).layer(uploads))
        .routes(routes!(send_group).layer(uploads))
}

/// The user an email (or id) names.
async fn peer(state: &AppState, lang: Lang, login: &str) -> Result<UserId, VError> {
    Ok(try_core!(lang, state.service.find_user(login.trim()).await).id)
}

/// Emails named by the SDK: a list, or a JSON string of one (a form's
/// field).
fn emails(lang: Lang, v: &Value) -> Result<Vec<String>, VError> {
    let wrong = || bad_request(lang, "expected a list of emails");
    match v {
        Value::String(s) => serde_json::from_str(s).map_err(|_| wrong()),
        other => Vec::<String>::deserialize(other).map_err(|_| wrong()),
    }
}

/// The users a list of emails names, in order.
async fn peers(state: &AppState, lang: Lang, v: &Value) -> Result<Vec<UserId>, VError> {
    let mut out = Vec::new();
    for login in emails(lang, v)? {
        out.push(peer(state, lang, &login).await?);
    }
    Ok(out)
}

// ------------------------------------------------------------------ rooms

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoomsPage {
    /// Page number from 0 (`join` sends page 0; the SDK asks for 1, 2, …).
    #[serde(default)]
    pub page: Option<u32>,
}

/// A page of the caller's rooms, most recently active first.
#[utoipa::path(get, path = "/api/v1/room", tag = "vchat", operation_id = "vchat_sdk_rooms", security(("bearer" = [])), params(RoomsPage),
    responses((status = 200, description = "`{success, data: [room]}`: 30 rooms a page", body = VOk)))]
pub async fn rooms(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    q: Result<Query<RoomsPage>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let Query(q) = q.map_err(|e| VError(lang, e))?;
    let page = q.page.unwrap_or(0) as usize;
    let per_page = ROOMS_PAGE as usize;
    let (views, _) = try_core!(
        lang,
        state
            .service
            .conversation_views(&actor, &[], false, page.saturating_mul(per_page), per_page)
            .await
    );
    ok(Value::Array(
        views.iter().map(|v| room_json(v, actor.id())).collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkSingle {
    /// The peer's email (or login name, or id).
    pub peer_email: String,
    /// The first message (sent if not blank).
    #[serde(default)]
    pub message: Option<String>,
}

/// The single room with a peer (created on first use), with a first
/// message (the SDK's `createSingleChat`).
#[utoipa::path(post, path = "/api/v1/room/single", tag = "vchat", operation_id = "vchat_sdk_single", request_body = SdkSingle, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: room}`", body = VOk), (status = 404, description = "No user with that email", body = VFail)))]
pub async fn single(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<SdkSingle>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let b = body(lang, b)?;
    let peer = peer(&state, lang, &b.peer_email).await?;
    let c = try_core!(
        lang,
        state
            .service
            .create_conversation(&actor, ConversationKind::Direct, vec![peer], None)
            .await
    );
    let id = ConversationRef::Id(c.summary.conversation.id);
    if let Some(text) = b.message.filter(|m| !m.trim().is_empty()) {
        let message = SendMessage {
            text: Some(text),
            ..SendMessage::default()
        };
        try_core!(lang, state.service.send(&actor, id, message).await);
    }
    ok(try_core!(lang, room_of(&state, &actor, id).await))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkGroup {
    /// The members' emails: a list, or a JSON string of one (the SDK's form).
    pub peer_emails: Value,
    pub title: String,
}

/// A group (the SDK's `createGroupChat`: a form with the group's picture as
/// `file`, which is not kept: groups show `default_group_image.png`).
#[utoipa::path(post, path = "/api/v1/room/group", tag = "vchat", operation_id = "vchat_sdk_group", request_body = SdkGroup, security(("bearer" = [])),
    responses((status = 201, description = "`{success, data: room}`", body = VOk), (status = 404, description = "No user with one of the emails", body = VFail)))]
pub async fn group(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    req: Request,
) -> Answer {
    let actor = caller(lang, user)?;
    let b: SdkGroup = SdkForm::read(&state, lang, req, 1).await?.parse(lang)?;
    let members = peers(&state, lang, &b.peer_emails).await?;
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkPeerEmail {
    pub peer_email: String,
}

/// The single room with a peer, if there is one (null if not).
#[utoipa::path(post, path = "/api/v1/room/check-if-there-room", tag = "vchat", operation_id = "vchat_sdk_check_room", request_body = SdkPeerEmail, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: room or null}`", body = VOk)))]
pub async fn check_room(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<SdkPeerEmail>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let b = body(lang, b)?;
    let peer = peer(&state, lang, &b.peer_email).await?;
    ok(direct_room(&state, &actor, peer)
        .await
        .unwrap_or(Value::Null))
}

/// The caller's single room with `peer` as the caller sees it, if any.
async fn direct_room(state: &AppState, actor: &Actor, peer: UserId) -> Option<Value> {
    match state
        .service
        .execute(actor, Command::DirectRoomWith { peer })
        .await
    {
        Ok(Outcome::Room(view)) => Some(room_json(&view, actor.id())),
        _ => None,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkPeer {
    /// A user id.
    pub peer_id: String,
}

/// Block the peer, or lift the caller's block (the SDK's one "block or
/// unblock" action).
#[utoipa::path(post, path = "/api/v1/room/ban-chat-user", tag = "vchat", operation_id = "vchat_sdk_ban", request_body = SdkPeer, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: room or null}`: the single room with the peer, if there is one", body = VOk)))]
pub async fn ban(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<SdkPeer>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let peer = user_id(&body(lang, b)?.peer_id).map_err(|e| VError(lang, e))?;
    try_core!(lang, state.service.toggle_block(&actor, &peer).await);
    ok(direct_room(&state, &actor, peer)
        .await
        .unwrap_or(Value::Null))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkGroupId {
    pub group_id: String,
}

/// Leave a group.
#[utoipa::path(post, path = "/api/v1/room/leave-group-chat", tag = "vchat", operation_id = "vchat_sdk_leave", request_body = SdkGroupId, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: null}`", body = VOk), (status = 403, description = "A single room", body = VFail)))]
pub async fn leave(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<SdkGroupId>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let r = room(lang, &body(lang, b)?.group_id)?;
    let me = actor.id().clone();
    try_core!(lang, state.service.remove_member(&actor, r, &me).await);
    ok(Value::Null)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkRoomId {
    pub room_id: String,
}

/// Mute the room for the caller if it was not, else unmute it.
#[utoipa::path(post, path = "/api/v1/room/chat-notification", tag = "vchat", operation_id = "vchat_sdk_notifications", request_body = SdkRoomId, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: room}`", body = VOk)))]
pub async fn notifications(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<SdkRoomId>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let r = room(lang, &body(lang, b)?.room_id)?;
    try_core!(lang, state.service.toggle_muted(&actor, r).await);
    ok(try_core!(lang, room_of(&state, &actor, r).await))
}

// ---------------------------------------------------------------- members

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MembersPage {
    pub room_id: String,
    /// Page number from 1 (default 1).
    #[serde(default)]
    pub last_index: Option<usize>,
}

/// A page of a group's members (`VChatGroupUser`s).
#[utoipa::path(get, path = "/api/v1/room/group-members", tag = "vchat", operation_id = "vchat_sdk_members", security(("bearer" = [])), params(MembersPage),
    responses((status = 200, description = "`{success, data: [{_id, email, name, imageThumb, role}]}`: 30 a page", body = VOk),
              (status = 404, description = "Not a room of the caller", body = VFail)))]
pub async fn members(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    q: Result<Query<MembersPage>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let Query(q) = q.map_err(|e| VError(lang, e))?;
    let r = room(lang, &q.room_id)?;
    let view = try_core!(lang, state.service.conversation_view(&actor, r).await);
    let skip = q.last_index.unwrap_or(1).saturating_sub(1) * MEMBERS_PAGE;
    let list = view
        .summary
        .members
        .iter()
        .skip(skip)
        .take(MEMBERS_PAGE)
        .map(|m| {
            let u = view.user(&m.user_id);
            json!({
                "_id": m.user_id,
                "email": u.and_then(|u| u.email.as_deref().or(u.username.as_deref())).unwrap_or(""),
                "name": u.map_or(m.user_id.as_str(), |u| u.name()),
                "imageThumb": profile_image(u.and_then(|u| u.avatar_url.as_deref())),
                "role": if m.role.can_moderate() { "admin" } else { "member" },
            })
        })
        .collect();
    ok(Value::Array(list))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkRoomPeer {
    pub room_id: String,
    /// A user id.
    pub peer_id: String,
}

/// Remove a member from a group (an owner or admin).
#[utoipa::path(post, path = "/api/v1/room/kick-member", tag = "vchat", operation_id = "vchat_sdk_kick", request_body = SdkRoomPeer, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: null}`", body = VOk), (status = 403, description = "Not allowed", body = VFail)))]
pub async fn kick(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<SdkRoomPeer>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let b = body(lang, b)?;
    let r = room(lang, &b.room_id)?;
    let peer = user_id(&b.peer_id).map_err(|e| VError(lang, e))?;
    try_core!(lang, state.service.remove_member(&actor, r, &peer).await);
    ok(Value::Null)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkMemberState {
    pub room_id: String,
    pub peer_id: String,
    /// `admin` or `member`.
    pub state: String,
}

/// Make a group member an admin or a plain member.
#[utoipa::path(post, path = "/api/v1/room/update-member-state", tag = "vchat", operation_id = "vchat_sdk_member_state", request_body = SdkMemberState, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: null}`", body = VOk), (status = 403, description = "Not allowed", body = VFail)))]
pub async fn member_state(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<SdkMemberState>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let b = body(lang, b)?;
    let r = room(lang, &b.room_id)?;
    let peer = user_id(&b.peer_id).map_err(|e| VError(lang, e))?;
    let role = match b.state.as_str() {
        "admin" => Role::Admin,
        "member" => Role::Member,
        _ => return Err(bad_request(lang, "state must be admin or member")),
    };
    try_core!(lang, state.service.set_role(&actor, r, &peer, role).await);
    ok(Value::Null)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkAddMembers {
    pub room_id: String,
    /// The new members' emails (the SDK's name for them).
    pub peers_id: Value,
}

/// Add members to a group (an owner or admin).
#[utoipa::path(post, path = "/api/v1/room/add-member", tag = "vchat", operation_id = "vchat_sdk_add_members", request_body = SdkAddMembers, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: room}`", body = VOk), (status = 404, description = "No user with one of the emails", body = VFail)))]
pub async fn add_members(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    b: Result<Json<SdkAddMembers>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let b = body(lang, b)?;
    let r = room(lang, &b.room_id)?;
    for peer in peers(&state, lang, &b.peers_id).await? {
        try_core!(lang, state.service.add_member(&actor, r, &peer).await);
    }
    ok(try_core!(lang, room_of(&state, &actor, r).await))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkGroupInfo {
    pub room_id: String,
    pub group_name: Option<String>,
}

/// Change a group's title (JSON `{roomId, groupName}`). A new group
/// picture (a form with `file`) is refused: groups show the default one.
#[utoipa::path(post, path = "/api/v1/room/update-group-info", tag = "vchat", operation_id = "vchat_sdk_group_info", request_body = SdkGroupInfo, security(("bearer" = [])),
    responses((status = 200, description = "`{success, data: room}`", body = VOk), (status = 400, description = "A picture, or no groupName", body = VFail),
              (status = 403, description = "Not an owner or admin", body = VFail)))]
pub async fn group_info(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    req: Request,
) -> Answer {
    let actor = caller(lang, user)?;
    let form = SdkForm::read(&state, lang, req, 1).await?;
    if !form.files.is_empty() {
        return Err(bad_request(lang, "group pictures are not supported"));
    }
    let b: SdkGroupInfo = form.parse(lang)?;
    let r = room(lang, &b.room_id)?;
    let title = b
        .group_name
        .ok_or_else(|| bad_request(lang, "groupName is required"))?;
    try_core!(lang, state.service.set_title(&actor, r, &title).await);
    ok(try_core!(lang, room_of(&state, &actor, r).await))
}

// --------------------------------------------------------------- messages

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SdkMessagesPage {
    pub room_id: String,
    /// The oldest message the client has: the page ends before it.
    #[serde(default)]
    pub last_id: Option<String>,
}

/// The 30 messages before `lastId`, newest first (the SDK's load more).
#[utoipa::path(get, path = "/api/v1/message", tag = "vchat", operation_id = "vchat_sdk_messages", security(("bearer" = [])), params(SdkMessagesPage),
    responses((status = 200, description = "`{success, data: [message]}`", body = VOk), (status = 404, description = "Not a room of the caller", body = VFail)))]
pub async fn messages(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    q: Result<Query<SdkMessagesPage>, ApiError>,
) -> Answer {
    let actor = caller(lang, user)?;
    let Query(q) = q.map_err(|e| VError(lang, e))?;
    let r = room(lang, &q.room_id)?;
    // The stand-in last message of an empty room has nothing before it.
    if q.last_id.as_deref() == Some(shapes::NO_MESSAGE_ID) {
        try_core!(lang, state.service.conversation(&actor, r).await);
        return ok(Value::Array(vec![]));
    }
    let before = q
        .last_id
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(|b| room(lang, b))
        .transpose()?;
    let page = try_core!(
        lang,
        state.service.history_page(&actor, r, before, 0, PAGE).await
    );
    ok(page_json(&page))
}

/// `message/single`, `message/group`: a text as JSON, or a file as a form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SdkSend {
    pub room_id: String,
    /// `text`, or for a form `image`, `voice`, `video` or `file`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text, or a file's caption.
    #[serde(default)]
    pub content: Option<String>,
    /// With a file: what the SDK says of it, as a JSON string
    /// (`VChatMessageAttachment.toMap()`): `linkTitle` (the name),
    /// `fileDuration` (`mm:ss`), `width`, `height`; `fileSize` is counted
    /// by confab.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub attachment: Option<Value>,
}

/// The kind of a `type` that carries a file.
fn file_kind(t: &str) -> Option<MessageKind> {
    match t {
        "image" => Some(MessageKind::Image),
        "voice" => Some(MessageKind::Audio),
        "video" => Some(MessageKind::Video),
        "file" => Some(MessageKind::File),
        _ => None,
    }
}

/// Send a message (both paths alike): `{type: "text", roomId, content}`, or
/// a form with `roomId`, `type`, `content`, `attachment` (what the SDK says
/// of the file) and the file as `file`; a video's form has its still first
/// and the video second, each as `file`.
#[utoipa::path(post, path = "/api/v1/message/single", tag = "vchat", operation_id = "vchat_sdk_send", request_body = SdkSend, security(("bearer" = [])),
    responses((status = 201, description = "`{success, data: message}`", body = VOk), (status = 400, description = "Bad type, file or attachment", body = VFail),
              (status = 403, description = "Blocked", body = VFail), (status = 404, description = "Not a room of the caller", body = VFail)))]
pub async fn send(
    State(state): State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    req: Request,
) -> Answer {
    let actor = caller(lang, user)?;
    let mut form = SdkForm::read(&state, lang, req, 2).await?;
    let b: SdkSend = form.parse(lang)?;
    let r = room(lang, &b.room_id)?;
    let message = if b.kind == "text" {
        if !form.files.is_empty() {
            return Err(bad_request(lang, "a text message carries no file"));
        }
        SendMessage {
            text: b.content,
            ..SendMessage::default()
        }
    } else {
        let kind = file_kind(&b.kind)
            .ok_or_else(|| bad_request(lang, "type must be text, image, voice, video or file"))?;
        let sent = try_core!(lang, sent_meta(b.attachment.as_ref()));
        let file = form
            .files
            .pop()
            .ok_or_else(|| bad_request(lang, "file is required"))?;
        let still = match (kind, form.files.pop()) {
            (MessageKind::Video, still) => still,
            (_, None) => None,
            (_, Some(_)) => {
                return Err(bad_request(
                    lang,
                    "only a video takes two files (its still, then the video)",
                ));
            }
        };
        // Membership first: nothing is stored for a room the caller is not in.
        try_core!(lang, state.service.conversation(&actor, r).await);
        let keep = |received, kind| state.media.keep(&state.service, actor.id(), received, kind);
        let still = match still {
            Some(f) => Some(
                keep(f.received, MessageKind::Image)
                    .await
                    .map_err(|e| VError(lang, UploadError::from(e).into_api()))?
                    .0,
            ),
            None => None,
        };
        let (stored, _) = keep(file.received, kind)
            .await
            .map_err(|e| VError(lang, UploadError::from(e).into_api()))?;
        let meta = AttachmentMeta {
            // The form's file name where the SDK sent no `linkTitle`, if
            // it is one a message may carry.
            name: sent.name.or(file
                .name
                .filter(|n| n.chars().count() <= 255 && !n.chars().any(char::is_control))),
            size: Some(stored.size),
            content_type: Some(stored.content_type().to_owned()),
            // An image's own size as stored; a video's as the SDK measured
            // its still, else the still's.
            width: stored
                .width
                .or(sent.width)
                .or(still.as_ref().and_then(|s| s.width)),
            height: stored
                .height
                .or(sent.height)
                .or(still.as_ref().and_then(|s| s.height)),
            duration_ms: sent.duration_ms,
            thumbnail: still.map(|s| s.path()),
        };
        SendMessage {
            text: b.content,
            attachments: vec![Attachment {
                url: stored.path(),
                meta,
            }],
            kind: Some(kind),
            ..SendMessage::default()
        }
    };
    let (m, _) = try_core!(lang, state.service.send(&actor, r, message).await);
    created(message_json(
        &m,
        actor.user.name(),
        actor.user.avatar_url.as_deref(),
    ))
}

/// Send a message to a group: the same as `message/single`.
#[utoipa::path(post, path = "/api/v1/message/group", tag = "vchat", operation_id = "vchat_sdk_send_group", request_body = SdkSend, security(("bearer" = [])),
    responses((status = 201, description = "`{success, data: message}`", body = VOk), (status = 404, description = "Not a room of the caller", body = VFail)))]
pub async fn send_group(
    state: State<AppState>,
    lang: Lang,
    user: Result<CurrentUser, ApiError>,
    req: Request,
) -> Answer {
    send(state, lang, user, req).await
}
