//! The domain model, as the store returns it and the dialects render it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Millis, UserId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    /// Unique login name for users who registered with a password.
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub email: Option<String>,
    /// Known only by id so far (named as a member before their first token).
    pub placeholder: bool,
    pub created_at: Millis,
    pub last_seen_at: Option<Millis>,
    /// Disabled by an operator: may not log in, and no token of theirs is
    /// accepted.
    #[serde(default)]
    pub disabled: bool,
    /// Tokens issued (`iat`) before this time are refused; a token without
    /// `iat` is refused once this is set.
    #[serde(default)]
    pub tokens_valid_after: Option<Millis>,
    /// The account was deleted at this time: the row stays, emptied of
    /// personal data, as the sender of the messages it sent.
    #[serde(default)]
    pub deleted_at: Option<Millis>,
}

impl User {
    /// Why a token of this user issued at `issued_at` (seconds since the
    /// epoch, the `iat` claim) is refused, or `None` if it is accepted.
    pub fn token_refusal(&self, issued_at: Option<u64>) -> Option<&'static str> {
        if self.deleted_at.is_some() {
            return Some("this account was deleted");
        }
        if self.disabled {
            return Some("this account is disabled");
        }
        let after = self.tokens_valid_after?;
        match issued_at {
            None => Some("token revoked: it has no iat claim; log in again"),
            Some(iat) if (iat as i128) * 1000 < after as i128 => {
                Some("token revoked: log in again")
            }
            Some(_) => None,
        }
    }
    /// The best name to show: display name, else username, else the id.
    pub fn name(&self) -> &str {
        self.display_name
            .as_deref()
            .or(self.username.as_deref())
            .unwrap_or(self.id.as_str())
    }
}

/// Profile facts from a verified token or a registration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub email: Option<String>,
}

/// What events carry about a sender, so rendering needs no store lookups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    pub id: UserId,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

impl From<&User> for UserSummary {
    fn from(u: &User) -> Self {
        UserSummary {
            id: u.id.clone(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            avatar_url: u.avatar_url.clone(),
        }
    }
}

impl UserSummary {
    pub fn name(&self) -> &str {
        self.display_name
            .as_deref()
            .or(self.username.as_deref())
            .unwrap_or(self.id.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Direct,
    Group,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    pub fn can_moderate(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: i64,
    pub uuid: Uuid,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub created_by: UserId,
    pub created_at: Millis,
    /// Sequence number of the newest message (0 when empty).
    pub last_seq: i64,
    /// Time of the newest message, or of creation.
    pub updated_at: Millis,
    /// The department of a support conversation (a group that a visitor
    /// opened in a department, answered by its agents).
    pub department_id: Option<i64>,
    /// The id it had in the system it was imported from, when that id was
    /// neither a number nor a UUID (a Mongo ObjectId): what the dialects
    /// that show string ids show instead of `id`.
    #[serde(default)]
    pub external_id: Option<String>,
}

impl Conversation {
    /// The id the dialects that show string ids (V Chat, Voxora) show: the
    /// external id of an imported conversation, else the decimal id.
    pub fn string_id(&self) -> String {
        self.external_id
            .clone()
            .unwrap_or_else(|| self.id.to_string())
    }
}

/// A support desk department: agents answer the support conversations
/// that visitors open in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Department {
    pub id: i64,
    pub uuid: Uuid,
    pub name: String,
    pub created_by: UserId,
    pub created_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentRole {
    /// Adds and removes agents.
    Admin,
    Agent,
}

impl AgentRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentRole::Admin => "admin",
            AgentRole::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<AgentRole> {
        match s {
            "admin" => Some(AgentRole::Admin),
            "agent" => Some(AgentRole::Agent),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub department_id: i64,
    pub user_id: UserId,
    pub role: AgentRole,
    pub added_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub conversation_id: i64,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: Millis,
    /// Highest sequence number this member has read (0: none).
    pub last_read_seq: i64,
    /// Highest sequence number delivered to one of this member's sockets.
    pub last_delivered_seq: i64,
    /// The member muted the conversation: no push notifications for it.
    pub muted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: i64,
    pub uuid: Uuid,
    pub conversation_id: i64,
    pub conversation_uuid: Uuid,
    /// Per-conversation sequence number, from 1, without gaps.
    pub seq: i64,
    pub sender_id: UserId,
    /// What the message carries: text, or the kind of its one attachment.
    pub kind: MessageKind,
    /// The kind its sender declared, when that is not `kind`: a text sent
    /// as a media kind (Syarah's `messageType` 1–4 with text), shown back
    /// as it was sent.
    #[serde(default)]
    pub declared_kind: Option<MessageKind>,
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    pub client_id: Option<String>,
    pub created_at: Millis,
    pub edited_at: Option<Millis>,
    pub deleted_at: Option<Millis>,
    /// The id it had in the system it was imported from, when that id was
    /// neither a number nor a UUID (see [`Conversation::external_id`]).
    #[serde(default)]
    pub external_id: Option<String>,
    /// Its conversation's `external_id`.
    #[serde(default)]
    pub conversation_external_id: Option<String>,
}

impl Message {
    /// The id the dialects that show string ids show: the external id of
    /// an imported message, else the decimal id.
    pub fn string_id(&self) -> String {
        self.external_id
            .clone()
            .unwrap_or_else(|| self.id.to_string())
    }

    /// Its conversation's id as the dialects that show string ids show it.
    pub fn conversation_string_id(&self) -> String {
        self.conversation_external_id
            .clone()
            .unwrap_or_else(|| self.conversation_id.to_string())
    }

    /// Where the attachments are, in order (what most dialects show).
    pub fn attachment_urls(&self) -> Vec<&str> {
        self.attachments.iter().map(|a| a.url.as_str()).collect()
    }

    /// The first `n` characters of the text (or a stand-in for attachments).
    pub fn preview(&self, n: usize) -> String {
        match &self.text {
            Some(t) if !t.is_empty() => t.chars().take(n).collect(),
            _ if !self.attachments.is_empty() => "[attachment]".to_owned(),
            _ => String::new(),
        }
    }
}

/// A file a message carries: where it is, and what its sender said of it.
/// Every dialect shows the URL; each shows the metadata it has fields for.
/// (Read from JSON, a bare URL string is an attachment without metadata:
/// the form events between the nodes of a cluster had before.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "AttachmentJson")]
pub struct Attachment {
    /// An http(s) URL, or a path on this server (`/uploads/…`).
    pub url: String,
    #[serde(flatten)]
    pub meta: AttachmentMeta,
}

impl Attachment {
    /// An attachment without metadata.
    pub fn new(url: impl Into<String>) -> Self {
        Attachment {
            url: url.into(),
            meta: AttachmentMeta::default(),
        }
    }
}

impl From<String> for Attachment {
    fn from(url: String) -> Self {
        Attachment::new(url)
    }
}

impl From<&str> for Attachment {
    fn from(url: &str) -> Self {
        Attachment::new(url)
    }
}

/// An attachment as JSON: an object, or a bare URL.
#[derive(Deserialize)]
#[serde(untagged)]
enum AttachmentJson {
    Url(String),
    Object {
        url: String,
        #[serde(flatten)]
        meta: AttachmentMeta,
    },
}

impl From<AttachmentJson> for Attachment {
    fn from(a: AttachmentJson) -> Self {
        match a {
            AttachmentJson::Url(url) => Attachment::new(url),
            AttachmentJson::Object { url, meta } => Attachment { url, meta },
        }
    }
}

/// What a sender said of an attachment, as sent (checked by
/// `ids::validate_attachment`); every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentMeta {
    /// The file's name as the sender's user knew it (`photo.jpg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Media type (`image/jpeg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Of an image or a video, in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Of audio or a video, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// A still of a video shown before it plays (V Chat's `imageUrl` of a
    /// video): an http(s) URL or a server path, held to the rule of the
    /// attachment URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

impl AttachmentMeta {
    /// Nothing was said of the attachment.
    pub fn is_empty(&self) -> bool {
        *self == AttachmentMeta::default()
    }
}

/// How far a message got, from its sender's side: to every other member's
/// socket (`Delivered`), read by every other member (`Read`), else `Sent`.
/// Derived from the members' watermarks; in a group it is the minimum over
/// the other members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
}

impl DeliveryStatus {
    pub fn of(message: &Message, members: &[Member]) -> DeliveryStatus {
        let others = members.iter().filter(|m| m.user_id != message.sender_id);
        let (mut read, mut delivered, mut any) = (i64::MAX, i64::MAX, false);
        for m in others {
            any = true;
            read = read.min(m.last_read_seq);
            delivered = delivered.min(m.last_read_seq.max(m.last_delivered_seq));
        }
        if !any {
            DeliveryStatus::Sent
        } else if read >= message.seq {
            DeliveryStatus::Read
        } else if delivered >= message.seq {
            DeliveryStatus::Delivered
        } else {
            DeliveryStatus::Sent
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
        }
    }
}

/// What a message carries. The codes are Syarah's `messageType`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    #[default]
    Text,
    Audio,
    Image,
    File,
    Video,
}

impl MessageKind {
    pub const ALL: [MessageKind; 5] = [
        MessageKind::Text,
        MessageKind::Audio,
        MessageKind::Image,
        MessageKind::File,
        MessageKind::Video,
    ];

    /// Syarah's `messageType`: 0 text, 1 audio, 2 image, 3 file, 4 video.
    pub fn as_code(self) -> i64 {
        match self {
            MessageKind::Text => 0,
            MessageKind::Audio => 1,
            MessageKind::Image => 2,
            MessageKind::File => 3,
            MessageKind::Video => 4,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(MessageKind::Text),
            1 => Some(MessageKind::Audio),
            2 => Some(MessageKind::Image),
            3 => Some(MessageKind::File),
            4 => Some(MessageKind::Video),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Audio => "audio",
            MessageKind::Image => "image",
            MessageKind::File => "file",
            MessageKind::Video => "video",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A new message as the core hands it to the store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub conversation_id: i64,
    pub sender_id: UserId,
    pub kind: MessageKind,
    /// The kind the sender declared, when that is not `kind`.
    pub declared_kind: Option<MessageKind>,
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    pub client_id: Option<String>,
    pub created_at: Millis,
}

/// A conversation as listed for one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub conversation: Conversation,
    pub members: Vec<Member>,
    pub last_message: Option<Message>,
    pub unread_count: i64,
}

/// A cursor page of a conversation's history, by sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Only messages with a sequence number below this.
    pub before_seq: Option<i64>,
    /// Only messages with a sequence number above this.
    pub after_seq: Option<i64>,
    pub limit: u32,
}

/// Presence of one user, as the fan-out knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceStatus {
    pub user_id: UserId,
    pub online: bool,
    pub last_seen_at: Option<Millis>,
}

/// Where a friendship between two users stands. The codes are stored and
/// shown by the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FriendshipStatus {
    Pending = 0,
    Accepted = 1,
    Rejected = 2,
    Blocked = 3,
}

impl FriendshipStatus {
    pub fn as_code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(FriendshipStatus::Pending),
            1 => Some(FriendshipStatus::Accepted),
            2 => Some(FriendshipStatus::Rejected),
            3 => Some(FriendshipStatus::Blocked),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FriendshipStatus::Pending => "pending",
            FriendshipStatus::Accepted => "accepted",
            FriendshipStatus::Rejected => "rejected",
            FriendshipStatus::Blocked => "blocked",
        }
    }
}

/// The one relation between an unordered pair of users: `requester` asked
/// `addressee` (or, for a block with no prior request, blocked them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Friendship {
    pub requester: UserId,
    pub addressee: UserId,
    pub status: FriendshipStatus,
    /// Set when `status` is `Blocked`: who blocked.
    pub blocked_by: Option<UserId>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Friendship {
    /// The user of the pair who is not `me` (the addressee if `me` is neither).
    pub fn other(&self, me: &UserId) -> &UserId {
        if &self.requester == me {
            &self.addressee
        } else {
            &self.requester
        }
    }

    pub fn involves(&self, u: &UserId) -> bool {
        &self.requester == u || &self.addressee == u
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DevicePlatform {
    Android,
    Ios,
    Web,
}

impl DevicePlatform {
    pub fn as_str(self) -> &'static str {
        match self {
            DevicePlatform::Android => "android",
            DevicePlatform::Ios => "ios",
            DevicePlatform::Web => "web",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "android" => Some(DevicePlatform::Android),
            "ios" => Some(DevicePlatform::Ios),
            "web" => Some(DevicePlatform::Web),
            _ => None,
        }
    }
}

/// A push token of one of a user's devices. A token belongs to one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub user_id: UserId,
    pub token: String,
    pub platform: DevicePlatform,
    pub created_at: Millis,
    /// The shape of the push data the device's app reads, named by the
    /// dialect that registered it (V Chat's `vchat`); `None`: confab's
    /// neutral data (see `crate::push`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_format: Option<String>,
}

/// A file uploaded to this server, by server path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Upload {
    /// e.g. `/uploads/chat-messages/images/<random>.webp`
    pub path: String,
    pub owner: UserId,
    pub kind: MessageKind,
    pub content_type: String,
    pub size: i64,
    pub created_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refused_for_a_disabled_deleted_or_revoked_user() {
        let mut u = User {
            id: UserId::parse("u").expect("id"),
            username: None,
            display_name: None,
            avatar_url: None,
            email: None,
            placeholder: false,
            created_at: 0,
            last_seen_at: None,
            disabled: false,
            tokens_valid_after: None,
            deleted_at: None,
        };
        assert_eq!(u.token_refusal(None), None);
        assert_eq!(u.token_refusal(Some(1)), None);
        u.tokens_valid_after = Some(13_000);
        assert_eq!(u.token_refusal(Some(13)), None);
        assert!(
            u.token_refusal(Some(12))
                .is_some_and(|w| w.contains("revoked"))
        );
        assert!(u.token_refusal(None).is_some_and(|w| w.contains("iat")));
        u.disabled = true;
        assert_eq!(u.token_refusal(Some(99)), Some("this account is disabled"));
        u.deleted_at = Some(1);
        assert_eq!(u.token_refusal(Some(99)), Some("this account was deleted"));
    }

    fn member(user: &str, read: i64, delivered: i64) -> Member {
        Member {
            conversation_id: 1,
            user_id: UserId::parse(user).expect("id"),
            role: Role::Member,
            joined_at: 0,
            last_read_seq: read,
            last_delivered_seq: delivered,
            muted: false,
        }
    }

    fn message(seq: i64) -> Message {
        Message {
            id: seq,
            uuid: Uuid::nil(),
            conversation_id: 1,
            conversation_uuid: Uuid::nil(),
            seq,
            sender_id: UserId::parse("alice").expect("id"),
            kind: MessageKind::Text,
            declared_kind: None,
            text: Some("x".into()),
            attachments: vec![],
            client_id: None,
            created_at: 0,
            edited_at: None,
            deleted_at: None,
            external_id: None,
            conversation_external_id: None,
        }
    }

    #[test]
    fn an_attachment_is_json_with_only_what_its_sender_gave_or_a_bare_url() {
        let photo = Attachment {
            url: "/uploads/p.webp".into(),
            meta: AttachmentMeta {
                name: Some("photo.jpg".into()),
                size: Some(245_678),
                duration_ms: Some(1500),
                ..AttachmentMeta::default()
            },
        };
        let json = serde_json::json!({
            "url": "/uploads/p.webp", "name": "photo.jpg", "size": 245_678, "durationMs": 1500
        });
        assert_eq!(serde_json::to_value(&photo).unwrap(), json);
        assert_eq!(serde_json::from_value::<Attachment>(json).unwrap(), photo);
        // Events of nodes from before attachments had metadata.
        assert_eq!(
            serde_json::from_value::<Vec<Attachment>>(serde_json::json!(["https://x/y.png"]))
                .unwrap(),
            vec![Attachment::new("https://x/y.png")]
        );
        assert!(Attachment::new("/a").meta.is_empty());
        assert!(!photo.meta.is_empty());
    }

    #[test]
    fn delivery_status_is_the_minimum_over_the_other_members() {
        let members = [
            member("alice", 0, 0),
            member("bob", 3, 5),
            member("carol", 1, 4),
        ];
        assert_eq!(
            DeliveryStatus::of(&message(1), &members),
            DeliveryStatus::Read
        );
        assert_eq!(
            DeliveryStatus::of(&message(2), &members),
            DeliveryStatus::Delivered
        );
        assert_eq!(
            DeliveryStatus::of(&message(4), &members),
            DeliveryStatus::Delivered
        );
        assert_eq!(
            DeliveryStatus::of(&message(5), &members),
            DeliveryStatus::Sent
        );
        // A read watermark ahead of the delivery one counts as delivered too.
        let members = [member("alice", 0, 0), member("bob", 6, 0)];
        assert_eq!(
            DeliveryStatus::of(&message(5), &members),
            DeliveryStatus::Read
        );
        // Alone in the conversation: nobody else has it.
        assert_eq!(
            DeliveryStatus::of(&message(1), &members[..1]),
            DeliveryStatus::Sent
        );
    }
}
