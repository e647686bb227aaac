//! The core's model as the REST API shows it (camelCase JSON): users,
//! conversations with their members, and messages. Shared by the API's
//! areas ([`super::api`]), [`super::auth`] and [`super::departments`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::core::{
    Attachment, ConversationKind, ConversationSummary, DeliveryStatus, Member, Message,
    MessageKind, Role, User,
};

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

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => RoleDto::Owner,
            Role::Admin => RoleDto::Admin,
            Role::Member => RoleDto::Member,
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
    /// The same attachments, each with what its sender said of it.
    pub attachments: Vec<AttachmentDto>,
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

/// A message's attachment: its URL and what its sender said of it (the
/// fields it gave none of are left out).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Attachment)]
pub struct AttachmentDto {
    /// An http(s) URL or a path on this server (`/uploads/…`).
    pub url: String,
    /// The file's name as its sender gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Size in bytes, as its sender gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Of an image or video, in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Of audio or video, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl From<&Attachment> for AttachmentDto {
    fn from(a: &Attachment) -> Self {
        let m = &a.meta;
        AttachmentDto {
            url: a.url.clone(),
            name: m.name.clone(),
            size: m.size,
            content_type: m.content_type.clone(),
            width: m.width,
            height: m.height,
            duration_ms: m.duration_ms,
        }
    }
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
            attachment_urls: m.attachments.iter().map(|a| a.url.clone()).collect(),
            attachments: m.attachments.iter().map(AttachmentDto::from).collect(),
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
