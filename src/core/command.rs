//! What a connected client can ask of the core, independent of any dialect.
//! Dialects decode their events into these and encode the outcomes back.

use super::event::ConversationIds;
use super::views::{ConversationView, FriendView, HistoryPage};
use super::{
    Attachment, Conversation, ConversationRef, Department, Message, MessageKind, MessageRef,
    PresenceStatus, RowRef, Upload, UserId, UserSummary,
};

/// The authenticated user behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: UserSummary,
}

impl Actor {
    pub fn id(&self) -> &UserId {
        &self.user.id
    }
}

/// A message to send, as decoded from a client (not yet validated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendMessage {
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    pub client_id: Option<String>,
    /// What the client says it sends; `None` lets the core decide (text
    /// without attachments, else the kind of a recorded upload, else file).
    pub kind: Option<MessageKind>,
    /// The kind the client declared when it is not the message's own (a
    /// text sent with a media type: see [`crate::core::Message::declared_kind`]).
    pub declared_kind: Option<MessageKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start receiving a conversation's events on this socket.
    Join {
        conversation: ConversationTarget,
    },
    /// Stop receiving them.
    Leave {
        conversation: ConversationTarget,
    },
    Send {
        conversation: ConversationTarget,
        message: SendMessage,
    },
    /// Send what a client gave in one field that holds either a file or
    /// text (Syarah's `message` with `messageType` 1–4): an attachment URL
    /// is the file, of `kind`, with `caption` as its text; anything else
    /// is a text message (the caption dropped), stored with `kind` as the
    /// kind the client declared, so that it is shown back as sent.
    SendFileOrText {
        conversation: ConversationTarget,
        body: String,
        kind: MessageKind,
        caption: Option<String>,
    },
    Typing {
        conversation: ConversationTarget,
        typing: bool,
        /// Recording a voice message rather than typing (V Chat).
        recording: bool,
        /// The name the client gave for who is typing (Syarah's
        /// `roomTyping.name`), shown in place of the user's own.
        name: Option<String>,
    },
    MarkRead {
        message: MessageRef,
    },
    OnlineStatus {
        users: Vec<UserId>,
    },
    Edit {
        message: MessageRef,
        text: String,
    },
    Delete {
        message: MessageRef,
    },
    /// Join a conversation's room and get it whole: by id, or the direct
    /// conversation with a peer (created on first use).
    OpenRoom {
        target: RoomTarget,
    },
    /// A page of history: `skip` back from the newest (or from before
    /// `before`), then `limit` older messages. With `include_deleted`,
    /// deleted messages are counted and returned (as tombstones); without,
    /// the page and its total count only the messages not deleted.
    History {
        conversation: ConversationRef,
        before: Option<MessageRef>,
        skip: u32,
        limit: u32,
        include_deleted: bool,
    },
    /// The actor's conversations; for each `(conversation, message)` in
    /// `catch_up`, what came after that message.
    Conversations {
        catch_up: Vec<(ConversationRef, MessageRef)>,
        direct_only: bool,
        skip: u32,
        limit: u32,
    },
    /// Mark a conversation read up to the newest of `messages` (all of them
    /// must be in it; none: up to its newest message).
    ReadMessages {
        conversation: ConversationTarget,
        messages: Vec<MessageRef>,
    },
    /// Mark everything in a conversation read.
    ReadConversation {
        conversation: ConversationTarget,
    },
    DeleteMany {
        conversation: ConversationRef,
        messages: Vec<MessageRef>,
    },
    /// The actor's accepted friends.
    Friends,
    /// One conversation as the actor sees it.
    Room {
        conversation: ConversationRef,
    },
    /// The actor's direct conversation with `peer`, if there is one.
    DirectRoomWith {
        peer: UserId,
    },
    /// Open a conversation to show it: everything in it becomes read, and
    /// its newest `limit` messages are returned.
    ViewRoom {
        conversation: ConversationRef,
        limit: u32,
    },
    /// The ids of the actor's conversations and its departments: the rooms
    /// a socket joins on connect.
    Rooms,
    /// A department, if the actor is one of its agents.
    AgentOf {
        department: RowRef,
    },
}

/// How a client names a conversation: by its id or UUID, or (JobSpare) by
/// `<userA>_<userB>`, the direct conversation of those two users, which
/// the core resolves (creating it on first use) only for one of the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationTarget {
    Ref(ConversationRef),
    Pair(String),
}

impl From<ConversationRef> for ConversationTarget {
    fn from(r: ConversationRef) -> Self {
        ConversationTarget::Ref(r)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomTarget {
    Conversation(ConversationRef),
    Peer(UserId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
// A transient answer, moved once: its largest variants (a conversation
// and a message with their ids) are not worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// The conversation joined, and its members.
    Joined {
        conversation: Conversation,
        members: Vec<UserId>,
    },
    Left(Conversation),
    /// The stored message; `created` is false for a client-id retry.
    Sent {
        message: Message,
        sender: UserSummary,
        created: bool,
        conversation: ConversationIds,
        members: Vec<UserId>,
    },
    Typing {
        conversation: Conversation,
        typing: bool,
    },
    /// The reader's watermark after the call (unchanged if already past).
    Read {
        message: Message,
        up_to_seq: i64,
    },
    OnlineStatus(Vec<PresenceStatus>),
    Edited(Message),
    Deleted(Message),
    RoomOpened {
        me: UserId,
        view: Box<ConversationView>,
        created: bool,
    },
    History(HistoryPage),
    Conversations {
        me: UserId,
        views: Vec<ConversationView>,
        total: usize,
        direct_only: bool,
    },
    ConversationRead {
        conversation: Conversation,
        up_to_seq: i64,
    },
    DeletedMany(Vec<Message>),
    Friends(Vec<FriendView>),
    Departments(Vec<Department>),
    /// One conversation as the actor sees it.
    Room(Box<ConversationView>),
    Rooms {
        conversations: Vec<i64>,
        departments: Vec<Department>,
    },
    /// A file stored by the upload pipeline.
    Uploaded(Upload),
}

impl Outcome {
    /// The one conversation the outcome is about, if it is about one.
    pub fn conversation_id(&self) -> Option<i64> {
        match self {
            Outcome::Joined { conversation, .. }
            | Outcome::Left(conversation)
            | Outcome::Typing { conversation, .. }
            | Outcome::ConversationRead { conversation, .. } => Some(conversation.id),
            Outcome::Sent { conversation, .. } => Some(conversation.id),
            Outcome::Read { message, .. }
            | Outcome::Edited(message)
            | Outcome::Deleted(message) => Some(message.conversation_id),
            _ => None,
        }
    }
}
