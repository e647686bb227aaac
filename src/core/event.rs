//! Domain events: what happened, published after it was stored. Each event
//! carries its audience and what rendering needs, so dialects render without
//! touching the store.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Conversation, ConversationKind, ExternalId, Friendship, Member, Message, Millis, UserId,
    UserSummary,
};

/// How dialects name a conversation: both ids (each dialect shows one or
/// the other), and whether it is a direct conversation (JobSpare names
/// those by the pair of their members).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationIds {
    pub id: i64,
    pub uuid: Uuid,
    pub direct: bool,
    /// The external id of an imported conversation.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

impl ConversationIds {
    /// The id the dialects that show string ids show (see
    /// [`Conversation::string_id`]).
    pub fn string_id(&self) -> String {
        self.external_id
            .map_or_else(|| self.id.to_string(), |e| e.as_str().to_owned())
    }
}

impl From<&Conversation> for ConversationIds {
    fn from(c: &Conversation) -> Self {
        ConversationIds {
            id: c.id,
            uuid: c.uuid,
            direct: c.kind == ConversationKind::Direct,
            external_id: c.external_id.as_deref().and_then(ExternalId::parse),
        }
    }
}

/// A message as a delivery receipt names it: what the fan-out needs to
/// record that a recipient's socket was sent it, and what dialects need to
/// tell its sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredMessage {
    pub conversation: ConversationIds,
    pub seq: i64,
    pub id: i64,
    pub uuid: Uuid,
    pub sender: UserId,
}

impl DeliveredMessage {
    pub fn new(m: &Message, conversation: ConversationIds) -> Self {
        DeliveredMessage {
            conversation,
            seq: m.seq,
            id: m.id,
            uuid: m.uuid,
            sender: m.sender_id.clone(),
        }
    }
}

/// At most this many messages are listed as covered by one read.
pub const MAX_READ_COVERED: u32 = 1000;

/// Serialized as JSON between the nodes of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DomainEvent {
    MessageCreated {
        conversation: ConversationIds,
        message: Message,
        sender: UserSummary,
        /// Every member of the conversation, the sender included.
        members: Vec<UserId>,
        /// The department of a support conversation: its agents hear of it.
        department: Option<i64>,
        /// Members who muted the conversation (no push for them).
        muted: Vec<UserId>,
        /// The socket the message was sent through (its runtime key), if
        /// it came through one: a dialect may leave that socket out of the
        /// message's own broadcast, as it has its answer already.
        #[serde(default)]
        from_socket: Option<String>,
    },
    MessageEdited {
        message: Message,
        /// Its author (the only one who may edit it).
        sender: UserSummary,
        members: Vec<UserId>,
    },
    MessageDeleted {
        message: Message,
        members: Vec<UserId>,
    },
    /// A member's read watermark moved forward to `up_to_seq`; `message` is
    /// the message they marked.
    MessagesRead {
        conversation: ConversationIds,
        reader: UserId,
        up_to_seq: i64,
        message: Message,
        at: Millis,
        members: Vec<UserId>,
        /// The messages of the other members that the read covers (those
        /// after the reader's previous watermark, up to `up_to_seq`),
        /// oldest first; the newest [`MAX_READ_COVERED`] of them at most.
        #[serde(default)]
        covered: Vec<Uuid>,
    },
    /// The delivery watermarks of `recipients` moved forward to
    /// `up_to_seq`, because `message` was sent to their sockets.
    MessagesDelivered {
        conversation: ConversationIds,
        message: DeliveredMessage,
        recipients: Vec<UserId>,
        up_to_seq: i64,
        at: Millis,
        members: Vec<UserId>,
    },
    Typing {
        conversation: ConversationIds,
        user: UserSummary,
        typing: bool,
        /// Recording a voice message rather than typing (V Chat shows it).
        recording: bool,
        /// The name the client gave for who is typing, if it gave one
        /// (Syarah shows it in place of the user's own).
        #[serde(default)]
        name: Option<String>,
        members: Vec<UserId>,
    },
    /// `user` came online or went offline `at` (for an offline user, when
    /// its last socket closed).
    Presence {
        user: UserId,
        online: bool,
        at: Millis,
        /// The user's contacts: users who share a conversation with `user`
        /// or are its accepted friends.
        audience: Vec<UserId>,
        /// Every user with a socket may hear it, not only `audience`
        /// (`presence.visible_to = "everyone"`).
        #[serde(default)]
        everyone: bool,
    },
    ConversationCreated {
        conversation: Conversation,
        members: Vec<UserId>,
    },
    MemberAdded {
        conversation: ConversationIds,
        user: UserId,
        members: Vec<UserId>,
    },
    /// A member opened a conversation on a socket (`Command::OpenRoom`,
    /// Syarah's `joinRoom`): the other viewers hear who came in.
    RoomEntered {
        conversation: ConversationIds,
        member: Member,
        user: UserSummary,
        members: Vec<UserId>,
    },
    /// What `audience` sees of a conversation changed without a message
    /// (a mute or unmute, a member's role, a group's title).
    RoomChanged {
        conversation: ConversationIds,
        audience: Vec<UserId>,
    },
    /// `by` lifted its block of `other` (a block is a `FriendshipChanged`).
    Unblocked { by: UserId, other: UserId },
    /// A user became an agent of a department (or changed role).
    AgentAdded { department: i64, user: UserId },
    /// A user is no longer an agent of a department.
    AgentRemoved { department: i64, user: UserId },
    MemberRemoved {
        conversation: ConversationIds,
        user: UserId,
        /// The members after the removal, and the removed user.
        members: Vec<UserId>,
    },
    /// A friendship was requested, answered or blocked; the audience is
    /// both users of the pair. (An unblock deletes the row and publishes
    /// nothing: the pair then has no friendship.)
    FriendshipChanged { friendship: Friendship },
}

impl DomainEvent {
    /// The one conversation the event is about, if it is about one.
    pub fn conversation_id(&self) -> Option<i64> {
        match self {
            DomainEvent::MessageCreated { conversation, .. }
            | DomainEvent::MessagesRead { conversation, .. }
            | DomainEvent::MessagesDelivered { conversation, .. }
            | DomainEvent::Typing { conversation, .. }
            | DomainEvent::MemberAdded { conversation, .. }
            | DomainEvent::RoomChanged { conversation, .. }
            | DomainEvent::RoomEntered { conversation, .. }
            | DomainEvent::MemberRemoved { conversation, .. } => Some(conversation.id),
            DomainEvent::MessageEdited { message, .. }
            | DomainEvent::MessageDeleted { message, .. } => Some(message.conversation_id),
            DomainEvent::ConversationCreated { conversation, .. } => Some(conversation.id),
            DomainEvent::Presence { .. }
            | DomainEvent::Unblocked { .. }
            | DomainEvent::AgentAdded { .. }
            | DomainEvent::AgentRemoved { .. }
            | DomainEvent::FriendshipChanged { .. } => None,
        }
    }
}

/// Where domain events go once stored: the fan-out.
pub trait Publisher: Send + Sync + 'static {
    fn publish(&self, event: DomainEvent);
}

#[cfg(test)]
pub mod testing {
    use super::*;
    use parking_lot::Mutex;

    /// A publisher that records what it is given.
    #[derive(Default)]
    pub struct Recorder(pub Mutex<Vec<DomainEvent>>);

    impl Publisher for Recorder {
        fn publish(&self, event: DomainEvent) {
            self.0.lock().push(event);
        }
    }

    impl Recorder {
        pub fn take(&self) -> Vec<DomainEvent> {
            std::mem::take(&mut *self.0.lock())
        }
    }
}
