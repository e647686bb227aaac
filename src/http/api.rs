//! The REST API for conversations and messages: camelCase JSON built from the
//! core's model. It only translates; every rule lives in the core service.
//!
//! Conventions:
//! - Timestamps are milliseconds since the Unix epoch.
//! - Conversations and messages carry both `id` (a number) and `uuid`; a path
//!   `{id}` accepts either form.
//! - Optional fields are present with `null` rather than left out.
//! - A conversation or message the caller is not a member of is answered as
//!   not found (404), exactly as one that does not exist.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::CurrentUser;
use super::error::{ApiError, ErrorBody, Json, Path, Query};
use crate::core::command::SendMessage;
use crate::core::{
    ConversationKind, ConversationSummary, CoreError, DeliveryStatus, DevicePlatform, Friendship,
    FriendshipStatus, Member, Message, MessageKind, RowRef, User, UserId,
};
use crate::state::AppState;

// ---------------------------------------------------------------------- DTOs

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = User)]
pub struct UserDto {
    pub id: String,
    /// Login name, for users who registered with a password.
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub email: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch; null if never seen offline.
    pub last_seen_at: Option<i64>,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            id: u.id.to_string(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            avatar_url: u.avatar_url.clone(),
            email: u.email.clone(),
            created_at: u.created_at,
            last_seen_at: u.last_seen_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ConversationKind)]
pub enum Kind {
    Direct,
    Group,
}

impl From<ConversationKind> for Kind {
    fn from(k: ConversationKind) -> Self {
        match k {
            ConversationKind::Direct => Kind::Direct,
            ConversationKind::Group => Kind::Group,
        }
    }
}

impl From<Kind> for ConversationKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Direct => ConversationKind::Direct,
            Kind::Group => ConversationKind::Group,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Role)]
pub enum RoleDto {
    Owner,
    Admin,
    Member,
}

impl From<crate::core::Role> for RoleDto {
    fn from(r: crate::core::Role) -> Self {
        match r {
            crate::core::Role::Owner => RoleDto::Owner,
            crate::core::Role::Admin => RoleDto::Admin,
            crate::core::Role::Member => RoleDto::Member,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Member)]
pub struct MemberDto {
    pub user_id: String,
    pub role: RoleDto,
    pub joined_at: i64,
    /// Highest sequence number this member has read (0: none).
    pub last_read_seq: i64,
    /// Highest sequence number delivered to one of this member's sockets.
    pub last_delivered_seq: i64,
}

impl From<&Member> for MemberDto {
    fn from(m: &Member) -> Self {
        MemberDto {
            user_id: m.user_id.to_string(),
            role: m.role.into(),
            joined_at: m.joined_at,
            last_read_seq: m.last_read_seq,
            last_delivered_seq: m.last_delivered_seq,
        }
    }
}

/// What a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = MessageKind)]
pub enum MessageKindDto {
    Text,
    Audio,
    Image,
    File,
    Video,
}

impl From<MessageKind> for MessageKindDto {
    fn from(k: MessageKind) -> Self {
        match k {
            MessageKind::Text => MessageKindDto::Text,
            MessageKind::Audio => MessageKindDto::Audio,
            MessageKind::Image => MessageKindDto::Image,
            MessageKind::File => MessageKindDto::File,
            MessageKind::Video => MessageKindDto::Video,
        }
    }
}

impl From<MessageKindDto> for MessageKind {
    fn from(k: MessageKindDto) -> Self {
        match k {
            MessageKindDto::Text => MessageKind::Text,
            MessageKindDto::Audio => MessageKind::Audio,
            MessageKindDto::Image => MessageKind::Image,
            MessageKindDto::File => MessageKind::File,
            MessageKindDto::Video => MessageKind::Video,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Message)]
pub struct MessageDto {
    pub id: i64,
    #[schema(value_type = String, format = "uuid")]
    pub uuid: Uuid,
    pub conversation_id: i64,
    #[schema(value_type = String, format = "uuid")]
    pub conversation_uuid: Uuid,
    /// Per-conversation sequence number, from 1, without gaps.
    pub seq: i64,
    pub sender_id: String,
    /// What the message carries: text, or the kind of its one attachment.
    pub kind: MessageKindDto,
    /// Null for attachment-only and deleted messages.
    pub text: Option<String>,
    pub attachment_urls: Vec<String>,
    /// The client id the sender gave, if any.
    pub client_id: Option<String>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    /// Set when the message was deleted (its text and attachments are erased).
    pub deleted_at: Option<i64>,
    /// In history pages: how far the message got with the other members
    /// (the minimum over them, from their delivery and read watermarks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DeliveryStatusDto>,
}

/// How far a message got with the other members of its conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = DeliveryStatus)]
pub enum DeliveryStatusDto {
    Sent,
    Delivered,
    Read,
}

impl From<DeliveryStatus> for DeliveryStatusDto {
    fn from(s: DeliveryStatus) -> Self {
        match s {
            DeliveryStatus::Sent => DeliveryStatusDto::Sent,
            DeliveryStatus::Delivered => DeliveryStatusDto::Delivered,
            DeliveryStatus::Read => DeliveryStatusDto::Read,
        }
    }
}

impl From<&Message> for MessageDto {
    fn from(m: &Message) -> Self {
        MessageDto {
            id: m.id,
            uuid: m.uuid,
            conversation_id: m.conversation_id,
            conversation_uuid: m.conversation_uuid,
            seq: m.seq,
            sender_id: m.sender_id.to_string(),
            kind: m.kind.into(),
            text: m.text.clone(),
            attachment_urls: m.attachments.clone(),
            client_id: m.client_id.clone(),
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted_at: m.deleted_at,
            status: None,
        }
    }
}

/// A conversation as one member sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Conversation)]
pub struct ConversationDto {
    pub id: i64,
    #[schema(value_type = String, format = "uuid")]
    pub uuid: Uuid,
    pub kind: Kind,
    pub title: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    /// Time of the newest message, or of creation.
    pub updated_at: i64,
    /// Sequence number of the newest message (0 when empty).
    pub last_seq: i64,
    pub members: Vec<MemberDto>,
    pub last_message: Option<MessageDto>,
    /// Messages from others after the caller's read watermark, not deleted.
    pub unread_count: i64,
    /// The department of a support conversation.
    pub department_id: Option<i64>,
}

impl From<&ConversationSummary> for ConversationDto {
    fn from(s: &ConversationSummary) -> Self {
        let c = &s.conversation;
        ConversationDto {
            id: c.id,
            uuid: c.uuid,
            kind: c.kind.into(),
            title: c.title.clone(),
            created_by: c.created_by.to_string(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_seq: c.last_seq,
            members: s.members.iter().map(MemberDto::from).collect(),
            last_message: s.last_message.as_ref().map(MessageDto::from),
            unread_count: s.unread_count,
            department_id: c.department_id,
        }
    }
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
pub struct CreateConversation {
    pub kind: Kind,
    /// The other members (the caller is added anyway). A direct conversation
    /// needs exactly one other user. Users never seen before are created as
    /// placeholders, filled in from their first token.
    pub member_ids: Vec<String>,
    /// Groups only; at most 200 characters.
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMember {
    pub user_id: String,
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

// ------------------------------------------------------------------ helpers

pub(crate) fn row_ref(s: &str) -> Result<RowRef, ApiError> {
    Ok(RowRef::parse(s)?)
}

pub(crate) fn user_id(s: &str) -> Result<UserId, ApiError> {
    Ok(UserId::parse(s)?)
}

fn cursor(s: Option<&str>) -> Result<Option<RowRef>, ApiError> {
    s.filter(|s| !s.trim().is_empty()).map(row_ref).transpose()
}

// ----------------------------------------------------------------- handlers

/// Create a group, or get (creating on first use) a direct conversation.
#[utoipa::path(
    post,
    path = "/api/conversations",
    tag = "conversations",
    request_body = CreateConversation,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ConversationDto),
        (status = 200, description = "The existing direct conversation of the two users", body = ConversationDto),
        (status = 400, description = "Invalid payload", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn create_conversation(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(body): Json<CreateConversation>,
) -> Result<impl IntoResponse, ApiError> {
    let members = body
        .member_ids
        .iter()
        .map(|m| user_id(m))
        .collect::<Result<Vec<_>, _>>()?;
    let created = state
        .service
        .create_conversation(&actor, body.kind.into(), members, body.title)
        .await?;
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(ConversationDto::from(&created.summary))))
}

/// The caller's conversations, most recently active first.
#[utoipa::path(
    get,
    path = "/api/conversations",
    tag = "conversations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = [ConversationDto]),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn list_conversations(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<Vec<ConversationDto>>, ApiError> {
    let list = state.service.conversations(&actor).await?;
    Ok(axum::Json(list.iter().map(ConversationDto::from).collect()))
}

/// One conversation of the caller.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}",
    tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (number) or uuid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = ConversationDto),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such conversation, or the caller is not a member", body = ErrorBody),
    )
)]
pub async fn get_conversation(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<ConversationDto>, ApiError> {
    let summary = state.service.conversation(&actor, row_ref(&id)?).await?;
    Ok(axum::Json(ConversationDto::from(&summary)))
}

/// Add a member to a group (owners and admins only).
#[utoipa::path(
    post,
    path = "/api/conversations/{id}/members",
    tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (number) or uuid")),
    request_body = AddMember,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The conversation after the change (unchanged if already a member)", body = ConversationDto),
        (status = 400, description = "Invalid payload", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not allowed (direct conversation, or not an admin)", body = ErrorBody),
        (status = 404, description = "No such conversation, or the caller is not a member", body = ErrorBody),
    )
)]
pub async fn add_member(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<AddMember>,
) -> Result<axum::Json<ConversationDto>, ApiError> {
    let r = row_ref(&id)?;
    let user = user_id(&body.user_id)?;
    let summary = state.service.add_member(&actor, r, &user).await?;
    Ok(axum::Json(ConversationDto::from(&summary)))
}

/// Remove a member, or leave (a member removing themself).
#[utoipa::path(
    delete,
    path = "/api/conversations/{id}/members/{userId}",
    tag = "conversations",
    params(
        ("id" = String, Path, description = "Conversation id (number) or uuid"),
        ("userId" = String, Path, description = "The member to remove"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such conversation or member", body = ErrorBody),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((id, member)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let r = row_ref(&id)?;
    let user = user_id(&member)?;
    state.service.remove_member(&actor, r, &user).await?;
    Ok(StatusCode::NO_CONTENT)
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
                attachments: body.attachment_urls.unwrap_or_default(),
                client_id: body.client_id,
                kind: body.kind.map(MessageKind::from),
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

// ------------------------------------------------ friendships and devices

/// The routes of friendships and push devices, merged into the `/api` router.
pub fn social_routes() -> axum::Router<AppState> {
    use axum::routing::{delete, get, post};
    axum::Router::new()
        .route(
            "/api/friendships",
            get(list_friendships).post(request_friendship),
        )
        .route("/api/friendships/{userId}/accept", post(accept_friendship))
        .route("/api/friendships/{userId}/reject", post(reject_friendship))
        .route(
            "/api/friendships/{userId}/block",
            post(block_user).delete(unblock_user),
        )
        .route("/api/devices", post(register_device))
        .route("/api/devices/{token}", delete(remove_device))
}

/// Where a friendship stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = FriendshipStatus)]
pub enum FriendshipStatusDto {
    Pending,
    Accepted,
    Rejected,
    Blocked,
}

impl From<FriendshipStatus> for FriendshipStatusDto {
    fn from(s: FriendshipStatus) -> Self {
        match s {
            FriendshipStatus::Pending => FriendshipStatusDto::Pending,
            FriendshipStatus::Accepted => FriendshipStatusDto::Accepted,
            FriendshipStatus::Rejected => FriendshipStatusDto::Rejected,
            FriendshipStatus::Blocked => FriendshipStatusDto::Blocked,
        }
    }
}

/// A friendship as the caller sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Friendship)]
pub struct FriendshipDto {
    /// The other user of the pair.
    pub user_id: String,
    /// 0 pending, 1 accepted, 2 rejected, 3 blocked (Syarah's
    /// `friendshipStatus`).
    #[schema(minimum = 0, maximum = 3)]
    pub status: i64,
    pub status_name: FriendshipStatusDto,
    /// Who sent the request (or, for a block without one, who blocked).
    pub requested_by: String,
    /// Who blocked, when the status is blocked.
    pub blocked_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl FriendshipDto {
    fn of(f: &Friendship, me: &UserId) -> Self {
        FriendshipDto {
            user_id: f.other(me).to_string(),
            status: f.status.as_code(),
            status_name: f.status.into(),
            requested_by: f.requester.to_string(),
            blocked_by: f.blocked_by.as_ref().map(UserId::to_string),
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FriendRequest {
    /// The user to ask.
    pub user_id: String,
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

/// The caller's friendships, whatever their status, most recently changed
/// first.
#[utoipa::path(
    get,
    path = "/api/friendships",
    tag = "friendships",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = [FriendshipDto]),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    )
)]
pub async fn list_friendships(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<Vec<FriendshipDto>>, ApiError> {
    let list = state.service.friendships(&actor).await?;
    Ok(axum::Json(
        list.iter()
            .map(|f| FriendshipDto::of(f, actor.id()))
            .collect(),
    ))
}

/// Ask a user to be friends. If they had already asked the caller, the
/// friendship is accepted; asking again, or asking a friend, changes nothing.
#[utoipa::path(
    post,
    path = "/api/friendships",
    tag = "friendships",
    request_body = FriendRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The friendship after the request", body = FriendshipDto),
        (status = 400, description = "Invalid payload (or the caller's own id)", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "The pair is blocked", body = ErrorBody),
    )
)]
pub async fn request_friendship(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(body): Json<FriendRequest>,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    let other = user_id(&body.user_id)?;
    let f = state.service.request_friendship(&actor, &other).await?;
    Ok(axum::Json(FriendshipDto::of(&f, actor.id())))
}

async fn respond(
    state: &AppState,
    actor: &crate::core::command::Actor,
    requester: &str,
    accept: bool,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    let requester = user_id(requester)?;
    let f = state
        .service
        .respond_friendship(actor, &requester, accept)
        .await?;
    Ok(axum::Json(FriendshipDto::of(&f, actor.id())))
}

/// Accept the pending friend request `userId` sent the caller.
#[utoipa::path(
    post,
    path = "/api/friendships/{userId}/accept",
    tag = "friendships",
    params(("userId" = String, Path, description = "The user who sent the request")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The accepted friendship", body = FriendshipDto),
        (status = 400, description = "Malformed user id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "The caller sent this request; only its addressee answers", body = ErrorBody),
        (status = 404, description = "No pending request from this user", body = ErrorBody),
        (status = 409, description = "The request was already answered the other way", body = ErrorBody),
    )
)]
pub async fn accept_friendship(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(requester): Path<String>,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    respond(&state, &actor, &requester, true).await
}

/// Reject the pending friend request `userId` sent the caller.
#[utoipa::path(
    post,
    path = "/api/friendships/{userId}/reject",
    tag = "friendships",
    params(("userId" = String, Path, description = "The user who sent the request")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rejected friendship", body = FriendshipDto),
        (status = 400, description = "Malformed user id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "The caller sent this request; only its addressee answers", body = ErrorBody),
        (status = 404, description = "No pending request from this user", body = ErrorBody),
        (status = 409, description = "The request was already answered the other way", body = ErrorBody),
    )
)]
pub async fn reject_friendship(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(requester): Path<String>,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    respond(&state, &actor, &requester, false).await
}

/// Block a user, friend or not: no direct messages either way until the
/// caller unblocks.
#[utoipa::path(
    post,
    path = "/api/friendships/{userId}/block",
    tag = "friendships",
    params(("userId" = String, Path, description = "The user to block")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The blocked friendship", body = FriendshipDto),
        (status = 400, description = "Malformed user id (or the caller's own)", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 409, description = "That user has already blocked the caller", body = ErrorBody),
    )
)]
pub async fn block_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(other): Path<String>,
) -> Result<axum::Json<FriendshipDto>, ApiError> {
    let other = user_id(&other)?;
    let f = state.service.block(&actor, &other).await?;
    Ok(axum::Json(FriendshipDto::of(&f, actor.id())))
}

/// Lift a block the caller set; the pair then has no friendship.
#[utoipa::path(
    delete,
    path = "/api/friendships/{userId}/block",
    tag = "friendships",
    params(("userId" = String, Path, description = "The blocked user")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 400, description = "Malformed user id", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "The other user set the block", body = ErrorBody),
        (status = 404, description = "The pair is not blocked", body = ErrorBody),
    )
)]
pub async fn unblock_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(other): Path<String>,
) -> Result<StatusCode, ApiError> {
    let other = user_id(&other)?;
    state.service.unblock(&actor, &other).await?;
    Ok(StatusCode::NO_CONTENT)
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
        .register_device(&actor, &body.token, body.platform.into())
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
